package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/tlsx"
	"github.com/varde-lb/varde/core/tlsx/tlstest"
)

// startTLSEngine runs cfg with its first frontend's listener terminating
// TLS with a generated certificate for www.test; it returns the address
// and a client config trusting it.
func startTLSEngine(t testing.TB, cfg *Config) (*Engine, string, *tls.Config) {
	t.Helper()
	ca := tlstest.NewCA(t, "CA")
	crt := ca.Issue(t, tlstest.Opts{DNS: []string{"www.test"}}).Write(t, t.TempDir(), "www.pem")
	reg := tlsx.NewRegistry()
	tb, err := reg.Build(&tlsx.Options{Crts: []string{crt}, ALPN: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLS = reg
	e, addr := startEngineOn(t, cfg, func(fc *FrontendConfig, l net.Listener) {
		fc.TLS = map[string]*tlsx.Bind{l.Addr().String(): tb}
		fc.Listeners = append(fc.Listeners, l)
	})
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return e, addr, &tls.Config{ServerName: "www.test", RootCAs: pool, NextProtos: []string{"http/1.1"}}
}

// A keep-alive TLS client that idles past parkAfter is parked (no
// goroutine, no session) and its next requests are served.
func TestTLSKeepAliveAcrossParking(t *testing.T) {
	srv, sn := backend(t, "s1", nil)
	cfg := simpleConfig(hostport(srv))
	sink := &recSink{}
	cfg.Sink = sink
	e, addr, ccfg := startTLSEngine(t, cfg)
	c, err := tls.Dial("tcp", addr, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		resp := rawExchange(t, c, br, "GET /x HTTP/1.1\r\nHost: www.test\r\n\r\n", "GET")
		if got := body(t, resp); got != "hello from s1" {
			t.Fatalf("request %d: %q", i, got)
		}
		deadline := time.Now().Add(3 * time.Second)
		for e.Parked() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if e.Parked() != 1 {
			t.Fatalf("after request %d: %d parked connections, want 1", i, e.Parked())
		}
	}
	if sn.hits.Load() != 3 {
		t.Errorf("backend saw %d requests", sn.hits.Load())
	}
	// %Th: the handshake on the first request only; the accept date is
	// before the handshake, so before the first request's date.
	recs := sink.all()
	if len(recs) != 3 || recs[0].Th < 0 || recs[1].Th != 0 || recs[2].Th != 0 || recs[0].Accept > recs[0].Request {
		t.Errorf("records: Th %d/%d/%d", recs[0].Th, recs[1].Th, recs[2].Th)
	}
	if f := e.Frontend("fe"); f.TotalConns.Load() != 1 || f.SSLFailures.Load() != 0 || f.SSLSessions.Load() != 1 {
		t.Errorf("conns %d, ssl failures %d, sessions %d", f.TotalConns.Load(), f.SSLFailures.Load(), f.SSLSessions.Load())
	}
}

// TestTLSSessionCounters: completed handshakes and resumed ones are
// counted (show stat's ssl_sess and ssl_reused_sess).
func TestTLSSessionCounters(t *testing.T) {
	srv, _ := backend(t, "s1", nil)
	e, addr, ccfg := startTLSEngine(t, simpleConfig(hostport(srv)))
	ccfg = ccfg.Clone()
	ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	for i := range 2 {
		c, err := tls.Dial("tcp", addr, ccfg)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		io.ReadAll(c) // reads the TLS 1.3 ticket too
		if resumed := c.ConnectionState().DidResume; resumed != (i == 1) {
			t.Errorf("connection %d resumed %v", i, resumed)
		}
		c.Close()
	}
	f := e.Frontend("fe")
	if f.SSLSessions.Load() != 1 || f.SSLReused.Load() != 1 || f.SSLFailures.Load() != 0 {
		t.Errorf("sessions %d reused %d failures %d, want 1 1 0", f.SSLSessions.Load(), f.SSLReused.Load(), f.SSLFailures.Load())
	}
}

// Failed handshakes (cleartext to a TLS port, a silent client past timeout
// client) are counted and closed; the frontend keeps serving.
func TestTLSHandshakeFailures(t *testing.T) {
	srv, _ := backend(t, "s1", nil)
	cfg := simpleConfig(hostport(srv))
	cfg.Frontends[0].Timeouts.Client = 300 * time.Millisecond
	e, addr, ccfg := startTLSEngine(t, cfg)
	f := e.Frontend("fe")

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if b, _ := io.ReadAll(c); strings.Contains(string(b), "HTTP/1.1 200") {
		t.Errorf("cleartext request served on a TLS port: %q", b)
	}
	c.Close()

	start := time.Now()
	c, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(c) // varde closes at timeout client
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Errorf("silent client closed after %v, want about timeout client (300ms)", d)
	}
	c.Close()
	// A TCP check that connects and leaves is not a failed handshake.
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
	}
	time.Sleep(50 * time.Millisecond)
	if n := f.SSLFailures.Load(); n != 2 {
		t.Errorf("SSLFailures = %d, want 2", n)
	}
	if n := f.SSLClosed.Load(); n != 1 {
		t.Errorf("SSLClosed = %d, want 1 (the TCP check)", n)
	}
	tc, err := tls.Dial("tcp", addr, ccfg)
	if err != nil {
		t.Fatalf("frontend stopped serving: %v", err)
	}
	tc.Close()
	if n := e.ActConn(); n < 0 {
		t.Errorf("actconn %d", n)
	}
}

