package admin_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// dynConfig: a roundrobin backend that takes dynamic servers and a
// static-rr one that does not.
func dynConfig(sock string, port, mon int, web1 string) string {
	return fmt.Sprintf(`global
    stats socket %s mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend www
    bind 127.0.0.1:%d
    default_backend app
frontend mon
    bind 127.0.0.1:%d
    stats enable
    stats uri /stats
    http-request use-service prometheus-exporter if { path /metrics }
backend app
    balance roundrobin
    server web1 %s
backend fixed
    balance static-rr
    server s1 %s
`, sock, port, mon, web1, web1)
}

// TestDiffHAProxyDynServers runs HAProxy 2.6 and varde on the same
// configuration and drives both admin sockets through add server (in
// maintenance, then enabled and taking traffic), the refusals, del server
// while a request is in flight, and del server once it is idle.
func TestDiffHAProxyDynServers(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	web1, web2 := newBackend(t, "web1"), newBackend(t, "web2")
	hold := newHolder(t)
	mon := map[string]int{}
	lbs := startPair(t, func(sock string, port int) string {
		mon[sock] = testenv.FreePort(t)
		return dynConfig(sock, port, mon[sock], web1.addr())
	})
	ask := func(l lbProc, cmd string) string {
		return strings.TrimRight(send(t, "unix", l.sock, cmd), "\n")
	}
	same := func(cmd, want string) {
		t.Helper()
		for _, l := range lbs {
			if got := ask(l, cmd); got != want {
				t.Errorf("%s: %s: %q, want %q", l.name, cmd, got, want)
			}
		}
	}
	for _, tc := range []struct{ cmd, want string }{
		{"add server nope/x 127.0.0.1:9", "No such backend."},
		{"add server nope/x", "No such backend."},
		{"add server fixed/x 127.0.0.1:9", "Backend must use a dynamic load balancing to support dynamic servers."},
		{"add server app/web1 127.0.0.1:9", "Already exists a server with the same name in backend."},
		{"add server app/x", "'server' expects <name> and <addr>[:<port>] as arguments."},
		{"add server app/x 127.0.0.1:9 cookie c", "'cookie' option is not accepted for dynamic server"},
		{"add server app/x 127.0.0.1:9 non-stick", "'non-stick' option is not accepted for dynamic server"},
		{"add server app/x! 127.0.0.1:9", "character '!' is not permitted in server name 'x!'."},
		{"add server app/x 127.0.0.1:9 weight 300", "weight of server x is not within 0 and 256 (300).."},
		{"add server app/x 127.0.0.1:99999", "invalid port '99999'"},
		{"del server app/zz", "No such server."},
		{"del server nope/x", "No such backend."},
		{"del server app/web1", "Only servers in maintenance mode can be deleted."},
		{"add server app/web2 " + web2.addr() + " weight 2", "New server registered."},
		{"add server app/web2 " + web2.addr(), "Already exists a server with the same name in backend."},
	} {
		same(tc.cmd, tc.want)
	}
	for _, l := range lbs {
		row := parseCSV(t, send(t, "unix", l.sock, "show stat")).rows["app,web2"]
		if row["status"] != "MAINT" || row["addr"] != web2.addr() {
			t.Errorf("%s: new server's row: status %q addr %q", l.name, row["status"], row["addr"])
		}
	}
	// show servers state: the same id, name, address, operational state
	// (0: stopped, in maintenance), admin state (1: forced maintenance),
	// weights and port.
	var states []string
	for _, l := range lbs {
		states = append(states, stateFields(t, ask(l, "show servers state app"), "web2", 2, 3, 4, 5, 6, 7, 8, 18))
	}
	t.Logf("web2 state fields: %q", states)
	if states[0] != states[1] || states[0] == "" {
		t.Errorf("show servers state web2: haproxy %q, varde %q", states[0], states[1])
	}
	// The stats page and the Prometheus exporter list it too.
	for _, l := range lbs {
		page := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/stats", mon[l.sock]))
		metrics := fetch(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", mon[l.sock]))
		if !strings.Contains(page, "web2") {
			t.Errorf("%s: the stats page does not list web2", l.name)
		}
		if !strings.Contains(metrics, `haproxy_server_status{proxy="app",server="web2",state="MAINT"} 1`) {
			t.Errorf("%s: no MAINT haproxy_server_status for web2", l.name)
		}
	}
	// In maintenance: no traffic. Enabled: its share of the round robin.
	for _, l := range lbs {
		before := web2.hits.Load()
		get(t, l, 6)
		if n := web2.hits.Load() - before; n != 0 {
			t.Errorf("%s: %d requests reached a server in maintenance", l.name, n)
		}
	}
	same("enable server app/web2", "")
	var weights []string
	for _, l := range lbs {
		before := web2.hits.Load()
		get(t, l, 9)
		if n := web2.hits.Load() - before; n < 5 || n > 7 {
			t.Errorf("%s: web2 (weight 2 of 3) got %d of 9 requests, want about 6", l.name, n)
		}
		row := parseCSV(t, send(t, "unix", l.sock, "show stat")).rows["app,web2"]
		if row["status"] != "no check" {
			t.Errorf("%s: enabled server's status %q", l.name, row["status"])
		}
		weights = append(weights, row["weight"])
	}
	if weights[0] != weights[1] {
		t.Errorf("weight column: haproxy %q, varde %q", weights[0], weights[1])
	}
	checkedServers(t, lbs, web2, same)
	busyThenDelete(t, lbs, hold, ask, same)
	// web2 is idle: into maintenance, then deleted (HAProxy refuses while
	// it keeps idle connections to it, so wait those out).
	same("disable server app/web2", "")
	for _, l := range lbs {
		var got string
		testenv.Until(15*time.Second, 100*time.Millisecond, func() error {
			if got = ask(l, "del server app/web2"); got != "Server deleted." {
				return fmt.Errorf("%s", got)
			}
			return nil
		})
		if got != "Server deleted." {
			t.Errorf("%s: del server app/web2: %q", l.name, got)
		}
		if _, ok := parseCSV(t, send(t, "unix", l.sock, "show stat")).rows["app,web2"]; ok {
			t.Errorf("%s: a deleted server is still listed", l.name)
		}
		if l.name == "varde" {
			// A deleted server's runtime changes are forgotten with it.
			if st, err := os.ReadFile(l.sock + ".state"); err == nil && strings.Contains(string(st), "app/web2") {
				t.Errorf("the state file keeps a deleted server: %s", st)
			}
		}
		before := web1.hits.Load()
		get(t, l, 4)
		if n := web1.hits.Load() - before; n != 4 {
			t.Errorf("%s: web1 got %d of 4 requests after the delete", l.name, n)
		}
	}
}

// busyThenDelete adds a server that holds requests, sends it one, and
// checks that del server refuses while it is in flight and succeeds after.
func busyThenDelete(t *testing.T, lbs []lbProc, hold *holder, ask func(lbProc, string) string, same func(string, string)) {
	t.Helper()
	same("add server app/hold "+hold.addr(), "New server registered.")
	same("disable server app/web1", "")
	same("disable server app/web2", "")
	same("enable server app/hold", "")
	for _, l := range lbs {
		done := make(chan struct{})
		go func() {
			defer close(done)
			c := http.Client{Timeout: 10 * time.Second}
			if resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/held", l.web)); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		hold.waitConn(t)
		if got := ask(l, "del server app/hold"); got != "Only servers in maintenance mode can be deleted." {
			t.Errorf("%s: del server of a busy ready server: %q", l.name, got)
		}
		if got := ask(l, "disable server app/hold"); got != "" {
			t.Errorf("%s: disable: %q", l.name, got)
		}
		if got := ask(l, "del server app/hold"); got != "Server still has connections attached to it, cannot remove it." {
			t.Errorf("%s: del server with a request in flight: %q", l.name, got)
		}
		hold.release()
		<-done
		hold.drain()
		var got string
		testenv.Until(15*time.Second, 100*time.Millisecond, func() error {
			if got = ask(l, "del server app/hold"); got != "Server deleted." {
				return fmt.Errorf("%s", got)
			}
			return nil
		})
		if got != "Server deleted." {
			t.Errorf("%s: del server once idle: %q", l.name, got)
		}
	}
	same("enable server app/web1", "")
	same("enable server app/web2", "")
}

// get sends n requests through l, one connection each.
func get(t *testing.T, l lbProc, n int) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < n; i++ {
		resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/x", l.web))
		if err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", l.name, resp.StatusCode)
		}
	}
}

