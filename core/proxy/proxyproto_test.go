package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/proxyproto"
)

// ppServer is a backend that expects a PROXY header on every connection
// and answers each HTTP request on it with "CONNID SRC" (the source the
// header named); a connection without a valid header is counted and
// closed.
func ppServer(t testing.TB) (addr string, bad *atomic.Int64) {
	bad = new(atomic.Int64)
	var ids atomic.Int64
	addr = rawServer(t, func(c net.Conn) {
		id := ids.Add(1)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		src, ok := readPP(br)
		if !ok {
			bad.Add(1)
			return
		}
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			b := fmt.Sprintf("%d %s", id, src)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(b), b)
		}
	})
	return addr, bad
}

// readPP reads a PROXY header from br with the package's own parser.
func readPP(br *bufio.Reader) (string, bool) {
	for n := 16; ; n++ {
		b, err := br.Peek(n)
		if err != nil {
			return "", false
		}
		var h proxyproto.Header
		m, perr := proxyproto.Parse(b, &h)
		if perr == proxyproto.ErrIncomplete {
			continue
		}
		if perr != nil {
			return "", false
		}
		br.Discard(m)
		if h.Local {
			return "local", true
		}
		return h.Src.String(), true
	}
}

func v1(src, dst string) string {
	return string(proxyproto.AppendV1(nil, netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)))
}

func v2(src, dst string) string {
	return string(proxyproto.AppendV2(nil, netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst), nil))
}

// ppConfig: an accept-proxy HTTP frontend with option forwardfor.
func ppConfig(t *testing.T, backendAddr string, sink *recSink) *Config {
	cfg := simpleConfig(backendAddr)
	fe := cfg.Frontends[0]
	fe.ListenersAcceptProxy = true
	fe.ForwardFor = &ForwardFor{Header: "X-Forwarded-For"}
	fe.Timeouts.HTTPKeepAlive = 5 * time.Second
	fe.Timeouts.Client = 400 * time.Millisecond
	cfg.Sink = sink
	return cfg
}

// TestAcceptProxy: the header's client is what forwardfor, the log (%ci,
// %fi) and later keep-alive requests (after parking) see; a LOCAL header
// keeps the connection's own address; the header may arrive in pieces.
func TestAcceptProxy(t *testing.T) {
	lanes(t, func(t *testing.T) {
		b1, sn := backend(t, "b1", nil)
		sink := &recSink{}
		e, addr := startEngine(t, ppConfig(t, hostport(b1), sink))
		cases := []struct {
			name, hdr, xff, ci, fi string
			split                  bool
		}{
			{name: "v1", hdr: v1("203.0.113.7:4242", "198.51.100.1:80"), xff: "203.0.113.7", ci: "203.0.113.7:4242", fi: "198.51.100.1:80"},
			{name: "v2", hdr: v2("203.0.113.8:4243", "198.51.100.1:81"), xff: "203.0.113.8", ci: "203.0.113.8:4243", fi: "198.51.100.1:81"},
			{name: "v2 v6", hdr: v2("[2001:db8::9]:1", "[2001:db8::1]:80"), xff: "2001:db8::9", ci: "[2001:db8::9]:1", fi: "[2001:db8::1]:80"},
			{name: "v2 split", hdr: v2("203.0.113.9:5", "198.51.100.1:80"), xff: "203.0.113.9", ci: "203.0.113.9:5", split: true},
			{name: "v1 split", hdr: v1("203.0.113.10:6", "198.51.100.1:80"), xff: "203.0.113.10", ci: "203.0.113.10:6", split: true},
			{name: "v2 local", hdr: string(proxyproto.AppendV2(nil, netip.AddrPort{}, netip.AddrPort{}, nil)), xff: "127.0.0.1"},
			{name: "v1 unknown", hdr: "PROXY UNKNOWN\r\n", xff: "127.0.0.1"},
		}
		for _, tt := range cases {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			req := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
			if tt.split {
				io.WriteString(c, tt.hdr[:9])
				time.Sleep(30 * time.Millisecond)
				io.WriteString(c, tt.hdr[9:])
				time.Sleep(30 * time.Millisecond)
			} else {
				req = tt.hdr + req
			}
			// Twice, the second after the connection was parked.
			for i := 0; i < 2; i++ {
				if b := body(t, rawExchange(t, c, br, req, "GET")); b != "hello from b1" {
					t.Fatalf("%s: %q", tt.name, b)
				}
				if got := sn.last().Header.Get("X-Forwarded-For"); got != tt.xff {
					t.Errorf("%s request %d: X-Forwarded-For %q, want %q", tt.name, i, got, tt.xff)
				}
				req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
				time.Sleep(2 * parkAfter)
			}
			c.Close()
			recs := waitRecords(t, sink, 2)
			sink.mu.Lock()
			sink.recs = nil
			sink.mu.Unlock()
			for _, r := range recs {
				if tt.ci != "" && r.Client.String() != tt.ci {
					t.Errorf("%s: %%ci:%%cp %v, want %s", tt.name, r.Client, tt.ci)
				}
				if tt.fi != "" && r.FrontendAddr.String() != tt.fi {
					t.Errorf("%s: %%fi:%%fp %v, want %s", tt.name, r.FrontendAddr, tt.fi)
				}
			}
		}
		if n := e.frontends[0].ProxyErrors.Load(); n != 0 {
			t.Errorf("ProxyErrors %d after valid headers", n)
		}
	})
}

