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
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

// monitorConfig: a monitor URI, a monitor fail condition, and an
// http-request rule that would deny the same path: HAProxy answers the
// monitor URI before any rule, so the deny never sees it.
const monitorConfig = `global
    maxconn 100

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{{PORT}}
    log 127.0.0.1:{{SYSLOG}} local0
    option httplog
    monitor-uri /alive
    acl maint req.hdr(x-maint) -m found
    monitor fail if maint
    http-request deny if { path /alive }
    default_backend be

backend be
    server a {{SERVER}}
`

// monitorRequests each go on a new connection.
var monitorRequests = []string{
	"GET /alive HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /alive HTTP/1.1\r\nHost: h\r\nX-Maint: 1\r\n\r\n",
	"HEAD /alive HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /alive HTTP/1.0\r\n\r\n",
	"GET /alive?full=1 HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /ALIVE HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET http://h/alive HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /alive/ HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /other HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /alive HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
}

// monitorOutcome is what a client saw: status, the body and whether the
// proxy closed the connection after the answer.
type monitorOutcome struct {
	Status int
	Body   string
	Closed bool
}

func runMonitorRequests(t *testing.T, addr string) []monitorOutcome {
	t.Helper()
	var out []monitorOutcome
	for _, raw := range monitorRequests {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, raw)
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: strings.Fields(raw)[0]})
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		b, _ := io.ReadAll(resp.Body)
		c.Close()
		out = append(out, monitorOutcome{Status: resp.StatusCode, Body: string(b), Closed: resp.Close})
	}
	return out
}

// monitorServer counts what reached the server.
type monitorServer struct {
	mu   sync.Mutex
	uris []string
}

func startMonitorServer(t *testing.T) (*monitorServer, string) {
	ms := &monitorServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms.mu.Lock()
		ms.uris = append(ms.uris, r.Method+" "+r.RequestURI)
		ms.mu.Unlock()
		w.Header().Set("Connection", "close")
		io.WriteString(w, "server")
	}))
	t.Cleanup(srv.Close)
	return ms, strings.TrimPrefix(srv.URL, "http://")
}

func (ms *monitorServer) take() []string {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	u := ms.uris
	ms.uris = nil
	sort.Strings(u)
	return u
}

// monitorSentinel is sent after the requests compared: once its log line
// is in, the lines of the requests before it are too, so a request found
// missing was not logged (rather than not yet received).
const monitorSentinel = "GET /zz-sentinel"

func sendSentinel(t *testing.T, addr string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/zz-sentinel")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// syslogReceiver collects the request lines of HAProxy's log; the function
// returned waits (5 s at most) for the sentinel's line, then returns them
// sorted.
func syslogReceiver(t *testing.T) (int, func() []string) {
	port, l := startUDPSyslog(t, regexp.MustCompile(`"([A-Z]+ [^"]*) HTTP/1\.[01]"`))
	return port, func() []string { return l.column(t, 1, monitorSentinel, 1) }
}

// TestMonitorDifferential runs the same configuration through HAProxy 2.6
// and varde and compares what clients get for monitor-uri requests, what
// reaches the server, and which requests are logged.
func TestMonitorDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	ms, srvAddr := startMonitorServer(t)
	slPort, logged := syslogReceiver(t)
	dir := t.TempDir()
	render := func(port int) string {
		r := strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{SYSLOG}}", fmt.Sprint(slPort), "{{SERVER}}", srvAddr)
		return r.Replace(monitorConfig)
	}

	hport := testenv.FreePort(t)
	hcfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := runMonitorRequests(t, haddr)
	sendSentinel(t, haddr)
	hSeen := ms.take()
	hLogged := logged()

	vport := testenv.FreePort(t)
	vcfg := filepath.Join(dir, "varde.cfg")
	os.WriteFile(vcfg, []byte(render(vport)), 0o644)
	set, d := config.LoadFiles([]string{vcfg}, nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	sink := &recSink{}
	pcfg.Sink = sink
	pcfg.Frontends[0].Binds = nil
	e, vaddr := startEngine(t, pcfg)
	vOut := runMonitorRequests(t, vaddr)
	sendSentinel(t, vaddr)
	vSeen := ms.take()
	var vLogged []string
	err = testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		vLogged = vLogged[:0]
		for _, r := range sink.all() {
			l := string(r.RequestLine.Bytes())
			vLogged = append(vLogged, strings.TrimSuffix(strings.TrimSuffix(l, " HTTP/1.1"), " HTTP/1.0"))
		}
		if !slices.Contains(vLogged, monitorSentinel) {
			return fmt.Errorf("no record for %s among %q", monitorSentinel, vLogged)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(vLogged)

	for i := range hOut {
		t.Logf("%-48q haproxy %d closed=%v | varde %d closed=%v", monitorRequests[i], hOut[i].Status, hOut[i].Closed, vOut[i].Status, vOut[i].Closed)
	}
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("client-side outcomes differ (-haproxy +varde)\n%s", d)
	}
	if d := cmp.Diff(hSeen, vSeen); d != "" {
		t.Errorf("requests reaching the server differ (-haproxy +varde)\n%s", d)
	}
	if d := cmp.Diff(hLogged, vLogged); d != "" {
		t.Errorf("logged requests differ (-haproxy +varde)\n%s", d)
	}
	// The monitor answers count as intercepted (HAProxy's intercepted_req).
	if n := e.Frontend("fe").Meters.Intercepted.Load(); n < 5 {
		t.Errorf("intercepted = %d, want at least the 5 monitor answers", n)
	}
}

