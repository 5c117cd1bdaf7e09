package proxy

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
)

// peerLog serves HTTP on a loopback port, answering its name and the
// client address it saw, and remembers every peer address that connected
// (health checks included).
type peerLog struct {
	addr  string
	mu    sync.Mutex
	peers map[string]bool
}

func startPeerLog(t *testing.T, name string) *peerLog {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peerLog{addr: l.Addr().String(), peers: map[string]bool{}}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			fmt.Fprintf(w, "%s from %s", name, host)
		}),
		ConnState: func(c net.Conn, s http.ConnState) {
			if s == http.StateNew {
				host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
				p.mu.Lock()
				p.peers[host] = true
				p.mu.Unlock()
			}
		},
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return p
}

func (p *peerLog) reset() {
	p.mu.Lock()
	p.peers = map[string]bool{}
	p.mu.Unlock()
}

func (p *peerLog) seen() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for h := range p.peers {
		out = append(out, h)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

const sourceConfig = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    source 127.0.0.2

frontend fe
    bind 127.0.0.1:{{P0}}
    use_backend own if { path_beg /own }
    use_backend server if { path_beg /server }
    default_backend dflt

backend dflt
    server a {{A}} check inter 100ms

backend own
    source 127.0.0.4
    server b {{B}} check inter 100ms

backend server
    source 127.0.0.4
    server c {{C}} source 127.0.0.3:0 check inter 100ms
`

// TestSourceDifferential: `source` in defaults, in a backend and on a
// server line (which wins): the peer address each server sees for the
// traffic and for the health checks.
func TestSourceDifferential(t *testing.T) {
	a, b, c := startPeerLog(t, "a"), startPeerLog(t, "b"), startPeerLog(t, "c")
	render := func(p []int) string {
		return strings.NewReplacer("{{P0}}", fmt.Sprint(p[0]), "{{A}}", a.addr, "{{B}}", b.addr, "{{C}}", c.addr).Replace(sourceConfig)
	}
	dialDiff(t, 1, render, func(t *testing.T, p []int) []string {
		for _, pl := range []*peerLog{a, b, c} {
			pl.reset()
		}
		out := getKeepAlive(t, fmt.Sprintf("127.0.0.1:%d", p[0]), "/x", "/own", "/server")
		time.Sleep(400 * time.Millisecond) // a few checks of each server
		return append(out, "a: "+a.seen(), "b: "+b.seen(), "c: "+c.seen())
	})
}

// socksServer is a SOCKS4 proxy for the tests: it records each request
// ("USER -> IP:PORT"), refuses the deny port with code 91 and otherwise
// connects from 127.0.0.9, so the servers can tell proxied connections
// from direct ones.
type socksServer struct {
	addr string
	deny uint16
	mu   sync.Mutex
	reqs map[string]bool
}

func startSOCKS4(t *testing.T, deny uint16) *socksServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s := &socksServer{addr: l.Addr().String(), deny: deny, reqs: map[string]bool{}}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *socksServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var head [8]byte
	if _, err := io.ReadFull(c, head[:]); err != nil || head[0] != 4 || head[1] != 1 {
		return
	}
	var user []byte
	for b := make([]byte, 1); ; {
		if _, err := io.ReadFull(c, b); err != nil || len(user) > 64 {
			return
		}
		if b[0] == 0 {
			break
		}
		user = append(user, b[0])
	}
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(head[4:8])), binary.BigEndian.Uint16(head[2:4]))
	s.mu.Lock()
	s.reqs[fmt.Sprintf("%s -> %s", user, dst)] = true
	s.mu.Unlock()
	reply := []byte{0, 90, 0, 0, 0, 0, 0, 0}
	if dst.Port() == s.deny {
		reply[1] = 91
		c.Write(reply)
		return
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9)}, Timeout: time.Second}
	up, err := d.Dial("tcp", dst.String())
	if err != nil {
		reply[1] = 91
		c.Write(reply)
		return
	}
	defer up.Close()
	c.Write(reply)
	c.SetDeadline(time.Time{})
	go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
	io.Copy(c, up)
}

func (s *socksServer) seen(names map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for r := range s.reqs {
		for addr, n := range names {
			r = strings.ReplaceAll(r, addr, n)
		}
		out = append(out, r)
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

const socksConfig = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:{{P0}}
    use_backend deny if { path_beg /deny }
    use_backend direct if { path_beg /direct }
    default_backend via

backend via
    server s {{A}} socks4 {{SOCKS}} check-via-socks4 check inter 100ms

backend direct
    server t {{B}} socks4 {{SOCKS}} check inter 100ms

backend deny
    server d {{DENY}} socks4 {{SOCKS}}

backend checksonly
    server viacheck {{A2}} socks4 {{SOCKS}} check-via-socks4 check inter 100ms
    server directcheck {{B2}} socks4 {{SOCKS}} check inter 100ms

backend rulevia
    option tcp-check
    tcp-check connect via-socks4
    server rulevia {{C2}} socks4 {{SOCKS}} check inter 100ms

backend ruledirect
    option tcp-check
    tcp-check connect
    server ruledirect {{D2}} socks4 {{SOCKS}} check-via-socks4 check inter 100ms
`

// TestSOCKS4Differential: servers behind a SOCKS4 proxy (the test's own):
// what the client gets (a refusal is a 503), the requests the proxy
// received (user id, destination: the checks of a server that gets no
// traffic reach the proxy with check-via-socks4 only, or a tcp-check
// connect via-socks4, not a non-default connect), and that the
// servers saw the traffic come through the proxy (from 127.0.0.9).
func TestSOCKS4Differential(t *testing.T) {
	a, b := startPeerLog(t, "a"), startPeerLog(t, "b")
	a2, b2 := startPeerLog(t, "a2"), startPeerLog(t, "b2")
	c2, d2 := startPeerLog(t, "c2"), startPeerLog(t, "d2")
	denyAddr := "127.0.0.1:9" // refused by the proxy before any connect
	socks := startSOCKS4(t, 9)
	names := map[string]string{a.addr: "A", b.addr: "B", denyAddr: "DENY", a2.addr: "A2-checked-via-socks4", b2.addr: "B2-checked-directly",
		c2.addr: "C2-connect-via-socks4", d2.addr: "D2-non-default-connect"}
	render := func(p []int) string {
		return strings.NewReplacer("{{P0}}", fmt.Sprint(p[0]), "{{A}}", a.addr, "{{B}}", b.addr, "{{DENY}}", denyAddr, "{{A2}}", a2.addr, "{{B2}}", b2.addr, "{{C2}}", c2.addr, "{{D2}}", d2.addr, "{{SOCKS}}", socks.addr).Replace(socksConfig)
	}
	dialDiff(t, 1, render, func(t *testing.T, p []int) []string {
		a.reset()
		b.reset()
		socks.mu.Lock()
		socks.reqs = map[string]bool{}
		socks.mu.Unlock()
		fe := fmt.Sprintf("127.0.0.1:%d", p[0])
		out := getKeepAlive(t, fe, "/x", "/direct", "/x2")
		out = append(out, getKeepAlive(t, fe, "/deny")...)
		time.Sleep(400 * time.Millisecond) // a few checks of each server
		// b's own peers are left out: HAProxy resets its direct check
		// connections, which the server may never accept.
		return append(out, "a: "+a.seen(), "socks: "+socks.seen(names))
	})
}

// TestDynamicServerTakesBackendSource: a server added at runtime connects
// from its backend's `source`, as HAProxy's connect_server falls back to
// the backend's conn_src (both lanes).
func TestDynamicServerTakesBackendSource(t *testing.T) {
	lanes(t, func(t *testing.T) {
		peer := startPeerLog(t, "dyn")
		cfg := simpleConfig()
		cfg.Backends[0].Via = &core.Via{Source: netip.MustParseAddrPort("127.0.0.6:0")}
		e, addr := startEngine(t, cfg)
		if _, err := e.Backend("be").AddServer(DynServer{Name: "dyn", Addr: netip.MustParseAddrPort(peer.addr), Weight: 1, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		got := getKeepAlive(t, addr, "/a")
		if len(got) != 1 || got[0] != "/a 200 dyn from 127.0.0.6" {
			t.Fatalf("got %q, want the answer seen from 127.0.0.6", got)
		}
	})
}
