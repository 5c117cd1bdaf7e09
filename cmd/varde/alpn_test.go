package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

// alpnConfig routes TLS clients by the protocols their ClientHello offers,
// without terminating TLS (the acme-tls/1 challenge of a certificate
// robot beside the web site, as real configs do).
const alpnConfig = `defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend tls_in
    bind 127.0.0.1:%d
    tcp-request inspect-delay 2s
    tcp-request content accept if { req.ssl_hello_type 1 }
    use_backend be_acme if { req.ssl_alpn acme-tls/1 }
    use_backend be_h2 if { req.ssl_alpn h2 }
    default_backend be_web
backend be_acme
    server s %s
backend be_h2
    server s %s
backend be_web
    server s %s
`

// TestALPNRoutingAgainstHAProxy: the same config in HAProxy 2.6 and varde;
// openssl s_client offers different protocol lists and the origin whose
// certificate comes back says where each went. A protocol offered second
// matches too (req.ssl_alpn gives every one to the ACL).
func TestALPNRoutingAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde and haproxy")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	openssl := testenv.LookTool(t, "openssl", "openssl")
	acme, h2, web := tlsOrigin(t, "acme.example"), tlsOrigin(t, "h2.example"), tlsOrigin(t, "web.example")
	p := testenv.FreePorts(t, 2)
	dir := t.TempDir()
	hcfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(hcfg, []byte(fmt.Sprintf(alpnConfig, p[0], acme, h2, web)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, hlog := testenv.Start(t, haproxy, "-db", "-f", hcfg)
	testenv.WaitListening(t, "haproxy", hlog, p[0])
	startVarde(t, dir, fmt.Sprintf(alpnConfig, p[1], acme, h2, web), p[1])
	lists := []string{"acme-tls/1,http/1.1", "h2,http/1.1", "http/1.1,acme-tls/1", "http/1.1", ""}
	reached := func(port int) []string {
		var out []string
		for _, alpn := range lists {
			args := []string{"s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port), "-servername", "x.example"}
			if alpn != "" {
				args = append(args, "-alpn", alpn)
			}
			cmd := exec.Command(openssl, args...)
			cmd.Stdin = strings.NewReader("")
			b, _ := cmd.CombinedOutput()
			got := "none"
			for _, name := range []string{"acme.example", "h2.example", "web.example"} {
				if strings.Contains(string(b), "CN = "+name) {
					got = name
				}
			}
			out = append(out, alpn+" -> "+got)
		}
		return out
	}
	hOut, vOut := reached(p[0]), reached(p[1])
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Fatalf("routing differs (-haproxy +varde):\n%s", d)
	}
	want := []string{"acme-tls/1,http/1.1 -> acme.example", "h2,http/1.1 -> h2.example", "http/1.1,acme-tls/1 -> acme.example", "http/1.1 -> web.example", " -> web.example"}
	if d := cmp.Diff(want, vOut); d != "" {
		t.Fatalf("varde's routing (-want +got):\n%s", d)
	}
}
