package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/testenv"
	"github.com/varde-lb/varde/core/tlsx/tlstest"
)

// mozillaIntermediate is the cipher list most real haproxy.cfg files copy
// (Mozilla's "intermediate" profile): six ECDHE suites, then DHE ones Go's
// TLS lacks.
const mozillaIntermediate = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384"

// TestMozillaIntermediateCiphers: varde runs a config with the Mozilla list
// unchanged; a real openssl client negotiates the ECDHE suites it names and
// the DHE ones are not offered (the handshake fails), so the set is
// stricter than HAProxy's, never weaker; a suite outside the list (CBC) is
// refused too.
func TestMozillaIntermediateCiphers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde")
	}
	testenv.LookTool(t, "openssl", "openssl")
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Cipher CA")
	ca.Issue(t, tlstest.Opts{DNS: []string{"rsa.example.com"}, RSA: true}).Write(t, dir, "rsa.pem")
	port := testenv.FreePort(t)
	cfg := fmt.Sprintf(`global
    ssl-default-bind-ciphers %s
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend f
    bind 127.0.0.1:%d ssl crt DIR/rsa.pem
    http-request return status 200
`, mozillaIntermediate, port)
	startVarde(t, dir, cfg, port)
	tests := []struct {
		cipher string
		ok     bool
	}{
		{"ECDHE-RSA-AES128-GCM-SHA256", true},
		{"ECDHE-RSA-CHACHA20-POLY1305", true},
		{"DHE-RSA-AES128-GCM-SHA256", false},
		{"DHE-RSA-AES256-GCM-SHA384", false},
		{"ECDHE-RSA-AES128-SHA", false},
	}
	for _, tt := range tests {
		t.Run(tt.cipher, func(t *testing.T) {
			out := sClient(t, port, "-tls1_2", "-cipher", tt.cipher, "-servername", "rsa.example.com")
			got := strings.Contains(out, "Cipher is "+tt.cipher)
			if got != tt.ok {
				t.Errorf("negotiated %s = %v, want %v; s_client said:\n%s", tt.cipher, got, tt.ok, out)
			}
		})
	}
}