// TestTLSIdleMemory measures the heap an idle keep-alive TLS connection
// costs once parked (client and server sides together, both in this
// process: an upper bound for the server side).
func TestTLSIdleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 200 connections")
	}
	srv, _ := backend(t, "s1", nil)
	e, addr, ccfg := startTLSEngine(t, simpleConfig(hostport(srv)))
	const n = 200
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	conns := make([]*tls.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := tls.Dial("tcp", addr, ccfg)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		rawExchange(t, c, bufio.NewReader(c), "GET / HTTP/1.1\r\nHost: www.test\r\n\r\n", "GET").Body.Close()
	}
	deadline := time.Now().Add(20 * time.Second) // loaded -race runs park slowly
	for e.Parked() < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if e.Parked() != n {
		t.Fatalf("%d of %d parked", e.Parked(), n)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)) / n
	t.Logf("idle parked TLS connection: %d bytes of heap+stacks each (client and server sides)", per)
	if per > 128<<10 {
		t.Errorf("%d bytes per idle TLS connection", per)
	}
}

// In mode tcp a TLS bind terminates TLS and relays the plaintext.
func TestTLSModeTCP(t *testing.T) {
	srv, sn := backend(t, "s1", nil)
	cfg := simpleConfig(hostport(srv))
	cfg.Frontends[0].Mode = ModeTCP
	cfg.Backends[0].Mode = ModeTCP
	sink := &recSink{}
	cfg.Sink = sink
	e, addr, ccfg := startTLSEngine(t, cfg)
	c, err := tls.Dial("tcp", addr, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp := rawExchange(t, c, bufio.NewReader(c), "GET /tcp HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", "GET")
	if got := body(t, resp); got != "hello from s1" || sn.last().URL.Path != "/tcp" {
		t.Errorf("through a TLS tcp frontend: %q", got)
	}
	if f := e.Frontend("fe"); f.SSLFailures.Load() != 0 {
		t.Errorf("ssl failures %d", f.SSLFailures.Load())
	}
	c.Close()
	var recs []logrec.Record
	deadline := time.Now().Add(5 * time.Second)
	for len(recs) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		recs = sink.all()
	}
	if len(recs) != 1 || !recs[0].TLS || recs[0].TLSVersion != tls.VersionTLS13 || recs[0].TLSCipher == 0 {
		t.Errorf("tcp log records: %+v", recs)
	}
}

