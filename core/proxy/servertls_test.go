package proxy

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/logrec"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

var serialSeq atomic.Int64

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serialSeq.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a leaf for names (server or client use) and returns it with
// its PEM (certificate then key).
func (ca *testCA) issue(t testing.TB, client bool, names ...string) (tls.Certificate, *x509.Certificate, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serialSeq.Add(1)), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: names, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	p := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})...)
	c, err := tls.X509KeyPair(p, p)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return c, leaf, p
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsBackend is an HTTPS test server that records the SNI of each
// handshake and counts handshakes (one per connection: sessions are
// resumed only on new connections).
type tlsBackend struct {
	*httptest.Server
	mu         sync.Mutex
	snis       []string
	handshakes atomic.Int64
	hits       atomic.Int64
	resumed    atomic.Int64 // requests on a resumed session
}

func newTLSBackend(t testing.TB, cert tls.Certificate, clientCA *x509.Certificate) *tlsBackend {
	t.Helper()
	b := &tlsBackend{}
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		if r.TLS.DidResume {
			b.resumed.Add(1)
		}
		io.Copy(io.Discard, r.Body)
		cn := ""
		if len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		fmt.Fprintf(w, "tls ok sni=%s client=%s", r.TLS.ServerName, cn)
	}))
	b.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point of some tests
	b.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			b.handshakes.Add(1)
			b.mu.Lock()
			b.snis = append(b.snis, h.ServerName)
			b.mu.Unlock()
			return nil, nil
		},
	}
	if clientCA != nil {
		pool := x509.NewCertPool()
		pool.AddCert(clientCA)
		b.TLS.ClientAuth, b.TLS.ClientCAs = tls.RequireAndVerifyClientCert, pool
	}
	b.StartTLS()
	t.Cleanup(b.Close)
	return b
}

func (b *tlsBackend) lastSNI() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.snis) == 0 {
		return "<none>"
	}
	return b.snis[len(b.snis)-1]
}

// tlsServerConfig builds the engine's server from a parsed-like server
// line, through the same ServerTLS the configuration layer uses.
func tlsServerConfig(t testing.TB, addr string, o config.ServerOptions) ServerConfig {
	t.Helper()
	o.SSL = true
	tc, sni, err := ServerTLS(&config.Server{Name: "s1", ServerOptions: o})
	if err != nil {
		t.Fatal(err)
	}
	return ServerConfig{Name: "s1", Addr: addr, TLS: tc, SNI: sni}
}

