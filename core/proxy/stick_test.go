package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/sticktable"
	"github.com/varde-lb/varde/core/testenv"
)

// stickBackend answers 200 on / and /x, 404 elsewhere.
func stickBackend(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "/x" {
			w.WriteHeader(404)
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// startHAProxyStick runs HAProxy with text (its %[1]d is the port, %[2]s
// the stats socket) and returns its address and socket.
func startHAProxyStick(t *testing.T, text func(port int, sock string) string) (string, string) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	dir := t.TempDir()
	port := testenv.FreePort(t)
	sock := filepath.Join(dir, "admin.sock")
	cfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(cfg, []byte(text(port, sock)), 0o644)
	_, logPath := testenv.Start(t, haproxy, "-db", "-f", cfg)
	testenv.WaitListening(t, "haproxy", logPath, port)
	return fmt.Sprintf("127.0.0.1:%d", port), sock
}

func haproxyCLI(t *testing.T, sock, cmd string) string {
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, cmd+"\n")
	b, _ := io.ReadAll(c)
	return string(b)
}

var (
	entryPtr = regexp.MustCompile(`(?m)^0x[0-9a-f]+: `)
	entryExp = regexp.MustCompile(` exp=\d+`)
)

// comparableDump drops what differs by nature: entry addresses, the ms
// left before expiry, the final empty line of the CLI.
func comparableDump(s string) string {
	s = entryPtr.ReplaceAllString(s, "")
	return strings.TrimSpace(entryExp.ReplaceAllString(s, ""))
}

func dumpTable(t *sticktable.Table, q sticktable.Query) string {
	var b strings.Builder
	t.Dump(&b, q)
	return b.String()
}

const rateLimitConfig = `%sdefaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur,conn_cnt,http_err_rate(10s),http_req_cnt,gpc0
    tcp-request connection track-sc1 src table per_ip
    http-request track-sc0 src
    http-request sc-inc-gpc0(0) if { path /x }
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 10 }
    default_backend be
backend be
    server s1 %s
backend per_ip
    stick-table type ip size 1m expire 10s store conn_cur,conn_rate(3s),sess_cnt,http_req_rate(10s),http_err_cnt
`

