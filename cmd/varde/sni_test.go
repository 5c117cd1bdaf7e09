package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// tlsOrigin is a Go HTTPS server with a certificate generated for name,
// answering "NAME".
func tlsOrigin(t *testing.T, name string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// TestTCPModeSNIWithRealClients: varde in mode tcp routes openssl s_client
// and curl by SNI to two TLS origins without terminating TLS (each client
// sees the origin's own certificate), and rejects a client that does not
// start with a ClientHello.
func TestTCPModeSNIWithRealClients(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde")
	}
	openssl := testenv.LookTool(t, "openssl", "openssl")
	curl := testenv.LookTool(t, "curl", "curl")
	a, b := tlsOrigin(t, "a.example"), tlsOrigin(t, "b.example")
	vp := testenv.FreePort(t)
	dir := t.TempDir()
	startVarde(t, dir, fmt.Sprintf(`defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend tls_in
    bind 127.0.0.1:%d
    tcp-request inspect-delay 2s
    tcp-request content reject if !{ req_ssl_hello_type 1 }
    tcp-request content accept if { req_ssl_hello_type 1 }
    use_backend be_a if { req_ssl_sni -i a.example }
    use_backend be_b if { req_ssl_sni -i b.example }
backend be_a
    server s %s
backend be_b
    server s %s
`, vp, a, b), vp)
	for _, name := range []string{"a.example", "b.example"} {
		cmd := exec.Command(openssl, "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", vp), "-servername", name)
		cmd.Stdin = strings.NewReader("")
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), "CN = "+name) {
			t.Errorf("openssl s_client -servername %s: the certificate is not %s's:\n%s", name, name, out)
		}
		got, err := exec.Command(curl, "-sk", "--max-time", "5", "--resolve", fmt.Sprintf("%s:%d:127.0.0.1", name, vp),
			fmt.Sprintf("https://%s:%d/", name, vp)).CombinedOutput()
		if err != nil || string(got) != name {
			t.Errorf("curl -k https://%s: %q %v", name, got, err)
		}
	}
	// Plain HTTP is not a ClientHello: rejected, nothing answered.
	if out, err := exec.Command(curl, "-s", "--max-time", "5", fmt.Sprintf("http://127.0.0.1:%d/", vp)).CombinedOutput(); err == nil {
		t.Errorf("plain HTTP was answered: %q", out)
	}
	// No rule routes c.example and there is no default_backend: closed.
	cmd := exec.Command(openssl, "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", vp), "-servername", "c.example")
	cmd.Stdin = strings.NewReader("")
	if out, _ := cmd.CombinedOutput(); strings.Contains(string(out), "CN = ") {
		t.Errorf("c.example reached an origin:\n%s", out)
	}
}