// holder is a server that accepts connections and never answers until
// released, then closes them: a request stays in flight on it.
type holder struct {
	ln    net.Listener
	conns chan net.Conn
	mu    sync.Mutex
	open  []net.Conn
}

func newHolder(t *testing.T) *holder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &holder{ln: ln, conns: make(chan net.Conn, 16)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.open = append(h.open, c)
			h.mu.Unlock()
			h.conns <- c
		}
	}()
	t.Cleanup(func() { ln.Close(); h.release() })
	return h
}

func (h *holder) addr() string { return h.ln.Addr().String() }

// waitConn waits for a connection that carries a request.
func (h *holder) waitConn(t *testing.T) {
	t.Helper()
	select {
	case <-h.conns:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection reached the holding server")
	}
}

// drain forgets connections already accepted (a retry after release).
func (h *holder) drain() {
	for {
		select {
		case <-h.conns:
		default:
			h.release()
			return
		}
	}
}

func (h *holder) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.open {
		c.Close()
	}
	h.open = nil
}

// stateFields picks columns of a server's `show servers state` line.
func stateFields(t *testing.T, out, server string, cols ...int) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[3] == server {
			var pick []string
			for _, c := range cols {
				if c < len(f) {
					pick = append(pick, f[c])
				}
			}
			return strings.Join(pick, " ")
		}
	}
	return ""
}