// TestMonitorKeepAliveAndErrorfile: on one connection, a HEAD to the
// monitor URI gets a head without body (the next answer parses right
// after it) and the connection carries the next request to the server;
// `errorfile 200` replaces the page and closes, as any custom page.
func TestMonitorKeepAliveAndErrorfile(t *testing.T) {
	ms, srvAddr := startMonitorServer(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "200.http")
	os.WriteFile(page, []byte("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nup\n"), 0o644)
	cases := []struct {
		name, extra string
		reqs        []string
		want        []monitorOutcome
		seen        []string
	}{
		{"keep-alive", "", []string{
			"HEAD /alive HTTP/1.1\r\nHost: h\r\n\r\n",
			"GET /alive HTTP/1.1\r\nHost: h\r\n\r\n",
			"GET /x HTTP/1.1\r\nHost: h\r\n\r\n",
		}, []monitorOutcome{{Status: 200}, {Status: 200, Body: "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n"}, {Status: 200, Body: "server"}}, []string{"GET /x"}},
		{"errorfile", "    errorfile 200 " + page + "\n", []string{
			"GET /alive HTTP/1.1\r\nHost: h\r\n\r\n",
		}, []monitorOutcome{{Status: 200, Body: "up\n", Closed: true}}, nil},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			src := "defaults\n mode http\n timeout client 5s\n timeout server 5s\n timeout connect 1s\n" +
				"frontend fe\n bind 127.0.0.1:1\n monitor-uri /alive\n" + tt.extra + " default_backend be\n" +
				"backend be\n server a " + srvAddr + "\n"
			set, d := config.LoadFiles(writeCfg(t, src), nil)
			if d.HasErrors() {
				t.Fatal(d.Err())
			}
			pcfg, err := FromConfig(set.HAProxy)
			if err != nil {
				t.Fatal(err)
			}
			pcfg.Frontends[0].Binds = nil
			_, addr := startEngine(t, pcfg)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			br := bufio.NewReader(c)
			var got []monitorOutcome
			for _, raw := range tt.reqs {
				io.WriteString(c, raw)
				// A body sent to HEAD would break the next answer's parsing.
				resp, err := http.ReadResponse(br, &http.Request{Method: strings.Fields(raw)[0]})
				if err != nil {
					t.Fatalf("%q: %v", raw, err)
				}
				b, _ := io.ReadAll(resp.Body)
				got = append(got, monitorOutcome{Status: resp.StatusCode, Body: string(b), Closed: resp.Close})
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
			if d := cmp.Diff(tt.seen, ms.take()); d != "" {
				t.Errorf("server saw (-want +got)\n%s", d)
			}
		})
	}
}

func writeCfg(t *testing.T, src string) []string {
	p := filepath.Join(t.TempDir(), "h.cfg")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{p}
}

// redirectConfig: bare `redirect` lines in a frontend and a backend, each
// after an http-request deny for the same path (the deny runs first).
const redirectConfig = `defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{{PORT}}
    http-request deny if { path /denied }
    redirect location /from-fe code 301 if { path /denied }
    redirect location /moved if { path /old }
    redirect scheme https if { hdr(host) -i secure.example }
    use_backend be2 if { path_beg /b2 }
    default_backend be

backend be
    server a {{SERVER}}

backend be2
    http-request deny if { path /b2/deny }
    redirect prefix /v2 code 308 if { path_beg /b2/ }
    server a {{SERVER}}
`