// opaqueConn hides the socket (as a wrapper without NetConn would).
type opaqueConn struct{ net.Conn }

type opaqueListener struct{ net.Listener }

func (l opaqueListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return opaqueConn{c}, nil
}

// A client connection whose socket cannot be reached is never parked: it
// keeps its session through the keep-alive wait instead of being closed
// when it goes idle.
func TestUnparkableConnKeepsAlive(t *testing.T) {
	srv, _ := backend(t, "s1", nil)
	cfg := simpleConfig(hostport(srv))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Frontends[0].Listeners = []net.Listener{opaqueListener{l}}
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Stop(context.Background())
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		if got := body(t, rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")); got != "hello from s1" {
			t.Fatalf("request %d: %q", i, got)
		}
		time.Sleep(3 * parkAfter)
	}
	if e.Parked() != 0 {
		t.Errorf("%d parked", e.Parked())
	}
}

// The global defaults reach the bind and the bind line overrides them.
func TestTLSOptionsMerge(t *testing.T) {
	g := &config.Global{
		SSLDefaultBindCiphers: "ECDHE+AESGCM", SSLDefaultBindOptions: []string{"ssl-min-ver", "TLSv1.3", "no-tls-tickets"},
		CRTBase: "/crt", CABase: "/ca",
	}
	b := &config.Bind{Crts: []string{"a.pem", "/abs/b.pem"}, CA: "ca.pem", CRLFile: "c.crl", ALPN: "http/1.1,http/1.0"}
	o := tlsOptions(g, b)
	lo, hi, err := o.Versions.Range()
	if o.Ciphers != "ECDHE+AESGCM" || !o.NoTickets || err != nil || lo != tls.VersionTLS13 || hi != tls.VersionTLS13 ||
		o.Crts[0] != "/crt/a.pem" || o.Crts[1] != "/abs/b.pem" || o.CAFile != "/ca/ca.pem" || o.CRLFile != "/ca/c.crl" || len(o.ALPN) != 2 {
		t.Errorf("defaults: %+v (versions %x-%x %v)", o, lo, hi, err)
	}
	b.Ciphers, b.TLSVersions = "ECDHE+CHACHA20", []string{"ssl-min-ver TLSv1.2"}
	o = tlsOptions(g, b)
	if lo, _, _ := o.Versions.Range(); o.Ciphers != "ECDHE+CHACHA20" || lo != tls.VersionTLS12 {
		t.Errorf("bind overrides: %+v", o)
	}
}

// An accept-proxy bind with ssl: the PROXY header comes before the TLS
// handshake (HAProxy's order), and its client is what X-Forwarded-For and
// the log see over TLS, in mode http and in mode tcp; a connection that
// starts with a ClientHello instead of the header is closed and counted.
func TestTLSAfterAcceptProxy(t *testing.T) {
	b1, sn := backend(t, "b1", nil)
	sink := &recSink{}
	cfg := ppConfig(t, hostport(b1), sink)
	e, addr, ccfg := startTLSEngine(t, cfg)
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	io.WriteString(raw, v1("203.0.113.7:4242", "198.51.100.1:443"))
	c := tls.Client(raw, ccfg)
	br := bufio.NewReader(c)
	if b := body(t, rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: www.test\r\n\r\n", "GET")); b != "hello from b1" {
		t.Fatalf("body %q", b)
	}
	if got := sn.last().Header.Get("X-Forwarded-For"); got != "203.0.113.7" {
		t.Errorf("X-Forwarded-For %q, want the PROXY header's client", got)
	}
	c.Close()
	if r := waitRecords(t, sink, 1)[0]; r.Client.String() != "203.0.113.7:4242" || !r.TLS {
		t.Errorf("log: client %v tls %v, want 203.0.113.7:4242 over TLS", r.Client, r.TLS)
	}

	before := e.Frontends()[0].ProxyErrors.Load()
	if nc, err := tls.Dial("tcp", addr, ccfg); err == nil {
		nc.Close()
		t.Fatal("a TLS client without the PROXY header completed a handshake")
	}
	if e.Frontends()[0].ProxyErrors.Load() != before+1 {
		t.Errorf("ProxyErrors %d, want %d", e.Frontends()[0].ProxyErrors.Load(), before+1)
	}
}

