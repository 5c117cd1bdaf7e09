package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// selfSigned is a certificate for name, generated for the test.
func selfSigned(t testing.TB, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// sniOrigin is a Go HTTPS server with its own certificate for name that
// answers "NAME".
func sniOrigin(t testing.TB, name string) string {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned(t, name)}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// slowConn splits its first write in two, 150 ms apart: a ClientHello
// that arrives in pieces.
type slowConn struct {
	net.Conn
	done bool
}

func (c *slowConn) Write(p []byte) (int, error) {
	if c.done || len(p) < 20 {
		return c.Conn.Write(p)
	}
	c.done = true
	if _, err := c.Conn.Write(p[:10]); err != nil {
		return 0, err
	}
	time.Sleep(150 * time.Millisecond)
	n, err := c.Conn.Write(p[10:])
	return n + 10, err
}

// httpsVia does one HTTPS GET through addr with SNI sni and returns the
// certificate's name and the body.
func httpsVia(t *testing.T, addr, sni string, slow bool) (cn, body string, err error) {
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", "", err
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	var nc net.Conn = raw
	if slow {
		nc = &slowConn{Conn: raw}
	}
	c := tls.Client(nc, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
	if err := c.Handshake(); err != nil {
		return "", "", err
	}
	cn = c.ConnectionState().PeerCertificates[0].Subject.CommonName
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", sni)
	b, _ := io.ReadAll(c)
	_, body, _ = strings.Cut(string(b), "\r\n\r\n")
	return cn, body, nil
}

// TestTCPSNIRouting: mode tcp routes TLS by the ClientHello's SNI without
// terminating it (each backend's own certificate reaches the client), waits
// for a ClientHello that arrives in pieces, rejects what is not TLS, and
// decides with what is there when inspect-delay expires.
func TestTCPSNIRouting(t *testing.T) {
	a, b, d := sniOrigin(t, "a.example"), sniOrigin(t, "b.example"), sniOrigin(t, "default.example")
	cfg := loadProxyConfig(t, `defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend in
    bind 127.0.0.1:1
    tcp-request inspect-delay 400ms
    tcp-request content reject if !{ req_ssl_hello_type 1 }
    tcp-request content accept
    use_backend be_a if { req_ssl_sni -i a.example }
    use_backend be_b if { req.ssl_sni -m end .b.example } || { req.ssl_sni -i b.example }
    default_backend be_d
backend be_a
    server s `+a+`
backend be_b
    server s `+b+`
backend be_d
    server s `+d+`
`)
	cfg.Frontends[0].Binds = nil
	e, addr := startEngine(t, cfg)
	for _, tt := range []struct {
		sni, want string
		slow      bool
	}{
		{"a.example", "a.example", false},
		{"A.EXAMPLE", "a.example", false},
		{"b.example", "b.example", false},
		{"www.b.example", "b.example", false},
		{"c.example", "default.example", false},
		{"a.example", "a.example", true},
		{"b.example", "b.example", true},
	} {
		cn, body, err := httpsVia(t, addr, tt.sni, tt.slow)
		if err != nil || cn != tt.want || body != tt.want {
			t.Errorf("SNI %s (slow %v): certificate %q body %q err %v; want %s", tt.sni, tt.slow, cn, body, err, tt.want)
		}
	}
	denied := e.frontends[0].Denied.Load()
	// Not TLS: rejected at once; silent: rejected when the delay expires.
	for _, tt := range []struct {
		name, send string
		min, max   time.Duration
	}{
		{"plain http", "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", 0, 300 * time.Millisecond},
		{"silent", "", 350 * time.Millisecond, 3 * time.Second},
		{"half a hello", "\x16\x03\x01\x02\x00\x01", 350 * time.Millisecond, 3 * time.Second},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		io.WriteString(c, tt.send)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(c)
		c.Close()
		el := time.Since(start)
		if len(got) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) || el < tt.min || el > tt.max {
			t.Errorf("%s: got %q %v after %v; want a close between %v and %v", tt.name, got, err, el, tt.min, tt.max)
		}
	}
	if n := e.frontends[0].Denied.Load() - denied; n != 3 {
		t.Errorf("Denied grew by %d, want 3", n)
	}
}

// TestTCPRequestConnection: tcp-request connection reject on src closes
// before anything is read (in mode http too), counted in DeniedConns.
func TestTCPRequestConnection(t *testing.T) {
	b1, sn := backend(t, "b1", nil)
	for _, mode := range []string{"http", "tcp"} {
		t.Run(mode, func(t *testing.T) {
			lanes(t, func(t *testing.T) {
				cfg := loadProxyConfig(t, `defaults
    mode `+mode+`
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend in
    bind 127.0.0.1:1
    tcp-request connection accept if { src 127.0.0.2 }
    tcp-request connection reject if { src 127.0.0.0/8 }
    default_backend be
backend be
    server s `+hostport(b1)+`
`)
				cfg.Frontends[0].Binds = nil
				e, addr := startEngine(t, cfg)
				before := sn.hits.Load()
				for _, from := range []string{"127.0.0.1", "127.0.0.2"} {
					d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
					c, err := d.Dial("tcp", addr)
					if err != nil {
						// The reset may beat the end of the connect.
						if from == "127.0.0.2" || !errors.Is(err, syscall.ECONNRESET) {
							t.Errorf("from %s: %v", from, err)
						}
						continue
					}
					c.SetDeadline(time.Now().Add(5 * time.Second))
					io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
					got, _ := io.ReadAll(c)
					c.Close()
					served := strings.Contains(string(got), "hello from b1")
					if served != (from == "127.0.0.2") {
						t.Errorf("from %s: served=%v (%q)", from, served, got)
					}
				}
				if n := e.frontends[0].DeniedConns.Load(); n != 1 {
					t.Errorf("DeniedConns %d, want 1", n)
				}
				if n := sn.hits.Load() - before; n != 1 {
					t.Errorf("the server got %d requests, want 1", n)
				}
			})
		})
	}
}

// TestDifferentialTCPInspect runs one mode tcp configuration through
// HAProxy 2.6 and through varde and compares, for each client, which TLS
// origin it reached (by the certificate it saw) or that it was refused.
func TestDifferentialTCPInspect(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	a, b, d := sniOrigin(t, "a.example"), sniOrigin(t, "b.example"), sniOrigin(t, "default.example")
	text := func(port int) string {
		return fmt.Sprintf(`defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend in
    bind 127.0.0.1:%d
    tcp-request inspect-delay 300ms
    tcp-request content reject if { req.len gt 0 } !{ req_ssl_hello_type 1 }
    tcp-request content accept if { req_ssl_hello_type 1 }
    tcp-request content reject
    use_backend be_a if { req_ssl_sni -i a.example }
    use_backend be_b if { req.ssl_sni -m end .b.example }
    default_backend be_d
backend be_a
    server s %s
backend be_b
    server s %s
backend be_d
    server s %s
`, port, a, b, d)
	}
	dir := t.TempDir()
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hcfg, []byte(text(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	cfg := loadProxyConfig(t, text(1))
	cfg.Frontends[0].Binds = nil
	_, vaddr := startEngine(t, cfg)
	type outcome struct{ CN, Body string }
	run := func(addr, sni string, slow bool) outcome {
		cn, body, err := httpsVia(t, addr, sni, slow)
		if err != nil {
			return outcome{CN: "refused"}
		}
		return outcome{cn, body}
	}
	for _, tc := range []struct {
		sni  string
		slow bool
	}{{"a.example", false}, {"a.example", true}, {"x.b.example", false}, {"b.example", false}, {"c.example", true}} {
		h, v := run(haddr, tc.sni, tc.slow), run(vaddr, tc.sni, tc.slow)
		if h != v {
			t.Errorf("SNI %s (slow %v): haproxy %+v, varde %+v", tc.sni, tc.slow, h, v)
		}
	}
	// Not TLS: both refuse without an answer. (A rule such as
	// `reject if { req.len lt 5 }` would be racy in both: it matches the
	// empty buffer the rules may first see.)
	for _, raw := range []string{"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", "abc"} {
		for _, addr := range []string{haddr, vaddr} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, raw)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, _ := io.ReadAll(c)
			c.Close()
			if len(got) != 0 {
				t.Errorf("%q via %s: answered %q", raw, addr, got)
			}
		}
	}
}
