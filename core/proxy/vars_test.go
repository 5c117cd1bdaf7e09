package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

// varsConfig exercises set-var, set-var-fmt and unset-var in every scope
// with the 2.6 conditions; the backend's echo of the X- headers it got
// and the X-Res response header show what each variable held.
const varsConfig = `global
    maxconn 100
    set-var proc.g str(global)
    set-var proc.gi int(5),add(2)
    set-var-fmt proc.gf "fmt-%[var(proc.g)]-%[int(3)]"
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{{PORT}}
    tcp-request content set-var(txn.tcp) str(tcp)
    tcp-request content set-var(sess.tc) var(sess.tc,0),add(1)
    http-request set-var(txn.host) req.hdr(host),lower
    http-request set-var(req.gt) int(5)
    http-request set-var(req.gt,ifgt) int(3)
    http-request set-var(req.lt) int(5)
    http-request set-var(req.lt,iflt) int(3)
    http-request set-var(txn.empty) str()
    http-request set-var(txn.notempty,ifnotempty) str()
    http-request set-var(txn.ifempty,ifempty) int(1)
    http-request set-var(txn.ifempty2,ifempty) str()
    http-request set-var(txn.first,ifnotexists) str(one)
    http-request set-var(txn.first,ifnotexists) str(two)
    http-request set-var(txn.ex,ifexists) str(x)
    http-request set-var(txn.gone) str(gone)
    http-request unset-var(txn.gone)
    http-request set-var(txn.created,ifset) str(a)
    http-request set-var(txn.created,ifexists) str(b)
    http-request set-var(txn.notset,ifnotset) str(c)
    http-request set-var(txn.notset,ifnotset) str(d)
    http-request set-var(txn.addr) src
    http-request set-var(txn.bool) always_true
    http-request set-var-fmt(txn.fmt) "%[var(txn.host)]|%[path]|%[var(req.gt)]"
    http-request set-var(sess.n) var(sess.n,0),add(1)
    http-request set-var(txn.ua) req.hdr(x-ua) if { req.hdr(x-ua) -m found }
    http-request set-var(proc.pv,ifnotexists) str(p)
    http-request set-header X-Host %[var(txn.host)]
    http-request set-header X-Gt %[var(req.gt)]
    http-request set-header X-Lt %[var(req.lt)]
    http-request set-header X-Empty "<%[var(txn.empty)]>"
    http-request set-header X-Notempty "<%[var(txn.notempty)]>"
    http-request set-header X-Ifempty "<%[var(txn.ifempty)]><%[var(txn.ifempty2)]>"
    http-request set-header X-First %[var(txn.first)]
    http-request set-header X-Ex "<%[var(txn.ex)]>"
    http-request set-header X-Gone "<%[var(txn.gone)]>"
    http-request set-header X-Created "<%[var(txn.created)]>"
    http-request set-header X-Notset "<%[var(txn.notset)]>"
    http-request set-header X-Types "%[var(txn.addr)] %[var(txn.bool)] %[var(req.gt),add(10)]"
    http-request set-header X-Fmt %[var(txn.fmt)]
    http-request set-header X-Sess %[var(sess.n)]
    http-request set-header X-Tcp "%[var(txn.tcp)] %[var(sess.tc)]"
    http-request set-header X-Ua "<%[var(txn.ua)]>"
    http-request set-header X-Default "<%[var(txn.nothing,dflt)]>"
    http-request set-header X-Proc "<%[var(proc.pv)]>"
    http-request set-header X-Global "%[var(proc.g)] %[var(proc.gi)] %[var(proc.gf)]"
    http-response set-var(res.st) status
    http-response set-var(req.late) str(late)
    http-response set-header X-Res "%[var(res.st)]|<%[var(req.gt)]>|<%[var(req.late)]>|%[var(txn.host)]|%[var(sess.n)]"
    default_backend app
backend app
    server s1 {{BACKEND}}
`

// varsRequests are sent on one keep-alive connection each (the slices
// inside): sess. variables live across its requests, txn. ones do not.
var varsRequests = [][]string{
	{"GET /a HTTP/1.1\r\nHost: WWW.Example.COM\r\n\r\n", "GET /b HTTP/1.1\r\nHost: other\r\nX-Ua: curl\r\n\r\n", "GET /c HTTP/1.1\r\nHost: third\r\n\r\n"},
	{"GET /d HTTP/1.1\r\nHost: new.conn\r\n\r\n"},
}

// echoXHeaders answers with the X- headers the request carried, sorted.
func echoXHeaders(w http.ResponseWriter, r *http.Request) {
	var lines []string
	for k, vs := range r.Header {
		if strings.HasPrefix(k, "X-") {
			lines = append(lines, k+": "+strings.Join(vs, ","))
		}
	}
	sort.Strings(lines)
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, strings.Join(lines, "\n")+"\n")
}

