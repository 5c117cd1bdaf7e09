package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
	"github.com/varde-lb/varde/core/tlsx/tlstest"
)

// TestCipherTypoAgainstHAProxy: a cipher string with an element that
// names nothing (the corpus' "DH+AE$", a cut-short DH+AES) runs in HAProxy
// 2.6 and in varde; openssl s_client negotiates the same suites with both
// (the ECDHE ones the string selects) and is refused the same others.
func TestCipherTypoAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	testenv.LookTool(t, "openssl", "openssl")
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Typo CA")
	ca.Issue(t, tlstest.Opts{DNS: []string{"rsa.example.com"}, RSA: true}).Write(t, dir, "rsa.pem")
	const ciphers = "ECDH+AESGCM:ECDH+AES256:DH+AE$"
	cfg := func(port int) string {
		return strings.ReplaceAll(fmt.Sprintf(`global
    ssl-default-bind-ciphers %s
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend f
    bind 127.0.0.1:%d ssl crt DIR/rsa.pem
    http-request return status 200
`, ciphers, port), "DIR", dir)
	}
	hport, vport := testenv.FreePort(t), testenv.FreePort(t)
	hcfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(hcfg, []byte(cfg(hport)), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Start(t, hap, "-db", "-f", hcfg)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", hport), 10*time.Second)
	startVarde(t, dir, cfg(vport), vport)
	for _, c := range []struct {
		cipher string
		ok     bool
	}{
		{"ECDHE-RSA-AES128-GCM-SHA256", true},
		{"ECDHE-RSA-AES256-GCM-SHA384", true},
		{"ECDHE-RSA-AES256-SHA", true},
		{"ECDHE-RSA-AES128-SHA", false},
		{"AES128-GCM-SHA256", false},
		{"ECDHE-RSA-CHACHA20-POLY1305", false},
	} {
		for name, port := range map[string]int{"haproxy": hport, "varde": vport} {
			out := sClient(t, port, "-tls1_2", "-cipher", c.cipher, "-servername", "rsa.example.com")
			if got := strings.Contains(out, "Cipher is "+c.cipher); got != c.ok {
				t.Errorf("%s: negotiated %s = %v, want %v; s_client said:\n%s", name, c.cipher, got, c.ok, out)
			}
		}
	}
}