// TestAcceptProxyRefuses: a missing, invalid, cut or late header closes
// the connection without an answer, counted; nothing reaches the server.
func TestAcceptProxyRefuses(t *testing.T) {
	lanes(t, func(t *testing.T) {
		b1, sn := backend(t, "b1", nil)
		e, addr := startEngine(t, ppConfig(t, hostport(b1), &recSink{}))
		cases := []struct{ name, send string }{
			{"no header", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
			{"bad v1", "PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
			{"v1 too long", "PROXY UNKNOWN " + strings.Repeat("x", 200) + "\r\n"},
			{"bad v2 version", "\r\n\r\n\x00\r\nQUIT\n\x11\x11\x00\x0c" + strings.Repeat("\x01", 12)},
			{"cut then silent", "PROXY TCP4 1.2.3.4"},
			{"silent", ""},
			{"closed", "PROX"},
			{"probe", ""}, // connects and closes at once: not counted
		}
		counted := uint64(0)
		for _, tt := range cases {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			io.WriteString(c, tt.send)
			if tt.name == "closed" || tt.name == "probe" {
				c.(*net.TCPConn).CloseWrite()
			}
			if tt.name != "probe" {
				counted++
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(c)
			c.Close()
			// Unread bytes make the kernel reset instead of FIN (HAProxy
			// closes the same way); either way nothing was answered.
			if len(got) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
				t.Errorf("%s: got %q, %v; want a close without answer", tt.name, got, err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("%s: closed after %v (timeout client is 400ms)", tt.name, d)
			}
			if n := e.frontends[0].ProxyErrors.Load(); n != counted {
				t.Errorf("%s: ProxyErrors %d, want %d", tt.name, n, counted)
			}
		}
		if n := sn.hits.Load(); n != 0 {
			t.Errorf("the server got %d requests", n)
		}
	})
}

// TestSendProxy: each new server connection starts with a header naming
// its client (the accept-proxy one here); connections are private: a
// client keeps its own across requests, and another client (even after
// the first went idle and was parked) never gets it.
func TestSendProxy(t *testing.T) {
	for _, ver := range []uint8{1, 2} {
		t.Run(fmt.Sprintf("v%d", ver), func(t *testing.T) {
			lanes(t, func(t *testing.T) {
				srv, bad := ppServer(t)
				cfg := ppConfig(t, srv, &recSink{})
				cfg.Backends[0].Servers[0].SendProxy = ver
				_, addr := startEngine(t, cfg)
				clients := []string{"203.0.113.1:1000", "203.0.113.2:2000", "203.0.113.3:3000"}
				conns := map[string]string{} // upstream connection id -> client
				for _, cl := range clients {
					c, err := net.Dial("tcp", addr)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					br := bufio.NewReader(c)
					req := v2(cl, "198.51.100.1:80") + "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
					var first string
					for i := 0; i < 3; i++ {
						b := body(t, rawExchange(t, c, br, req, "GET"))
						id, src, _ := strings.Cut(b, " ")
						if src != cl {
							t.Fatalf("client %s request %d: the server was told %q", cl, i, src)
						}
						if owner, ok := conns[id]; ok && owner != cl {
							t.Fatalf("client %s got the upstream connection of %s", cl, owner)
						}
						conns[id] = cl
						if i == 0 {
							first = id
						} else if i == 1 && id != first {
							t.Errorf("client %s: a new upstream connection for its next request (%s, then %s)", cl, first, id)
						}
						req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
						if i == 1 {
							time.Sleep(2 * parkAfter) // parked: its connection is let go
						}
					}
				}
				if n := bad.Load(); n != 0 {
					t.Errorf("%d server connections without a valid header", n)
				}
			})
		})
	}
}

// TestAcceptProxyTCP: mode tcp reads the header too and relays the rest;
// send-proxy on its server names the header's client.
func TestAcceptProxyTCP(t *testing.T) {
	srv := rawServer(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		src, ok := readPP(br)
		if !ok {
			return
		}
		line, _ := br.ReadString('\n')
		fmt.Fprintf(c, "%s %s", src, line)
	})
	be := &BackendConfig{Name: "be", Mode: ModeTCP, Retries: -1, Balance: simpleConfig().Backends[0].Balance,
		Timeouts: Timeouts{Connect: time.Second, Server: 5 * time.Second},
		Servers:  []ServerConfig{{Name: "s1", Addr: srv, SendProxy: 1}}}
	cfg := &Config{
		Frontends: []*FrontendConfig{{Name: "fe", Mode: ModeTCP, DefaultBackend: "be", ListenersAcceptProxy: true,
			Timeouts: Timeouts{Client: 2 * time.Second}}},
		Backends: []*BackendConfig{be},
	}
	e, addr := startEngine(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, v2("192.0.2.44:5555", "198.51.100.1:5432")+"hello\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.ReadAll(c)
	if string(got) != "192.0.2.44:5555 hello\n" {
		t.Fatalf("server answered %q", got)
	}
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c2, "hello\n")
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ = io.ReadAll(c2)
	c2.Close()
	if len(got) != 0 || e.frontends[0].ProxyErrors.Load() != 1 {
		t.Fatalf("no header: got %q, ProxyErrors %d", got, e.frontends[0].ProxyErrors.Load())
	}
}