func fetch(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// checkedServers: a server added with `check` is checked only after
// `enable health` (HAProxy 2.6), its status following the probe; `disable
// health` stops it; a server without checks cannot have them enabled.
func checkedServers(t *testing.T, lbs []lbProc, live *backend, same func(string, string)) {
	t.Helper()
	dead := closedPort(t)
	same("enable health app/web1", "Health check was not configured on this server, cannot enable.")
	same("add server app/up "+live.addr()+" check inter 100 rise 1 fall 1", "New server registered.")
	same("add server app/down "+dead+" check inter 100 rise 2 fall 1", "New server registered.")
	same("enable server app/up", "")
	same("enable server app/down", "")
	status := func(l lbProc, srv string) string {
		return parseCSV(t, send(t, "unix", l.sock, "show stat")).rows["app,"+srv]["status"]
	}
	for _, l := range lbs {
		for _, srv := range []string{"up", "down"} {
			if st := status(l, srv); st != "no check" {
				t.Errorf("%s: %s before enable health: %q, want no check", l.name, srv, st)
			}
		}
	}
	same("enable health app/up", "")
	same("enable health app/down", "")
	for _, l := range lbs {
		for srv, want := range map[string]string{"up": "UP", "down": "DOWN"} {
			var st string
			testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
				if st = status(l, srv); st != want {
					return fmt.Errorf("%s", st)
				}
				return nil
			})
			if st != want {
				t.Errorf("%s: %s after enable health: %q, want %q", l.name, srv, st, want)
			}
		}
	}
	same("disable health app/up", "")
	for _, l := range lbs {
		if st := status(l, "up"); st != "no check" {
			t.Errorf("%s: after disable health: %q, want no check", l.name, st)
		}
	}
	for _, srv := range []string{"up", "down"} {
		same("disable server app/"+srv, "")
		same("del server app/"+srv, "Server deleted.")
	}
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}
