package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// The retry tests run varde and Debian's HAProxy 2.6 on the same
// haproxy.cfg, with real backends on loopback, and compare what clients
// see (docs/retries.md).

// lbProc starts one load balancer on cfg: "varde" or "haproxy", and
// returns the path of its log (stdout and stderr).
func lbProc(t *testing.T, which, cfg string, ports ...int) string {
	t.Helper()
	var logPath string
	if which == "haproxy" {
		_, logPath = testenv.Start(t, testenv.LookTool(t, "haproxy", "haproxy"), "-db", "-f", cfg)
	} else {
		_, logPath = testenv.Start(t, testenv.VardeBinary(t), "run", "-f", cfg)
	}
	testenv.WaitListening(t, which, logPath, ports...)
	return logPath
}

// nginxBackend runs one single-process nginx answering 200 on port and
// returns its PID (so the test can kill it).
func nginxBackend(t *testing.T, port int) int {
	t.Helper()
	bin := testenv.LookTool(t, "nginx", "nginx")
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
error_log %[1]s/error.log;
pid %[1]s/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s;
  uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:%[2]d; location / { return 200 "ok %[2]d\n"; } }
}
`, dir, port)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, logPath := testenv.Start(t, bin, "-c", path, "-p", dir)
	testenv.WaitListening(t, "nginx", logPath, port)
	return cmd.Process.Pid
}

// wrkResult is what wrk reports: requests and every kind of failure.
type wrkResult struct {
	requests, non2xx, connect, read, write, timeout int
}

func (r wrkResult) failures() int { return r.non2xx + r.connect + r.read + r.write + r.timeout }

func (r wrkResult) String() string {
	return fmt.Sprintf("%d requests, %d failed (non-2xx %d, socket errors connect %d read %d write %d timeout %d)",
		r.requests, r.failures(), r.non2xx, r.connect, r.read, r.write, r.timeout)
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := wrkRequests.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no request count in wrk output:\n%s", out)
	}
	r.requests, _ = strconv.Atoi(m[1])
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(m[1])
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		r.connect, _ = strconv.Atoi(m[1])
		r.read, _ = strconv.Atoi(m[2])
		r.write, _ = strconv.Atoi(m[3])
		r.timeout, _ = strconv.Atoi(m[4])
	}
	return r, nil
}

const killCfg = `global
    maxconn 1000
    log stderr format raw local0
defaults
    mode http
    log global
    option httplog
    option dontlog-normal
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    retries 3
    option redispatch
frontend web
    bind 127.0.0.1:%d
    default_backend app
backend app
    balance roundrobin
    server s1 127.0.0.1:%d check inter 500 fall 2
    server s2 127.0.0.1:%d check inter 500 fall 2