// A graceful stop's grace bounds a connection whose PROXY header is still
// awaited on an ssl bind and on a proto h2 bind (the header is read before
// the handshake or the preface, before the connection is a session).
func TestStopBoundsPendingProxyHeader(t *testing.T) {
	for _, kind := range []string{"ssl", "h2"} {
		t.Run(kind, func(t *testing.T) {
			b1, _ := backend(t, "b1", nil)
			cfg := ppConfig(t, hostport(b1), &recSink{})
			cfg.Frontends[0].Timeouts.Client = 5 * time.Second
			var e *Engine
			var addr string
			if kind == "ssl" {
				e, addr, _ = startTLSEngine(t, cfg)
			} else {
				cfg.Frontends[0].ListenersAcceptProxy = false
				cfg.Frontends[0].H2Binds, cfg.Frontends[0].H2AcceptProxy = []string{"127.0.0.1:0"}, []bool{true}
				// an accept-proxy h2 bind is opened by the engine (H2AcceptProxy)
				e, _ = startEngineOn(t, cfg, func(_ *FrontendConfig, l net.Listener) { l.Close() })
				addr = e.Frontends()[0].Addrs()[0].String()
			}
			raw, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			time.Sleep(100 * time.Millisecond) // the header read has begun
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			e.Stop(ctx)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Stop took %v with a 200 ms grace (timeout client 5 s)", d)
			}
		})
	}
}

// The first stream of an HTTP/2-over-TLS connection logs that connection's
// handshake time (%Th), not one a pooled session kept from an earlier
// HTTP/1.1 TLS client with a slow handshake.
func TestH2OverTLSLogsItsOwnHandshake(t *testing.T) {
	b1, _ := backend(t, "b1", nil)
	sink := &recSink{}
	cfg := simpleConfig(hostport(b1))
	cfg.Sink = sink
	ca := tlstest.NewCA(t, "CA")
	crt := ca.Issue(t, tlstest.Opts{DNS: []string{"www.test"}}).Write(t, t.TempDir(), "www.pem")
	reg := tlsx.NewRegistry()
	tb, err := reg.Build(&tlsx.Options{Crts: []string{crt}, ALPN: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLS = reg
	_, addr := startEngineOn(t, cfg, func(fc *FrontendConfig, l net.Listener) {
		fc.TLS = map[string]*tlsx.Bind{l.Addr().String(): tb}
		fc.Listeners = append(fc.Listeners, l)
	})
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for i := 0; i < 3; i++ {
		raw, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		// A slow ClientHello: %Th at least 400; a fast handshake on a
		// loaded -race run has taken 69 ms, so the line between is 300.
		time.Sleep(400 * time.Millisecond)
		c := tls.Client(raw, &tls.Config{ServerName: "www.test", RootCAs: pool, NextProtos: []string{"http/1.1"}})
		body(t, rawExchange(t, c, bufio.NewReader(c), "GET / HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", "GET"))
		c.Close()
		if r := waitRecords(t, sink, 2*i+1)[2*i]; r.Th < 300 {
			t.Fatalf("HTTP/1.1 %%Th %d, want the 400 ms handshake", r.Th)
		}
		tr := &http2.Transport{TLSClientConfig: &tls.Config{ServerName: "www.test", RootCAs: pool}}
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		if r := waitRecords(t, sink, 2*i+2)[2*i+1]; r.Th >= 300 || !strings.HasSuffix(string(r.RequestLine.Bytes()), " HTTP/2.0") {
			t.Errorf("h2 stream: %%Th %d request %q, want its own fast handshake over HTTP/2.0", r.Th, r.RequestLine.Bytes())
		}
	}
}
