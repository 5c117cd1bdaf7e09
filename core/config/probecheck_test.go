package config_test

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
)

// TestCheckProbes: the http probe judges its expect rules when the
// configuration is checked, at the rule's line.
func TestCheckProbes(t *testing.T) {
	for rule, want := range map[string]string{
		"http-check expect status 200":           "",
		"http-check expect rstatus ^2":           "",
		"http-check expect ! string maintenance": "",
		"http-check expect rstring ^OK$":         "",
		"http-check expect rstring (":            "t.cfg:4: error: http-check expect: http-check expect rstring \"(\": error parsing regexp: missing closing ): `(` (hint: a regular expression in Go's RE2 syntax",
		"http-check expect rstatus (?<=x)2":      "t.cfg:4: error: http-check expect: http-check expect rstatus",
	} {
		var d diag.List
		cfg := config.Parse("t.cfg", []byte("backend b\n mode http\n option httpchk\n "+rule+"\n server s 127.0.0.1:80 check\n"), nil, &d)
		if d.HasErrors() {
			t.Fatalf("%s: parse: %v", rule, d.Err())
		}
		cfg.CheckProbes(&d)
		errs := errorsIn(&d)
		switch {
		case want == "" && len(errs) > 0:
			t.Errorf("%s: refused: %v", rule, errs)
		case want != "" && (len(errs) != 1 || !strings.HasPrefix(errs[0].String(), want)):
			t.Errorf("%s: got %v\nwant %s...", rule, errs, want)
		}
	}
}