var redirectRequests = []string{
	"GET /denied HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /old?q=1 HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /old HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /x?y HTTP/1.1\r\nHost: secure.example\r\n\r\n",
	"GET /b2/deny HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /b2/x?z HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /plain HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /old HTTP/1.0\r\n\r\n",
}

type redirectOutcome struct {
	Status   int
	Location string
	Closed   bool
	Body     string
}

func runRedirectRequests(t *testing.T, addr string) []redirectOutcome {
	t.Helper()
	var out []redirectOutcome
	for _, raw := range redirectRequests {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, raw)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		b, _ := io.ReadAll(resp.Body)
		c.Close()
		out = append(out, redirectOutcome{resp.StatusCode, resp.Header.Get("Location"), resp.Close, string(b)})
	}
	return out
}

// TestBareRedirectDifferential runs bare `redirect` lines through HAProxy
// 2.6 and varde: same answers (status, Location, body, close), same
// requests reaching the server.
func TestBareRedirectDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	ms, srvAddr := startMonitorServer(t)
	dir := t.TempDir()
	render := func(port int) string {
		return strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{SERVER}}", srvAddr).Replace(redirectConfig)
	}
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := runRedirectRequests(t, haddr)
	hSeen := ms.take()

	set, d := config.LoadFiles(writeCfg(t, render(testenv.FreePort(t))), nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	pcfg.Frontends[0].Binds = nil
	_, vaddr := startEngine(t, pcfg)
	vOut := runRedirectRequests(t, vaddr)
	vSeen := ms.take()
	for i, o := range vOut {
		t.Logf("%-44q varde %d %q closed=%v", redirectRequests[i], o.Status, o.Location, o.Closed)
	}
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("client-side outcomes differ (-haproxy +varde)\n%s", d)
	}
	if d := cmp.Diff(hSeen, vSeen); d != "" {
		t.Errorf("requests reaching the server differ (-haproxy +varde)\n%s", d)
	}
}

// nbsrvConfig: nbsrv in monitor fail, use_backend and an lf-string, over
// backends with active, disabled and backup servers.
const nbsrvConfig = `defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{{PORT}}
    monitor-uri /alive
    monitor fail if { nbsrv(dead) lt 1 } { req.hdr(x-check-dead) -m found }
    http-request return status 200 content-type text/plain lf-string "%[nbsrv(be)] %[nbsrv(dead)] %[nbsrv(bk)] %[nbsrv(bk2)]" if { path /n }
    use_backend dead if { path /b } { nbsrv(be) ge 2 }
    default_backend be

backend be
    server a {{SERVER}}
    server b {{SERVER}}

backend dead
    server d {{SERVER}} disabled

backend bk
    server d {{SERVER}} disabled
    server b1 {{SERVER}} backup
    server b2 {{SERVER}} backup

backend bk2
    option allbackups
    server d {{SERVER}} disabled
    server b1 {{SERVER}} backup
    server b2 {{SERVER}} backup
`

// TestNbsrvDifferential compares nbsrv's values and uses with HAProxy 2.6.
func TestNbsrvDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	ms, srvAddr := startMonitorServer(t)
	render := func(port int) string {
		return strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{SERVER}}", srvAddr).Replace(nbsrvConfig)
	}
	reqs := []string{
		"GET /n HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /alive HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /alive HTTP/1.1\r\nHost: h\r\nX-Check-Dead: 1\r\n\r\n",
		"GET /b HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /c HTTP/1.1\r\nHost: h\r\n\r\n",
	}
	run := func(addr string) []monitorOutcome {
		var out []monitorOutcome
		for _, raw := range reqs {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, raw)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("%q: %v", raw, err)
			}
			b, _ := io.ReadAll(resp.Body)
			c.Close()
			out = append(out, monitorOutcome{Status: resp.StatusCode, Body: string(b)})
		}
		return out
	}
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := run(haddr)
	hSeen := ms.take()

	set, d := config.LoadFiles(writeCfg(t, render(testenv.FreePort(t))), nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	pcfg.Frontends[0].Binds = nil
	_, vaddr := startEngine(t, pcfg)
	vOut := run(vaddr)
	vSeen := ms.take()
	if hOut[0].Body != "2 0 1 2" {
		t.Errorf("HAProxy's nbsrv values: %q, the test expects 2 0 1 2", hOut[0].Body)
	}
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("client-side outcomes differ (-haproxy +varde)\n%s", d)
	}
	if d := cmp.Diff(hSeen, vSeen); d != "" {
		t.Errorf("requests reaching the server differ (-haproxy +varde)\n%s", d)
	}
}