// varsExchange sends each group of requests on one connection and
// returns, per request, the status, the X-Res header and the body.
func varsExchange(t *testing.T, addr string, groups [][]string) []string {
	t.Helper()
	var out []string
	for _, g := range groups {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		for _, raw := range g {
			io.WriteString(c, raw)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("%q: %v", raw, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			out = append(out, fmt.Sprintf("%d X-Res=%q\n%s", resp.StatusCode, resp.Header.Get("X-Res"), b))
		}
		c.Close()
	}
	return out
}

func renderVarsConfig(text string, port int, backendAddr string) string {
	s := strings.ReplaceAll(text, "{{PORT}}", fmt.Sprint(port))
	return strings.ReplaceAll(s, "{{BACKEND}}", backendAddr)
}

// TestVarsDifferentialHAProxy runs the same variable rules in HAProxy 2.6
// and in varde and compares what the backend received and what the client
// got, request by request.
func TestVarsDifferentialHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	b, _ := backend(t, "echo", echoXHeaders)
	dir := t.TempDir()

	hport := testenv.FreePort(t)
	hcfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hcfg, []byte(renderVarsConfig(varsConfig, hport, hostport(b))), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := varsExchange(t, haddr, varsRequests)

	vport := testenv.FreePort(t)
	startVardeText(t, renderVarsConfig(varsConfig, vport, hostport(b)), vport)
	vOut := varsExchange(t, fmt.Sprintf("127.0.0.1:%d", vport), varsRequests)

	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("answers differ (-haproxy +varde)\n%s", d)
	}
	if len(vOut) != 4 || !strings.Contains(vOut[0], "X-Global: global 7 fmt-global-3") {
		t.Errorf("global set-var lines not applied:\n%s", vOut[0])
	}
	if len(vOut) != 4 || !strings.Contains(vOut[2], "X-Sess: 3") || !strings.Contains(vOut[3], "X-Sess: 1") {
		t.Errorf("sess. variables do not follow the connection:\n%s", strings.Join(vOut, "\n"))
	}
}

// varRule builds an ActActor rule the way rulesOf does.
func varRule(tb testing.TB, action string, va *config.VarAction) *HTTPRule {
	tb.Helper()
	a, err := buildVarActor(&config.HTTPRule{Action: action, Var: va})
	if err != nil {
		tb.Fatal(err)
	}
	return &HTTPRule{Action: ActActor, Actor: a}
}

// With variables in use (txn., req., sess. and set-var-fmt), a warm
// keep-alive connection still allocates nothing per request: the storage
// is pooled with the session.
func TestVarsNoAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("alloc measurement (the race detector drops pooled items)")
	}
	cfg := simpleConfig(rawBackend(t))
	fe := cfg.Frontends[0]
	fe.HTTPRequest = []*HTTPRule{
		varRule(t, "set-var(txn.host)", &config.VarAction{Name: "txn.host", Expr: "req.hdr(host),lower"}),
		varRule(t, "set-var(req.n)", &config.VarAction{Name: "req.n", Expr: "int(5)"}),
		varRule(t, "set-var(sess.n)", &config.VarAction{Name: "sess.n", Expr: "var(sess.n,0),add(1)"}),
		varRule(t, "set-var-fmt(txn.f)", &config.VarAction{Name: "txn.f", Fmt: "%[src]:%[var(txn.host)]"}),
		varRule(t, "unset-var(txn.f)", &config.VarAction{Name: "txn.f"}),
	}
	_, addr := startEngine(t, cfg)
	rc := newRawClient(t, addr)
	for i := 0; i < 100; i++ {
		rc.do(t)
	}
	if n := testing.AllocsPerRun(300, func() { rc.do(t) }); n > 0 {
		t.Fatalf("%.2f allocations per request with variables, want 0", n)
	}
}

// varsTCPConfig: in mode tcp, tcp-request content rules set variables
// that use_backend reads.
const varsTCPConfig = `defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend ft
    bind 127.0.0.1:{{PORT}}
    tcp-request inspect-delay 2s
    tcp-request content set-var(sess.src) src
    tcp-request content set-var(txn.len) req.len
    tcp-request content set-var-fmt(txn.f) "%[src]"
    tcp-request content unset-var(txn.f) if { req.len lt 3 }
    tcp-request content accept if { req.len gt 0 }
    use_backend two if { var(sess.src) -m ip 127.0.0.1 } { var(txn.len) -m int gt 3 } { var(txn.f) -m found }
    default_backend one
backend one
    server s1 {{ONE}}
backend two
    server s2 {{TWO}}
`

