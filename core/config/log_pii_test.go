package config

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// The personal-data words of `anonymize`: parsed into the model,
// accumulated over several `anonymize` options, refused at their word.
func TestAnonymizePII(t *testing.T) {
	c, d := load(t, "global\n    log 127.0.0.1 anonymize ip 24,48 anonymize params Email,token anonymize mask drop,card=truncate anonymize pii email,card local0\n")
	if d.HasErrors() {
		t.Fatal(render(d))
	}
	a := c.Global.Logs[0].Anonymize
	if a.Mode != "ip" || a.PII != "email,card" || strings.Join(a.Params, ",") != "email,token" || a.Mask != "drop,card=truncate" {
		t.Errorf("parsed %+v", a)
	}
	for line, want := range map[string]string{
		"log 127.0.0.1 anonymize pii email,ssn local0":                             `unknown personal data class "ssn"`,
		"log 127.0.0.1 anonymize mask blur local0":                                 `unknown mask "blur"`,
		"log 127.0.0.1 anonymize mask drop,hash local0":                            `must name its class`,
		"log 127.0.0.1 anonymize mask drop,ssn=hash local0":                        `unknown personal data class "ssn"`,
		"log 127.0.0.1 anonymize params a=b local0":                                `invalid parameter name "a=b"`,
		"log 127.0.0.1 anonymize ip 24,48 anonymize mask hash local0":              `anonymize mask hash needs the keys of anonymize hmac`,
		"log 127.0.0.1 anonymize ip 24,48 anonymize hmac /tmp/k local0":            `anonymize hmac after anonymize ip`,
		"log 127.0.0.1 anonymize params email local0":                              "",
		"log 127.0.0.1 anonymize hmac /tmp/k anonymize mask hash,card=drop local0": "",
	} {
		_, d := load(t, "global\n    "+line+"\n")
		var errs []string
		for _, it := range d.Items() {
			if it.Severity == diag.Error {
				errs = append(errs, it.String())
			}
		}
		switch {
		case want == "" && len(errs) > 0:
			t.Errorf("%s: refused: %v", line, errs)
		case want != "" && (len(errs) == 0 || !strings.Contains(errs[0], want) || !strings.Contains(errs[0], "log anonymize")):
			t.Errorf("%s: got %v, want %q", line, errs, want)
		}
	}
	// A stored target with only parameter masking still keeps raw
	// addresses: the warning stands.
	_, d = load(t, "global\n    log file@/tmp/a.log anonymize params email local0\n")
	if !strings.Contains(render(d), "stores raw client IP addresses") {
		t.Errorf("no warning:\n%s", render(d))
	}
}