func TestServerTLSVerify(t *testing.T) {
	ca, other := newTestCA(t, "test ca"), newTestCA(t, "other ca")
	cert, _, _ := ca.issue(t, false, "app.example")
	caFile, otherFile := writeFile(t, "ca.pem", ca.pem), writeFile(t, "other.pem", other.pem)
	cases := []struct {
		name   string
		opts   config.ServerOptions
		status int
		sni    string // what the server saw
	}{
		{"verify required, right CA", config.ServerOptions{CAFile: caFile}, 200, ""},
		{"verify required, wrong CA", config.ServerOptions{CAFile: otherFile}, 503, ""},
		{"verify none, wrong CA", config.ServerOptions{Verify: "none", CAFile: otherFile}, 200, ""},
		{"sni matches the certificate", config.ServerOptions{CAFile: caFile, SNI: "str(app.example)"}, 200, "app.example"},
		{"sni does not match", config.ServerOptions{CAFile: caFile, SNI: "str(other.example)"}, 503, "other.example"},
		{"sni from the Host header", config.ServerOptions{CAFile: caFile, SNI: "req.hdr(host)"}, 200, "app.example"},
		{"verifyhost without sni, matching", config.ServerOptions{CAFile: caFile, ServerTLS: config.ServerTLS{VerifyHost: "app.example"}}, 200, ""},
		{"verifyhost without sni, mismatch", config.ServerOptions{CAFile: caFile, ServerTLS: config.ServerTLS{VerifyHost: "x.example"}}, 503, ""},
		{"sni wins over verifyhost", config.ServerOptions{CAFile: caFile, SNI: "str(app.example)", ServerTLS: config.ServerTLS{VerifyHost: "x.example"}}, 200, "app.example"},
	}
	lanes(t, func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				be := newTLSBackend(t, cert, nil)
				cfg := simpleConfig()
				cfg.Backends[0].Retries = 1
				cfg.Backends[0].Servers = []ServerConfig{tlsServerConfig(t, be.Listener.Addr().String(), tc.opts)}
				sink := &recSink{}
				cfg.Sink = sink
				e, addr := startEngine(t, cfg)
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				resp := rawExchange(t, c, bufio.NewReader(c), "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n", "GET")
				got := body(t, resp)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d (%q), want %d", resp.StatusCode, got, tc.status)
				}
				if sni := be.lastSNI(); sni != tc.sni && !(tc.sni == "" && sni == "") {
					t.Fatalf("server saw SNI %q, want %q", sni, tc.sni)
				}
				b := e.Backend("be")
				if tc.status == 200 {
					if !strings.HasPrefix(got, "tls ok") || b.ConnErrors.Load() != 0 {
						t.Fatalf("body %q, %d connection errors", got, b.ConnErrors.Load())
					}
					return
				}
				if n := b.ConnErrors.Load(); n != 2 || be.hits.Load() != 0 {
					t.Fatalf("%d connection errors (want 2: the try and its retry), %d requests reached the server", n, be.hits.Load())
				}
				waitRecord(t, sink, func(r logrec.Record) bool {
					return r.Term[0] == logrec.TermServerAbort && r.Term[1] == logrec.StateConnect
				})
			})
		}
	})
}

func waitRecord(t *testing.T, sink *recSink, ok func(logrec.Record) bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range sink.all() {
			if ok(r) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no matching log record in %d records", len(sink.all()))
}

func TestServerTLSClientCertificate(t *testing.T) {
	ca := newTestCA(t, "ca")
	cert, _, _ := ca.issue(t, false, "app.example")
	_, _, clientPEM := ca.issue(t, true, "varde-client")
	caFile := writeFile(t, "ca.pem", ca.pem)
	crt := writeFile(t, "client.pem", clientPEM)
	lanes(t, func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			crt    string
			maxVer string
			status int
		}{
			{"with crt", crt, "", 200},
			// TLS 1.2: the server refuses during the handshake, a
			// connection error (503 after retries).
			{"without crt, TLS 1.2", "", "TLSv1.2", 503},
			// TLS 1.3: the client's handshake ends before the server
			// checks the certificate; its refusal comes as the answer.
			{"without crt, TLS 1.3", "", "", 502},
		} {
			t.Run(tc.name, func(t *testing.T) {
				be := newTLSBackend(t, cert, ca.cert)
				cfg := simpleConfig()
				cfg.Backends[0].Retries = 0
				cfg.Backends[0].Servers = []ServerConfig{tlsServerConfig(t, be.Listener.Addr().String(),
					config.ServerOptions{CAFile: caFile, ServerTLS: config.ServerTLS{Crt: tc.crt, SSLMaxVer: tc.maxVer}})}
				_, addr := startEngine(t, cfg)
				resp, err := http.Get("http://" + addr + "/")
				if err != nil {
					t.Fatal(err)
				}
				got := body(t, resp)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d %q, want %d", resp.StatusCode, got, tc.status)
				}
				if tc.status == 200 && !strings.Contains(got, "client=varde-client") {
					t.Fatalf("server did not see the client certificate: %q", got)
				}
			})
		}
	})
}