// TestVarsTCPModeDifferentialHAProxy: the same mode tcp rules choose the
// same backend in HAProxy 2.6 and varde.
func TestVarsTCPModeDifferentialHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	answer := func(name string) string {
		return rawServer(t, func(c net.Conn) {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			fmt.Fprintf(c, "%s got %q\n", name, buf[:n])
		})
	}
	one, two := answer("one"), answer("two")
	render := func(port int) string {
		s := strings.ReplaceAll(varsTCPConfig, "{{PORT}}", fmt.Sprint(port))
		return strings.NewReplacer("{{ONE}}", one, "{{TWO}}", two).Replace(s)
	}
	ask := func(addr string) []string {
		var out []string
		for _, msg := range []string{"hello", "hi"} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, msg)
			b, _ := io.ReadAll(c)
			c.Close()
			out = append(out, string(b))
		}
		return out
	}
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := ask(haddr)

	vport := testenv.FreePort(t)
	startVardeText(t, render(vport), vport)
	vOut := ask(fmt.Sprintf("127.0.0.1:%d", vport))
	want := []string{"two got \"hello\"\n", "one got \"hi\"\n"}
	if d := cmp.Diff(hOut, vOut); d != "" || !cmp.Equal(want, vOut) {
		t.Errorf("answers (-haproxy +varde)\n%s\nvarde %q", d, vOut)
	}
}

// The streams of one HTTP/2 connection share its sess. variables (locked:
// they run concurrently; run it with -race), each with its own txn. ones;
// a new connection starts afresh.
func TestVarsH2SessionShared(t *testing.T) {
	srv, seen := backend(t, "a", nil)
	cfg := simpleConfig(hostport(srv))
	cfg.Frontends[0].HTTPRequest = []*HTTPRule{
		varRule(t, "set-var(sess.n)", &config.VarAction{Name: "sess.n", Expr: "var(sess.n,0),add(1)"}),
		varRule(t, "set-var(txn.p)", &config.VarAction{Name: "txn.p", Expr: "path"}),
		{Action: ActSetHeader, Name: "X-N", Value: "%[var(sess.n)]"},
		{Action: ActSetHeader, Name: "X-P", Value: "%[var(txn.p)]"},
	}
	for _, r := range cfg.Frontends[0].HTTPRequest {
		if err := r.compile(); err != nil {
			t.Fatal(err)
		}
	}
	_, addr := startH2Engine(t, cfg)
	c := h2Client(t)
	get := func(path string) {
		resp, err := c.Get("http://" + addr + path)
		if err != nil {
			t.Error(err)
			return
		}
		body(t, resp)
	}
	get("/first")
	if r := seen.last(); r.Header.Get("X-N") != "1" || r.Header.Get("X-P") != "/first" {
		t.Fatalf("first stream: X-N %q X-P %q", r.Header.Get("X-N"), r.Header.Get("X-P"))
	}
	done := make(chan struct{})
	for i := 0; i < 8; i++ {
		go func(i int) {
			defer func() { done <- struct{}{} }()
			get(fmt.Sprintf("/c%d", i))
		}(i)
	}
	for i := 0; i < 8; i++ {
		<-done
	}
	get("/last")
	// Concurrent streams run their rules in parallel (HAProxy runs one
	// connection's streams on one thread): var(sess.n,0),add(1) is a read
	// then a write, so two streams may read the same count.
	if r := seen.last(); r.Header.Get("X-P") != "/last" || r.Header.Get("X-N") < "2" && len(r.Header.Get("X-N")) == 1 {
		t.Fatalf("after 10 streams on one connection: X-N %q X-P %q", r.Header.Get("X-N"), r.Header.Get("X-P"))
	}
	get("/again")
	if r := seen.last(); r.Header.Get("X-N") == "1" {
		t.Fatalf("sess.n restarted on the same connection")
	}
	c2 := h2Client(t)
	resp, err := c2.Get("http://" + addr + "/other")
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if r := seen.last(); r.Header.Get("X-N") != "1" {
		t.Fatalf("a new connection saw sess.n %q", r.Header.Get("X-N"))
	}
}

// TestVarsHeaderValueAtRuleTurn: a header rule's value is evaluated when
// the rule runs, so a variable changed by a later rule does not change it
// (HAProxy sends "1" here).
func TestVarsHeaderValueAtRuleTurn(t *testing.T) {
	b, _ := backend(t, "echo", echoXHeaders)
	port := testenv.FreePort(t)
	startVardeText(t, renderVarsConfig(`defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{{PORT}}
    http-request set-var(txn.a) str(1)
    http-request set-header X-A %[var(txn.a)]
    http-request set-var(txn.a) str(2)
    http-request set-header X-B %[var(txn.a)]
    default_backend app
backend app
    server s1 {{BACKEND}}
`, port, hostport(b)), port)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := string(body), "X-A: 1\nX-B: 2\n"; got != want {
		t.Fatalf("backend saw %q, want %q", got, want)
	}
}