// TestDifferentialRateLimit sends the same requests from one address
// through HAProxy 2.6 and varde: the same 200/404/429 sequence at the
// threshold, and the same table contents after (show table).
func TestDifferentialRateLimit(t *testing.T) {
	be := stickBackend(t)
	haddr, sock := startHAProxyStick(t, func(port int, sock string) string {
		return fmt.Sprintf(rateLimitConfig, "global\n    stats socket "+sock+" level admin\n", port, be)
	})
	cfg := loadProxyConfig(t, fmt.Sprintf(rateLimitConfig, "", 1, be))
	cfg.Frontends[0].Binds = nil
	e, vaddr := startEngine(t, cfg)
	// HAProxy saw WaitListening's probe: a connection closed before its
	// first byte, which its mux counts as a request and an error on the
	// connection's counters. varde gets the same probe and must agree.
	if c, err := net.Dial("tcp", vaddr); err == nil {
		c.Close()
	}
	err := testenv.Until(3*time.Second, 20*time.Millisecond, func() error {
		if d := dumpTable(e.StickTables().Lookup("per_ip"), sticktable.Query{}); !strings.Contains(d, "http_err_cnt=1") {
			return fmt.Errorf("probe not counted:\n%s", d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"/", "/x", "/nope", "/", "/x", "/", "/", "/nope", "/", "/x", "/", "/", "/x", "/"}
	want := []int{200, 200, 404, 200, 200, 200, 200, 404, 200, 200, 429, 429, 429, 429}
	// One keep-alive connection, requests one after the other (an
	// http.Client may open spare connections, which both count).
	send := func(addr string) []int {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		var got []int
		for _, p := range paths {
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", p)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("%s%s: %v", addr, p, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			got = append(got, resp.StatusCode)
		}
		return got
	}
	h, v := send(haddr), send(vaddr)
	if fmt.Sprint(h) != fmt.Sprint(want) || fmt.Sprint(v) != fmt.Sprint(want) {
		t.Fatalf("statuses:\nhaproxy %v\nvarde   %v\nwant    %v", h, v, want)
	}
	for _, tc := range []struct{ table, filter string }{
		{"fe", ""}, {"per_ip", ""}, {"fe", "data.gpc0 gt 3"}, {"fe", "data.gpc0 gt 4"}, {"per_ip", "key 127.0.0.1"},
	} {
		hq := haproxyCLI(t, sock, strings.TrimSpace("show table "+tc.table+" "+tc.filter))
		tb := e.StickTables().Lookup(tc.table)
		q, err := tb.ParseQuery(strings.Fields(tc.filter))
		if err != nil {
			t.Fatal(err)
		}
		// The last transaction settles its counters just after its
		// response went out: wait for it, a bounded time.
		err = testenv.Until(3*time.Second, 20*time.Millisecond, func() error {
			if vq := dumpTable(tb, q); comparableDump(hq) != comparableDump(vq) {
				return fmt.Errorf("show table %s %s:\nhaproxy:\n%s\nvarde:\n%s", tc.table, tc.filter, hq, vq)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(dumpTable(e.StickTables().Lookup("fe"), sticktable.Query{}), "gpc0=4 conn_cnt=14 conn_cur=0 http_req_cnt=14 http_req_rate(10000)=14 http_err_rate(10000)=6") {
		t.Errorf("varde's fe table:\n%s", dumpTable(e.StickTables().Lookup("fe"), sticktable.Query{}))
	}
}

const connLimitConfig = `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout http-keep-alive 5s
frontend fe
    bind 127.0.0.1:%[1]d
    stick-table type ip size 1k expire 30s store conn_cur,conn_cnt,sess_cnt
    tcp-request %[3]s track-sc0 src
    tcp-request %[3]s reject if { sc_conn_cur(0) gt 2 }
    default_backend be
backend be
    server s1 %[2]s
`

// keepAliveGet sends one request on a new connection and leaves it open;
// ok is false when the proxy closed it without an answer.
func keepAliveGet(t *testing.T, addr string) (net.Conn, bool) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, false // reset while connecting: refused too
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return c, false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return c, resp.StatusCode == 200
}

// TestDifferentialConnLimit: with conn_cur over 2 the third concurrent
// connection of an address is refused, in both, by connection or session
// rules; once one closes, a new one is accepted again (conn_cur went down
// with the close); the tables agree (sess_cnt: the accepted ones).
func TestDifferentialConnLimit(t *testing.T) {
	for _, layer := range []string{"connection", "session"} {
		t.Run(layer, func(t *testing.T) { connLimit(t, layer) })
	}
}

func connLimit(t *testing.T, layer string) {
	be := stickBackend(t)
	haddr, sock := startHAProxyStick(t, func(port int, sock string) string {
		return "global\n    stats socket " + sock + " level admin\n" + fmt.Sprintf(connLimitConfig, port, be, layer)
	})
	cfg := loadProxyConfig(t, fmt.Sprintf(connLimitConfig, 1, be, layer))
	cfg.Frontends[0].Binds = nil
	e, vaddr := startEngine(t, cfg)
	// HAProxy saw WaitListening's probe connection: give varde one too.
	if c, err := net.Dial("tcp", vaddr); err == nil {
		c.Close()
	}
	dumps := map[string]func() string{
		haddr: func() string { return haproxyCLI(t, sock, "show table fe") },
		vaddr: func() string { return dumpTable(e.StickTables().Lookup("fe"), sticktable.Query{}) },
	}
	for _, addr := range []string{haddr, vaddr} {
		c1, ok1 := keepAliveGet(t, addr)
		_, ok2 := keepAliveGet(t, addr)
		_, ok3 := keepAliveGet(t, addr)
		if !ok1 || !ok2 || ok3 {
			t.Fatalf("%s: concurrent connections accepted %v %v %v, want true true false", addr, ok1, ok2, ok3)
		}
		c1.Close()
		// Once the proxy has seen the close (conn_cur back to 1), one
		// new connection is accepted.
		err := testenv.Until(3*time.Second, 20*time.Millisecond, func() error {
			if d := dumps[addr](); !strings.Contains(d, " conn_cur=1 ") {
				return fmt.Errorf("close not seen:\n%s", d)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if _, ok := keepAliveGet(t, addr); !ok {
			t.Fatalf("%s: refused after a close", addr)
		}
	}
	err := testenv.Until(3*time.Second, 50*time.Millisecond, func() error {
		hq := comparableDump(haproxyCLI(t, sock, "show table fe"))
		vq := comparableDump(dumpTable(e.StickTables().Lookup("fe"), sticktable.Query{}))
		if hq != vq || !strings.Contains(vq, "sess_cnt=") {
			return fmt.Errorf("show table fe:\nhaproxy:\n%s\nvarde:\n%s", hq, vq)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	// One refusal each: a connection rule's counts in dcon, a session
	// rule's in dses (HAProxy's show stat; varde's from the counters
	// its stats rows read).
	want := map[string]uint64{"dcon": 0, "dses": 0}
	if layer == "connection" {
		want["dcon"] = 1
	} else {
		want["dses"] = 1
	}
	f := e.Frontend("fe")
	got := map[string]uint64{"dcon": f.DeniedConns.Load(), "dses": f.DeniedSess.Load()}
	hs := haproxyCLI(t, sock, "show stat")
	for col, n := range want {
		if h := statCell(hs, "fe", "FRONTEND", col); h != fmt.Sprint(n) || got[col] != n {
			t.Errorf("%s: haproxy %q, varde %d, want %d\n%s", col, h, got[col], n, hs)
		}
	}
}

// statCell is column col of row pxname,svname in a show stat CSV.
func statCell(csv, px, sv, col string) string {
	lines := strings.Split(csv, "\n")
	head := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) < len(head) || f[0] != px || f[1] != sv {
			continue
		}
		for i, h := range head {
			if h == col {
				return f[i]
			}
		}
	}
	return ""
}

// trackedEngine is benchEngine's path with a rate limit: the request is
// tracked by source and checked against its rate.
func trackedEngine(tb testing.TB) *rawClient {
	cfg := loadProxyConfig(tb.(*testing.T), fmt.Sprintf(`defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:1
    stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur,http_err_rate(10s)
    http-request track-sc0 src
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 100000000 }
    default_backend be
backend be
    server s1 %s
`, rawBackend(tb)))
	cfg.Frontends[0].Binds = nil
	_, addr := startEngine(tb, cfg)
	rc := newRawClient(tb, addr)
	for i := 0; i < 100; i++ {
		rc.do(tb)
	}
	return rc
}

// TestTrackedGETAllocs: tracking an IPv4 source, counting and checking
// its rate allocates nothing per request once the entry exists.
func TestTrackedGETAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("alloc measurement")
	}
	rc := trackedEngine(t)
	if n := testing.AllocsPerRun(300, func() { rc.do(t) }); n > 0 {
		t.Fatalf("%.2f allocations per tracked GET, want 0", n)
	}
}

const stickOnConfig = `%sdefaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    default_backend be
backend be
    balance roundrobin
    stick-table type ip size 1k expire 30m
%s
    server s1 %s
    server s2 %s
`

// namedBackend answers with its name.
func namedBackend(t *testing.T, name string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) }))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestDifferentialStickOnSrc: `stick on src` keeps a client on one server
// over new connections in both HAProxy and varde, where roundrobin alone
// (or a match rule with nothing stored) alternates; show table holds the
// client with its server_id.
func TestDifferentialStickOnSrc(t *testing.T) {
	s1, s2 := namedBackend(t, "s1"), namedBackend(t, "s2")
	drain := func(cs *core.Server) { cs.SetAdmin(core.AdminDrain) }
	maint := func(cs *core.Server) { cs.SetAdmin(core.AdminMaint) }
	for _, tc := range []struct {
		rules, want, ids string
		// After the first request, s1 is changed with cli in HAProxy
		// and with set in varde.
		cli string
		set func(*core.Server)
	}{
		{"    stick on src", "s1 s1 s1 s1 s1", "key=127.0.0.1 server_id=1", "", nil},
		{"    stick match src", "s1 s2 s1 s2 s1", "", "", nil},
		{"    stick store-request src\n    stick match src if { path /m }", "s1 s2 s2 s1 s1", "key=127.0.0.1 server_id=1", "", nil},
		// A draining server, or one of weight 0, keeps its persistent
		// clients; one in maintenance loses them (and stick on stores
		// the balancer's choice) unless force-persist matches or option
		// persist is set.
		{"    stick on src", "s1 s1 s1 s1 s1", "key=127.0.0.1 server_id=1", "set server be/s1 state drain", drain},
		{"    stick on src", "s1 s1 s1 s1 s1", "key=127.0.0.1 server_id=1", "set weight be/s1 0", func(cs *core.Server) { cs.SetWeight(0) }},
		{"    stick on src", "s1 s2 s2 s2 s2", "key=127.0.0.1 server_id=2", "set server be/s1 state maint", maint},
		{"    stick on src\n    force-persist if { src 127.0.0.1 }", "s1 s1 s1 s1 s1", "key=127.0.0.1 server_id=1", "set server be/s1 state maint", maint},
		// HAProxy's stick match (unlike its cookie) lets option persist
		// reach a server in maintenance.
		{"    stick on src\n    option persist", "s1 s1 s1 s1 s1", "key=127.0.0.1 server_id=1", "set server be/s1 state maint", maint},
	} {
		haddr, sock := startHAProxyStick(t, func(port int, sock string) string {
			return fmt.Sprintf(stickOnConfig, "global\n    stats socket "+sock+" level admin\n", port, tc.rules, s1, s2)
		})
		cfg := loadProxyConfig(t, fmt.Sprintf(stickOnConfig, "", 1, tc.rules, s1, s2))
		cfg.Frontends[0].Binds = nil
		e, vaddr := startEngine(t, cfg)
		h := stickRun(t, haddr, func() {
			if tc.cli != "" {
				haproxyCLI(t, sock, tc.cli)
			}
		})
		v := stickRun(t, vaddr, func() {
			if tc.set != nil {
				tc.set(e.Backend("be").Servers()[0])
			}
		})
		if h != tc.want || v != tc.want {
			t.Errorf("%q %q: haproxy %q, varde %q, want %q", tc.rules, tc.cli, h, v, tc.want)
		}
		hq := haproxyCLI(t, sock, "show table be")
		vq := dumpTable(e.StickTables().Lookup("be"), sticktable.Query{})
		if hid, vid := serverIDs(hq), serverIDs(vq); hid != tc.ids || vid != tc.ids {
			t.Errorf("%q %q: server ids haproxy %q, varde %q\n%s\n%s", tc.rules, tc.cli, hid, vid, hq, vq)
		}
	}
}

// stickRun sends five requests on new connections to addr, calls after
// once the first is answered, and returns the servers that answered.
func stickRun(t *testing.T, addr string, after func()) string {
	var got []string
	for i, p := range []string{"/", "/", "/m", "/", "/m"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", p)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		c.Close()
		got = append(got, string(b))
		if i == 0 {
			after()
		}
	}
	return strings.Join(got, " ")
}

var serverIDRe = regexp.MustCompile(`key=\S+ .*server_id=\d+`)

// serverIDs keeps each entry's key and server_id (HAProxy also stores
// server_key, the server's name, which varde does not).
func serverIDs(dump string) string {
	var out []string
	for _, m := range serverIDRe.FindAllString(dump, -1) {
		f := strings.Fields(m)
		out = append(out, f[0]+" "+f[len(f)-1])
	}
	return strings.Join(out, ",")
}

// TestStickOnAllocs: a request kept on its server by `stick on src`
// allocates nothing once its entry exists.
func TestStickOnAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("alloc measurement")
	}
	cfg := loadProxyConfig(t, fmt.Sprintf(stickOnConfig, "", 1, "    stick on src", rawBackend(t), rawBackend(t)))
	cfg.Frontends[0].Binds = nil
	_, addr := startEngine(t, cfg)
	rc := newRawClient(t, addr)
	for i := 0; i < 100; i++ {
		rc.do(t)
	}
	if n := testing.AllocsPerRun(300, func() { rc.do(t) }); n > 0 {
		t.Fatalf("%.2f allocations per stuck GET, want 0", n)
	}
}

// TestStickH2ConnectionCounters: on a `proto h2` listener, every stream's
// request counts on the counter its connection's rule tracks, and the
// streams' rules read it.
func TestStickH2ConnectionCounters(t *testing.T) {
	cfg := loadProxyConfig(t, fmt.Sprintf(`defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:1
    stick-table type ip size 1k expire 30s store http_req_rate(10s),conn_cur
    tcp-request connection track-sc0 src
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 3 }
    default_backend be
backend be
    server s1 %s
`, stickBackend(t)))
	cfg.Frontends[0].Binds = nil
	e, addr := startH2Engine(t, cfg)
	c := h2Client(t)
	var got []int
	for i := 0; i < 5; i++ {
		resp, err := c.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	if fmt.Sprint(got) != "[200 200 200 429 429]" {
		t.Fatalf("statuses %v, want [200 200 200 429 429]", got)
	}
	if d := dumpTable(e.StickTables().Lookup("fe"), sticktable.Query{}); !strings.Contains(d, "use=1 ") || !strings.Contains(d, "conn_cur=1 http_req_rate(10000)=5") {
		t.Fatalf("table while the connection is open:\n%s", d)
	}
}

const contentHTTPConfig = `%sdefaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    stick-table type ip size 100k expire 30s store http_req_rate(10s),http_req_cnt,conn_cur,conn_cnt,http_err_cnt
    tcp-request inspect-delay 5s
    tcp-request content track-sc0 src
    tcp-request content reject if { sc_http_req_rate(0) gt 3 }
    default_backend be
backend be
    server s1 %s
`

// TestDifferentialContentRulesHTTP: tcp-request content rules in a mode
// http frontend run per request: the request is counted after them, so
// the fifth request (rate 4 > 3) is the first refused, its connection
// closed without an answer, in both; the tables agree.
func TestDifferentialContentRulesHTTP(t *testing.T) {
	be := stickBackend(t)
	haddr, sock := startHAProxyStick(t, func(port int, sock string) string {
		return fmt.Sprintf(contentHTTPConfig, "global\n    stats socket "+sock+" level admin\n", port, be)
	})
	cfg := loadProxyConfig(t, fmt.Sprintf(contentHTTPConfig, "", 1, be))
	cfg.Frontends[0].Binds = nil
	e, vaddr := startEngine(t, cfg)
	run := func(addr string) string {
		var got []string
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { c.Close() }()
		br := bufio.NewReader(c)
		for i := 0; i < 6; i++ {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				got = append(got, "closed")
				c.Close()
				if c, err = net.Dial("tcp", addr); err != nil {
					t.Fatal(err)
				}
				br = bufio.NewReader(c)
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			got = append(got, fmt.Sprint(resp.StatusCode))
		}
		return strings.Join(got, " ")
	}
	const want = "200 200 200 200 closed closed"
	if h, v := run(haddr), run(vaddr); h != want || v != want {
		t.Fatalf("haproxy %q, varde %q, want %q", h, v, want)
	}
	err := testenv.Until(3*time.Second, 20*time.Millisecond, func() error {
		hq := comparableDump(haproxyCLI(t, sock, "show table fe"))
		vq := comparableDump(dumpTable(e.StickTables().Lookup("fe"), sticktable.Query{}))
		if hq != vq || !strings.Contains(vq, "http_req_cnt=4") {
			return fmt.Errorf("show table fe:\nhaproxy:\n%s\nvarde:\n%s", hq, vq)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestListenRulesRunOnce: a listen section's http-request rules run once
// per request, as in HAProxy (its back half does not run them again), so
// sc-inc-gpc0 counts one and add-header adds one line.
func TestListenRulesRunOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Join(r.Header.Values("X-A"), "|"))
	}))
	t.Cleanup(srv.Close)
	cfg := loadProxyConfig(t, fmt.Sprintf(`defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen l
    bind 127.0.0.1:1
    stick-table type ip size 10 store gpc0,http_req_cnt
    http-request track-sc0 src
    http-request sc-inc-gpc0(0)
    http-request add-header X-A 1
    server s %s
`, strings.TrimPrefix(srv.URL, "http://")))
	cfg.Frontends[0].Binds = nil
	e, addr := startEngine(t, cfg)
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "1" {
		t.Errorf("X-A as the server saw it: %q, want %q", b, "1")
	}
	err = testenv.Until(3*time.Second, 20*time.Millisecond, func() error {
		if d := dumpTable(e.StickTables().Lookup("l"), sticktable.Query{}); !strings.Contains(d, "use=0 exp=0 gpc0=1 http_req_cnt=1") {
			return fmt.Errorf("table:\n%s", d)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestSessionRulesSeeProxyHeader: tcp-request session rules run after the
// PROXY header, so they track the client it names; connection rules see
// the socket's peer.
func TestSessionRulesSeeProxyHeader(t *testing.T) {
	cfg := loadProxyConfig(t, fmt.Sprintf(`defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:1
    stick-table type ip size 1k expire 30s store conn_cnt
    tcp-request connection track-sc1 src
    tcp-request session track-sc0 src
    default_backend be
backend be
    server s1 %s
`, stickBackend(t)))
	cfg.Frontends[0].Binds = nil
	cfg.Frontends[0].ListenersAcceptProxy = true
	e, addr := startEngine(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "PROXY TCP4 10.9.8.7 127.0.0.1 40000 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	d := dumpTable(e.StickTables().Lookup("fe"), sticktable.Query{})
	if !strings.Contains(d, "key=10.9.8.7 use=1 ") || !strings.Contains(d, "key=127.0.0.1 use=1 ") {
		t.Fatalf("want the PROXY client tracked by the session rule and the peer by the connection rule:\n%s", d)
	}
}
