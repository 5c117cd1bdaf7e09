package config

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// TestCipherLines: a cipher list naming suites Go lacks is accepted with one
// warning naming them (they are not offered); a list left with nothing Go
// implements is refused; ssl-default-server-ciphersuites takes only Go's
// fixed TLS 1.3 set.
func TestCipherLines(t *testing.T) {
	tests := []struct {
		line, sev, want string
	}{
		{"ssl-default-bind-ciphers ECDHE+AESGCM:DHE-RSA-AES128-GCM-SHA256", "warning", "not offered, Go's TLS does not implement them: DHE-RSA-AES128-GCM-SHA256"},
		{"ssl-default-bind-ciphers HIGH:!aNULL", "", ""},
		{"ssl-default-bind-ciphers DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384", "error", "selects no cipher suite Go implements"},
		{"ssl-default-server-ciphersuites TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384", "", ""},
		{"ssl-default-server-ciphersuites TLS_AES_128_GCM_SHA256", "error", "cannot leave it out"},
		{"ssl-default-server-ciphersuites TLS_AES_128_CCM_SHA256", "error", "does not implement it"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			d := &diag.List{}
			Parse("f.cfg", []byte("global\n    "+tt.line+"\n"), func(string) string { return "" }, d)
			var got []string
			for _, it := range d.Items() {
				got = append(got, it.String())
			}
			all := strings.Join(got, "\n")
			if tt.sev == "" {
				if all != "" {
					t.Fatalf("want no diagnostic, got:\n%s", all)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(all, ": "+tt.sev+": ") || !strings.Contains(all, tt.want) {
				t.Fatalf("want one %s containing %q, got:\n%s", tt.sev, tt.want, all)
			}
		})
	}
}