// TestServerTLSReuse: keep-alive requests reuse one TLS connection (one
// handshake at the server); a second client opens its own connection (its
// first request, as http-reuse safe) and resumes the TLS session unless
// no-ssl-reuse.
func TestServerTLSReuse(t *testing.T) {
	ca := newTestCA(t, "ca")
	cert, _, _ := ca.issue(t, false, "app.example")
	caFile := writeFile(t, "ca.pem", ca.pem)
	for _, noReuse := range []bool{false, true} {
		t.Run(fmt.Sprintf("no-ssl-reuse=%v", noReuse), func(t *testing.T) {
			lanes(t, func(t *testing.T) {
				be := newTLSBackend(t, cert, nil)
				cfg := simpleConfig()
				cfg.Backends[0].Servers = []ServerConfig{tlsServerConfig(t, be.Listener.Addr().String(),
					config.ServerOptions{CAFile: caFile, SNI: "str(app.example)", ServerTLS: config.ServerTLS{NoSSLReuse: noReuse}})}
				_, addr := startEngine(t, cfg)
				const n = 10
				for client := 0; client < 2; client++ {
					c, err := net.Dial("tcp", addr)
					if err != nil {
						t.Fatal(err)
					}
					br := bufio.NewReader(c)
					for i := 0; i < n; i++ {
						resp := rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET")
						if got := body(t, resp); resp.StatusCode != 200 {
							t.Fatalf("request %d: %d %q", i, resp.StatusCode, got)
						}
					}
					c.Close()
					if h := be.handshakes.Load(); h != int64(client+1) {
						t.Fatalf("client %d: %d handshakes at the server, want %d", client, h, client+1)
					}
				}
				want := int64(n) // the second client's requests ride a resumed session
				if noReuse {
					want = 0
				}
				if got := be.resumed.Load(); got != want {
					t.Fatalf("%d requests on a resumed session, want %d", got, want)
				}
			})
		})
	}
}

// TestServerTLSReuseBySNI: a pooled connection opened for one SNI is not
// reused for a request whose sni expression gives another name.
func TestServerTLSReuseBySNI(t *testing.T) {
	ca := newTestCA(t, "ca")
	cert, _, _ := ca.issue(t, false, "a.example", "b.example")
	caFile := writeFile(t, "ca.pem", ca.pem)
	lanes(t, func(t *testing.T) {
		be := newTLSBackend(t, cert, nil)
		cfg := simpleConfig()
		cfg.Backends[0].Servers = []ServerConfig{tlsServerConfig(t, be.Listener.Addr().String(),
			config.ServerOptions{CAFile: caFile, SNI: "req.hdr(host)"})}
		_, addr := startEngine(t, cfg)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for i, host := range []string{"a.example", "a.example", "b.example", "a.example", "b.example"} {
			resp := rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: "+host+"\r\n\r\n", "GET")
			if got := body(t, resp); resp.StatusCode != 200 || !strings.Contains(got, "sni="+host) {
				t.Fatalf("request %d for %s: %d %q", i, host, resp.StatusCode, got)
			}
		}
		if h := be.handshakes.Load(); h != 2 {
			t.Fatalf("%d handshakes, want 2 (one per name)", h)
		}
	})
}

// TestServerTLSModeTCP: mode tcp forwards a cleartext client to a TLS
// server (TLS origination at layer 4).
func TestServerTLSModeTCP(t *testing.T) {
	ca := newTestCA(t, "ca")
	cert, _, _ := ca.issue(t, false, "echo.example")
	caFile := writeFile(t, "ca.pem", ca.pem)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	lanes(t, func(t *testing.T) {
		cfg := simpleConfig()
		cfg.Frontends[0].Mode, cfg.Backends[0].Mode = ModeTCP, ModeTCP
		cfg.Backends[0].Servers = []ServerConfig{tlsServerConfig(t, l.Addr().String(),
			config.ServerOptions{CAFile: caFile, SNI: "str(echo.example)"})}
		_, addr := startEngine(t, cfg)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "hello over tls")
		c.(*net.TCPConn).CloseWrite()
		got, _ := io.ReadAll(c)
		if string(got) != "hello over tls" {
			t.Fatalf("echo %q", got)
		}
	})
}

