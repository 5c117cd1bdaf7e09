package health_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/tlsx"
)

// TestChecksOverTLS: check-ssl makes the probes speak TLS. A TLS-only
// server fails a cleartext HTTP check and passes the same check over TLS;
// a handshake that fails (wrong CA, a server without TLS) is L6RSP; and
// check-sni reaches the server.
func TestChecksOverTLS(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var sni string
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.TLS = &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		sni = h.ServerName
		mu.Unlock()
		return nil, nil
	}}
	ts.StartTLS()
	defer ts.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600)
	otherCA := filepath.Join(dir, "other.pem")
	os.WriteFile(otherCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: selfSigned(t)}), 0o600)
	client := func(spec tlsx.ClientSpec) *tls.Config {
		c, err := tlsx.NewClient(spec)
		if err != nil {
			t.Fatal(err)
		}
		return c.Config("")
	}
	verified := client(tlsx.ClientSpec{Verify: true, CAFile: caFile})
	withSNI := client(tlsx.ClientSpec{Verify: true, CAFile: caFile, ServerName: "example.com"})
	wrongCA := client(tlsx.ClientSpec{Verify: true, CAFile: otherCA})
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers the hello
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	httpSpec := health.ProbeSpec{Type: "http", HTTP: health.HTTPSpec{Method: "GET", URI: "/"}}
	tlsAddr := netip.MustParseAddrPort(ts.Listener.Addr().String())
	plainAddr := netip.MustParseAddrPort(plain.Listener.Addr().String())
	cases := []struct {
		name    string
		spec    health.ProbeSpec
		addr    netip.AddrPort
		tls     *tls.Config
		want    string
		ok      bool
		wantSNI string
	}{
		{"cleartext http check on a TLS-only server", httpSpec, tlsAddr, nil, "L7STS", false, ""},
		{"http check over TLS", httpSpec, tlsAddr, verified, "L7OK", true, ""},
		{"http check over TLS with check-sni", httpSpec, tlsAddr, withSNI, "L7OK", true, "example.com"},
		{"tcp check over TLS", health.ProbeSpec{Type: "tcp"}, tlsAddr, verified, "L6OK", true, ""},
		{"tcp check over TLS, wrong CA", health.ProbeSpec{Type: "tcp"}, tlsAddr, wrongCA, "L6RSP", false, ""},
		{"http check over TLS, wrong CA", httpSpec, tlsAddr, wrongCA, "L6RSP", false, ""},
		{"TLS check on a cleartext server", httpSpec, plainAddr, verified, "L6RSP", false, ""},
		{"TLS check on a silent server", health.ProbeSpec{Type: "tcp"}, netip.MustParseAddrPort(silent.Addr().String()), verified, "L6TOUT", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := health.NewProbe(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			mu.Lock()
			sni = "<none>"
			mu.Unlock()
			r := p.Check(ctx, health.Target{Addr: tc.addr, Timeout: 500 * time.Millisecond, TLS: tc.tls})
			if r.Status != tc.want || r.OK != tc.ok {
				t.Fatalf("got %s ok=%v (%s), want %s ok=%v", r.Status, r.OK, r.Info, tc.want, tc.ok)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.ok && tc.tls != nil && sni != tc.wantSNI {
				t.Fatalf("server saw SNI %q, want %q", sni, tc.wantSNI)
			}
		})
	}
}

// selfSigned is a CA certificate unrelated to httptest's (a wrong CA).
func selfSigned(t *testing.T) []byte {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "other ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
