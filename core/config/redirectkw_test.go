package config

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// TestRedirectKeyword: `redirect` lines land in Proxy.Redirects (not among
// the http-request rules, which HAProxy evaluates first); the options not
// built yet and a defaults section are refused.
func TestRedirectKeyword(t *testing.T) {
	tests := []struct {
		section, line, err string
		redirects          int
	}{
		{"frontend f\n    bind :80", "redirect scheme https if !{ ssl_fc }", "", 1},
		{"backend b", "redirect location /x code 307", "", 1},
		{"frontend f\n    bind :80", "redirect prefix https://a.example drop-query", "drop-query is not built yet", 0},
		{"frontend f\n    bind :80", "redirect sideways /x", "unknown redirect type", 0},
		{"defaults", "redirect location /x", "redirect", 0},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			d := &diag.List{}
			src := "defaults\n    mode http\n" + tt.section + "\n    http-request allow\n    " + tt.line + "\n"
			c := Parse("f.cfg", []byte(src), func(string) string { return "" }, d)
			var errs []string
			for _, it := range d.Items() {
				if it.Severity == diag.Error {
					errs = append(errs, it.String())
				}
			}
			if tt.err != "" {
				if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), tt.err) {
					t.Fatalf("want an error containing %q, got %q", tt.err, errs)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("unexpected errors: %q", errs)
			}
			px := c.Proxies[len(c.Proxies)-1]
			if len(px.Redirects) != tt.redirects || len(px.HTTPRequest) != 1 || px.Redirects[0].Action != "redirect" {
				t.Fatalf("redirects %d, http-request %d; want %d and 1 (the allow)", len(px.Redirects), len(px.HTTPRequest), tt.redirects)
			}
		})
	}
}