// TestServerTLSTunnel: a WebSocket-style upgrade to a TLS server leaves the
// event loop with its TLS session intact (upConn.detach).
func TestServerTLSTunnel(t *testing.T) {
	ca := newTestCA(t, "ca")
	cert, _, _ := ca.issue(t, false, "ws.example")
	caFile := writeFile(t, "ca.pem", ca.pem)
	lanes(t, func(t *testing.T) {
		be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, brw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			line, _ := brw.ReadString('\n')
			io.WriteString(conn, "echo:"+line)
		}))
		be.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		be.StartTLS()
		defer be.Close()
		cfg := simpleConfig()
		cfg.Backends[0].Servers = []ServerConfig{tlsServerConfig(t, be.Listener.Addr().String(),
			config.ServerOptions{CAFile: caFile, SNI: "str(ws.example)"})}
		_, addr := startEngine(t, cfg)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		resp := rawExchange(t, c, br, "GET /ws HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "GET")
		if resp.StatusCode != 101 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		io.WriteString(c, "ping\n")
		line, err := br.ReadString('\n')
		if line != "echo:ping\n" {
			t.Fatalf("tunnel read %q, %v", line, err)
		}
	})
}

// BenchmarkProxiedGETTLS is BenchmarkProxiedGET with TLS to the servers
// (two TLS servers, verify required, constant SNI): the steady state
// rides pooled TLS connections. Its allocations include the test
// servers' own TLS work, which runs in the same process.
func BenchmarkProxiedGETTLS(b *testing.B) {
	ca := newTestCA(b, "ca")
	cert, _, _ := ca.issue(b, false, "bench.example")
	caFile := writeFile(b, "ca.pem", ca.pem)
	plain := []string{rawBackend(b), rawBackend(b)}
	cfg := simpleConfig()
	for _, addr := range plain {
		l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { l.Close() })
		go relayTo(l, addr)
		sc := tlsServerConfig(b, l.Addr().String(), config.ServerOptions{CAFile: caFile, SNI: "str(bench.example)"})
		sc.Name = fmt.Sprintf("s%d", len(cfg.Backends[0].Servers)+1)
		cfg.Backends[0].Servers = append(cfg.Backends[0].Servers, sc)
	}
	cfg.Backends[0].ForwardFor = &ForwardFor{}
	_, addr := startEngine(b, cfg)
	rc := newRawClient(b, addr)
	for i := 0; i < 100; i++ {
		rc.do(b)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rc.do(b)
	}
}

// relayTo terminates TLS from l and relays each connection to the
// cleartext raw backend at addr.
func relayTo(l net.Listener, addr string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			u, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer u.Close()
			go io.Copy(u, c)
			io.Copy(c, u)
		}()
	}
}

// TestServerTLSHandshakeFailures: a server that never answers the
// handshake is a connect timeout (sC) within timeout connect; a server
// that does not speak TLS is a connection error (SC). Both give 503.
func TestServerTLSHandshakeFailures(t *testing.T) {
	silent := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	plain, _ := backend(t, "plain", nil)
	cases := []struct {
		name string
		addr string
		term byte
	}{
		{"silent server", silent, logrec.TermServerTimeout},
		{"cleartext server", hostport(plain), logrec.TermServerAbort},
	}
	lanes(t, func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				cfg := simpleConfig()
				cfg.Backends[0].Retries = 0
				cfg.Backends[0].Timeouts.Connect = 300 * time.Millisecond
				cfg.Backends[0].Servers = []ServerConfig{tlsServerConfig(t, tc.addr, config.ServerOptions{Verify: "none"})}
				sink := &recSink{}
				cfg.Sink = sink
				e, addr := startEngine(t, cfg)
				start := time.Now()
				resp, err := http.Get("http://" + addr + "/")
				if err != nil {
					t.Fatal(err)
				}
				body(t, resp)
				if resp.StatusCode != 503 || e.Backend("be").ConnErrors.Load() != 1 {
					t.Fatalf("status %d, %d connection errors; want 503 and 1", resp.StatusCode, e.Backend("be").ConnErrors.Load())
				}
				if d := time.Since(start); d > 3*time.Second {
					t.Fatalf("took %v: the handshake is not bounded by timeout connect", d)
				}
				waitRecord(t, sink, func(r logrec.Record) bool {
					return r.Term[0] == tc.term && r.Term[1] == logrec.StateConnect
				})
			})
		}
	})
}
