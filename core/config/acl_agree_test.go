package config

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// TestACLsAgreeWithEngine pins that `varde check` accepts exactly the ACLs
// the engine's compiler (core/acl) can evaluate: what check accepts, run
// must be able to start with, and what run refuses, check must report.
func TestACLsAgreeWithEngine(t *testing.T) {
	tests := []struct {
		name    string
		acl     string
		cond    string
		wantErr string // "" = accepted
	}{
		{"url_len is supported", "acl long url_len gt 100", "long", ""},
		{"cook_len is supported", "acl c cook_len(sid) gt 3", "c", ""},
		{"nbsrv of an unknown backend", "acl dead nbsrv(app) lt 1", "dead", `nbsrv: no backend "app"`},
		{"ssl_fc_sni is supported", "acl sni ssl_fc_sni -i example.com", "sni", ""},
		{"nbsrv is supported", "acl up nbsrv(b) gt 0", "up", ""},
		{"unknown criterion", "acl x path_begins /a", "x", "unknown ACL criterion"},
		{"bad regex", "acl r path_reg ^(/a", "r", "path_reg"},
		{"predefined HTTP_1.0 is refused", "acl a path /", "HTTP_1.0", "predefined ACL"},
		{"predefined METH_GET is fine", "acl a path /", "METH_GET", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := okDefaults + "\nfrontend f\n    bind 127.0.0.1:8080\n    " + tt.acl +
				"\n    use_backend b if " + tt.cond + "\n    default_backend b\nbackend b\n    server s 127.0.0.1:9000\n"
			_, d := load(t, src)
			errs := errorsOf(d)
			if tt.wantErr == "" {
				if len(errs) != 0 {
					t.Fatalf("want no error, got:\n%s", render(d))
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("want an error containing %q, got none", tt.wantErr)
			}
			var e diag.Diagnostic = errs[0]
			if !strings.Contains(e.String(), tt.wantErr) {
				t.Fatalf("got %s, want it to mention %q", e, tt.wantErr)
			}
		})
	}
}