`

// killRun loads one balancer with wrk (2 threads, 50 connections, 4 s)
// and kills one of its two backends with SIGKILL after 1.5 s.
func killRun(t *testing.T, which string) wrkResult {
	wrk := testenv.LookTool(t, "wrk", "wrk")
	ports := testenv.FreePorts(t, 3)
	pid1 := nginxBackend(t, ports[1])
	nginxBackend(t, ports[2])
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(killCfg, ports[0], ports[1], ports[2])), 0o644)
	lbLog := lbProc(t, which, cfg, ports[0])
	time.Sleep(700 * time.Millisecond) // first health checks pass
	cmd, wrkLog := testenv.Start(t, wrk, "-t2", "-c50", "-d4s", fmt.Sprintf("http://127.0.0.1:%d/", ports[0]))
	time.Sleep(1500 * time.Millisecond)
	syscall.Kill(pid1, syscall.SIGKILL)
	cmd.Wait()
	out, _ := os.ReadFile(wrkLog)
	r, err := parseWrk(string(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.failures() > 0 {
		// option dontlog-normal: the log holds the failed requests.
		logs, _ := os.ReadFile(lbLog)
		t.Logf("%s log:\n%s", which, logs)
	}
	return r
}

// TestKillBackendUnderLoad is the test: one of two backends killed
// under load, `retries 3`, `option redispatch`, `check inter 500 fall 2`.
// varde must fail no more requests than HAProxy 2.6 on the same
// configuration, summed over the rounds (a small tolerance for timing:
// which requests are in flight on a new connection to the killed server
// at that instant is chance, for both; one round in about ten gives varde
// a dozen). VARDE_KILL_RUNS sets the number of rounds (default 2, about
// 22 s).
func TestKillBackendUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("process test under load")
	}
	runs := 2
	if n, err := strconv.Atoi(os.Getenv("VARDE_KILL_RUNS")); err == nil && n > 0 {
		runs = n
	}
	const tolerance = 3
	var vsum, hsum int
	for i := 0; i < runs; i++ {
		var v, h wrkResult
		t.Run(fmt.Sprint("varde-", i), func(t *testing.T) { v = killRun(t, "varde") })
		t.Run(fmt.Sprint("haproxy-", i), func(t *testing.T) { h = killRun(t, "haproxy") })
		t.Logf("run %d: varde %v; haproxy %v", i+1, v, h)
		if v.requests == 0 || h.requests == 0 {
			t.Fatal("a load generator made no request")
		}
		vsum, hsum = vsum+v.failures(), hsum+h.failures()
	}
	t.Logf("failed requests over %d run(s): varde %d, haproxy %d", runs, vsum, hsum)
	if vsum > hsum+tolerance*runs {
		t.Fatalf("varde failed %d requests, HAProxy %d (tolerance %d per run)", vsum, hsum, tolerance)
	}
}

// faultCase is a backend failure the retry-on keywords name. The failing
// server is the first one (balance first); retries 1 with option
// redispatch sends a retry to the second.
type faultCase struct {
	name    string
	retryOn string
	act     func(c net.Conn) // after the request was read; nil: nobody listens
	extra   string           // more lines for the listen section
	post    bool             // a POST whose body follows its head 100 ms later
}

var faultCases = []faultCase{
	{"refused", "", nil, "", false},
	{"refused-none", "none", nil, "", false},
	{"empty", "", func(c net.Conn) {}, "", false},
	{"empty-retried", "empty-response", func(c net.Conn) {}, "", false},
	{"junk", "", writeJunk, "", false},
	{"junk-retried", "junk-response", writeJunk, "", false},
	{"timeout", "", waitQuiet, "", false},
	{"timeout-retried", "response-timeout", waitQuiet, "", false},
	{"503", "", answer(503), "", false},
	{"503-retried", "503", answer(503), "", false},
	{"404-not-listed", "all-retryable-errors", answer(404), "", false},
	{"404-retried", "404", answer(404), "", false},
	{"post-streamed", "empty-response", func(c net.Conn) {}, "", true},
	{"post-buffered", "empty-response", func(c net.Conn) {}, "    option http-buffer-request\n", true},
}

func writeJunk(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH\r\n\r\n") }

func waitQuiet(c net.Conn) { time.Sleep(1500 * time.Millisecond) }

func answer(code int) func(net.Conn) {
	return func(c net.Conn) {
		fmt.Fprintf(c, "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", code)
	}
}

// faultBackend listens on port, reads one request per connection, counts
// it and acts.
func faultBackend(t *testing.T, port int, act func(net.Conn), hits *atomic.Int64) {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
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
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				hits.Add(1)
				io.Copy(io.Discard, req.Body)
				act(c)
			}()
		}
	}()
}

// outcome is what a client and the two servers saw for one request.
type outcome struct {
	status    int // 0: the connection closed without an answer
	bad, good int64
}

// TestRetryOnBesideHAProxy runs each retry-on case through varde and
// HAProxy with one configuration and compares status and which servers
// were asked.
func TestRetryOnBesideHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	testenv.LookTool(t, "haproxy", "haproxy")
	got := map[string]map[string]outcome{}
	for _, which := range []string{"varde", "haproxy"} {
		got[which] = runFaults(t, which)
	}
	for _, fc := range faultCases {
		v, h := got["varde"][fc.name], got["haproxy"][fc.name]
		t.Logf("%-16s retry-on %-22q varde %+v haproxy %+v", fc.name, fc.retryOn, v, h)
		if v != h {
			t.Errorf("%s: varde %+v, haproxy %+v", fc.name, v, h)
		}
	}
}

// runFaults starts fresh backends and one balancer with a frontend per
// case, sends one request to each, and returns the outcomes.
func runFaults(t *testing.T, which string) map[string]outcome {
	ports := testenv.FreePorts(t, 3*len(faultCases))
	var cfg strings.Builder
	cfg.WriteString("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 500ms\n")
	bad := make([]atomic.Int64, len(faultCases))
	good := make([]atomic.Int64, len(faultCases))
	var fronts []int
	for i, fc := range faultCases {
		fp, bp, gp := ports[3*i], ports[3*i+1], ports[3*i+2]
		fronts = append(fronts, fp)
		if fc.act != nil {
			faultBackend(t, bp, fc.act, &bad[i])
		}
		faultBackend(t, gp, answer(200), &good[i])
		fmt.Fprintf(&cfg, "listen %s\n    bind 127.0.0.1:%d\n    balance first\n    retries 1\n    option redispatch\n%s", fc.name, fp, fc.extra)
		if fc.retryOn != "" {
			fmt.Fprintf(&cfg, "    retry-on %s\n", fc.retryOn)
		}
		fmt.Fprintf(&cfg, "    server bad 127.0.0.1:%d\n    server good 127.0.0.1:%d\n", bp, gp)
	}
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(path, []byte(cfg.String()), 0o644)
	lbProc(t, which, path, fronts...)
	out := map[string]outcome{}
	for i, fc := range faultCases {
		o := outcome{status: oneRequest(t, fronts[i], fc.post)}
		time.Sleep(20 * time.Millisecond) // the servers' counters settle
		o.bad, o.good = bad[i].Load(), good[i].Load()
		out[fc.name] = o
	}
	return out
}

// oneRequest sends a GET (or a POST whose body follows its head 100 ms
// later) on a new connection and returns the status, 0 when the
// connection closed without an answer.
func oneRequest(t *testing.T, port int, post bool) int {
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if post {
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
		time.Sleep(100 * time.Millisecond)
		io.WriteString(c, "hello")
	} else {
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAbortOnCloseBesideHAProxy: a queued request whose client closed its
// sending side reaches the server without option abortonclose and never
// with it, in varde as in HAProxy.
func TestAbortOnCloseBesideHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	testenv.LookTool(t, "haproxy", "haproxy")
	for _, which := range []string{"varde", "haproxy"} {
		for _, abort := range []bool{false, true} {
			if got, want := queuedHits(t, which, abort), map[bool]int64{false: 1, true: 0}[abort]; got != want {
				t.Errorf("%s abortonclose=%v: the queued request reached the server %d times, want %d", which, abort, got, want)
			}
		}
	}
}

// queuedHits holds the only slot of a maxconn 1 server, queues a request
// whose client then half-closes, releases the slot and returns how often
// the queued request reached the server.
func queuedHits(t *testing.T, which string, abort bool) int64 {
	var queued atomic.Int64
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/queued" {
			queued.Add(1)
		} else {
			<-release
		}
		io.WriteString(w, "done")
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	port := testenv.FreePort(t)
	opt := ""
	if abort {
		opt = "    option abortonclose\n"
	}
	cfg := fmt.Sprintf("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout queue 5s\n"+
		"listen web\n    bind 127.0.0.1:%d\n%s    server s1 %s maxconn 1\n", port, opt, l.Addr())
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(path, []byte(cfg), 0o644)
	lbProc(t, which, path, port)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	held := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/hold")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		held <- err
	}()
	time.Sleep(300 * time.Millisecond) // the slot is taken
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /queued HTTP/1.1\r\nHost: x\r\n\r\n")
	c.(*net.TCPConn).CloseWrite()
	time.Sleep(300 * time.Millisecond)
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	return queued.Load()
}

// droppedCase: the server answers a connection's first request, then reads
// the client's second request (sent over that reused connection) whole and
// closes without a byte of answer. The server may have acted on it.
type droppedCase struct {
	name, method, retryOn string
	retries               int
	varde, haproxy        outcome // status of the second request; bad: times the server saw it
}

// Measured with Debian's HAProxy 2.6: it never replays such a request
// unless retry-on lists empty-response (a counted L7 retry, any method
// when the request was buffered); otherwise it closes the client
// connection without an answer (abort_keep_alive), so the client decides.
// varde does the same, except that it replays an idempotent method once
// (GET here) while retry-on is not none.
var droppedCases = []droppedCase{
	{"post-none-retries0", "POST", "none", 0, outcome{0, 1, 0}, outcome{0, 1, 0}},
	{"post-none", "POST", "none", 1, outcome{0, 1, 0}, outcome{0, 1, 0}},
	{"post-default", "POST", "", 1, outcome{0, 1, 0}, outcome{0, 1, 0}},
	{"post-empty-response", "POST", "empty-response", 1, outcome{200, 2, 0}, outcome{200, 2, 0}},
	{"get-none", "GET", "none", 1, outcome{0, 1, 0}, outcome{0, 1, 0}},
	{"get-default", "GET", "", 1, outcome{200, 2, 0}, outcome{0, 1, 0}},
}

// TestDroppedRequestBesideHAProxy runs each droppedCase through varde and
// HAProxy with one configuration.
func TestDroppedRequestBesideHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	testenv.LookTool(t, "haproxy", "haproxy")
	for _, which := range []string{"varde", "haproxy"} {
		got := runDropped(t, which)
		for _, dc := range droppedCases {
			want := map[string]outcome{"varde": dc.varde, "haproxy": dc.haproxy}[which]
			t.Logf("%-8s %-20s %s retry-on %-16q retries %d: %+v", which, dc.name, dc.method, dc.retryOn, dc.retries, got[dc.name])
			if got[dc.name] != want {
				t.Errorf("%s %s: got %+v, want %+v", which, dc.name, got[dc.name], want)
			}
		}
	}
}

// runDropped starts one dropping backend and one balancer with a listen
// section per case, and returns what each case's second request got.
func runDropped(t *testing.T, which string) map[string]outcome {
	ports := testenv.FreePorts(t, 2*len(droppedCases))
	var cfg strings.Builder
	cfg.WriteString("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 2s\n")
	seen := make([]atomic.Int64, len(droppedCases))
	var fronts []int
	for i, dc := range droppedCases {
		fp, bp := ports[2*i], ports[2*i+1]
		fronts = append(fronts, fp)
		droppingBackend(t, bp, &seen[i])
		fmt.Fprintf(&cfg, "listen %s\n    bind 127.0.0.1:%d\n    retries %d\n", dc.name, fp, dc.retries)
		if dc.retryOn != "" {
			fmt.Fprintf(&cfg, "    retry-on %s\n", dc.retryOn)
		}
		fmt.Fprintf(&cfg, "    server s1 127.0.0.1:%d\n", bp)
	}
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(path, []byte(cfg.String()), 0o644)
	lbProc(t, which, path, fronts...)
	out := map[string]outcome{}
	for i, dc := range droppedCases {
		o := outcome{status: secondRequest(t, fronts[i], dc.method)}
		time.Sleep(50 * time.Millisecond) // the server's counter settles
		o.bad = seen[i].Load()
		out[dc.name] = o
	}
	return out
}

// droppingBackend answers each connection's first request and drops the
// second, read whole, with the connection; seen counts the second
// requests (path /two) it read.
func droppingBackend(t *testing.T, port int, seen *atomic.Int64) {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
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
			go dropSecond(c, seen)
		}
	}()
}

func dropSecond(c net.Conn, seen *atomic.Int64) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	for n := 0; n < 2; n++ {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		if req.URL.Path == "/two" {
			seen.Add(1)
		}
		if n == 0 {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	}
}

// secondRequest sends GET /one and then method /two (with a 5-byte body)
// on one client connection and returns /two's status, 0 when the
// connection closed without an answer.
func secondRequest(t *testing.T, port int, method string) int {
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	io.WriteString(c, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("first request: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Fprintf(c, "%s /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", method)
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