// TestErrorlocDifferential: errorloc, errorloc302 and errorloc303 answers
// (a dead server's 503, a deny's 403, one from defaults) against HAProxy.
func TestErrorlocDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	dead := closedPort(t)
	src := `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    errorloc 504 https://status.example/timeout

frontend fe
    bind 127.0.0.1:{{PORT}}
    errorloc303 403 /forbidden?why=rules
    http-request deny if { path /deny }
    default_backend be

backend be
    retries 0
    errorloc 503 https://status.example/down
    server d ` + dead + `
`
	reqs := []string{
		"GET /deny HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: h\r\n\r\n",
		"HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n",
	}
	run := func(addr string) []redirectOutcome {
		var out []redirectOutcome
		for _, raw := range reqs {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, raw)
			resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: strings.Fields(raw)[0]})
			if err != nil {
				t.Fatalf("%q: %v", raw, err)
			}
			b, _ := io.ReadAll(resp.Body)
			c.Close()
			out = append(out, redirectOutcome{resp.StatusCode, resp.Header.Get("Location"), resp.Close, string(b)})
		}
		return out
	}
	render := func(port int) string { return strings.ReplaceAll(src, "{{PORT}}", fmt.Sprint(port)) }
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := run(haddr)

	set, d := config.LoadFiles(writeCfg(t, render(testenv.FreePort(t))), nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	pcfg.Frontends[0].Binds = nil
	_, vaddr := startEngine(t, pcfg)
	vOut := run(vaddr)
	for i, o := range hOut {
		t.Logf("%-40q haproxy %d %q closed=%v", reqs[i], o.Status, o.Location, o.Closed)
	}
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("client-side outcomes differ (-haproxy +varde)\n%s", d)
	}
}

// TestMaxHdrDifferential: `tune.http.maxhdr N` against HAProxy 2.6, for
// requests with header lines around the limit: HAProxy accepts N-1 lines
// (its header list holds the end-of-headers marker too), and so does
// varde. Rejections are compared as such: varde answers 431 where HAProxy
// answers 400 (docs/engine.md).
func TestMaxHdrDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	ms, srvAddr := startMonitorServer(t)
	render := func(port int) string {
		return "global\n    tune.http.maxhdr 6\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n" +
			fmt.Sprintf("frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\nbackend be\n    server a %s\n", port, srvAddr)
	}
	run := func(addr string) []string {
		var out []string
		for n := 3; n <= 9; n++ {
			raw := "GET /h HTTP/1.1\r\nHost: h\r\n"
			for i := 1; i < n; i++ {
				raw += fmt.Sprintf("X-H%d: v\r\n", i)
			}
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, raw+"\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			verdict := "closed"
			switch {
			case err != nil:
			case resp.StatusCode == 200:
				verdict = "accepted"
			case resp.StatusCode == 400 || resp.StatusCode == 431:
				verdict = "refused"
			default:
				verdict = fmt.Sprint(resp.StatusCode)
			}
			c.Close()
			out = append(out, fmt.Sprintf("%d lines: %s", n, verdict))
		}
		return out
	}
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := run(haddr)
	ms.take()
	set, d := config.LoadFiles(writeCfg(t, render(testenv.FreePort(t))), nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	pcfg.Frontends[0].Binds = nil
	_, vaddr := startEngine(t, pcfg)
	vOut := run(vaddr)
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("verdicts differ (-haproxy +varde)\n%s", d)
	}
}

// TestMonitorH2: over HTTP/2 the monitor URI is matched on :path, its
// query included, as the HTTP/1 path of an absolute-form target.
func TestMonitorH2(t *testing.T) {
	ms, srvAddr := startMonitorServer(t)
	cfg := simpleConfig(srvAddr)
	cfg.Frontends[0].Monitor = &Monitor{URI: "/alive"}
	_, addr := startH2Engine(t, cfg)
	c := h2Client(t)
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/alive", 200, "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n"},
		{"/alive?x=1", 200, "server"},
		{"/other", 200, "server"},
	} {
		resp, err := c.Get("http://" + addr + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || string(b) != tc.body || resp.ProtoMajor != 2 {
			t.Errorf("%s: %d %q %s, want %d %q over h2", tc.path, resp.StatusCode, b, resp.Proto, tc.status, tc.body)
		}
	}
	if d := cmp.Diff([]string{"GET /alive?x=1", "GET /other"}, ms.take()); d != "" {
		t.Errorf("server saw (-want +got)\n%s", d)
	}
}
