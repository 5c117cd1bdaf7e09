package logpipe_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
	"github.com/varde-lb/varde/logpipe"
)

// The same configuration for HAProxy and varde; only the listening port
// and varde's extra file target differ.
const e2eConfig = `global
    log stdout format raw local0
%[1]s
defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 2s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:%[2]d
    capture request header Host len 32
    capture request header X-Forwarded-For len 64
    capture response header Content-Type len 32
    capture cookie SID len 12
    default_backend be

backend be
    server s1 127.0.0.1:%[3]d
    server s2 127.0.0.1:%[4]d
`

type e2eReq struct {
	method, path, xff, body string
}

var e2eRequests = []e2eReq{
	{"GET", "/", "", ""},
	{"GET", "/missing", "203.0.113.9", ""},
	{"POST", "/form", "198.51.100.7, 2001:db8:1:2::3", "a=1&b=2"},
	{"GET", "/q?x=1&y=%22z%22", "", ""},
	{"HEAD", "/", "unknown", ""},
	{"GET", "/big", "", ""},
	{"GET", "/missing", "", ""},
	{"GET", "/", "", ""},
}

func backend(t *testing.T, name string) int {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Server", name)
		switch r.URL.Path {
		case "/missing":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(404)
			io.WriteString(w, "not here\n")
		case "/form":
			w.Header().Set("Set-Cookie", "SIDX=from-"+name+"; Path=/")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			io.WriteString(w, `{"ok":true}`)
		case "/big":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", "100000")
			w.Write(make([]byte, 100000))
		default:
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Length", "6")
			io.WriteString(w, "hello\n")
		}
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// uniquePath makes every request line unique, so lines can be matched
// by request: a proxy may write request i's line after request i+1's.
func uniquePath(p string, i int) string {
	if strings.Contains(p, "?") {
		return fmt.Sprintf("%s&n=%d", p, i)
	}
	return fmt.Sprintf("%s?n=%d", p, i)
}

func sendAll(t *testing.T, port int) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	for i, r := range e2eRequests {
		req, _ := http.NewRequest(r.method, fmt.Sprintf("http://127.0.0.1:%d%s", port, uniquePath(r.path, i)), strings.NewReader(r.body))
		if r.body == "" {
			req.Body = nil
		}
		req.Host = "www.example.com"
		if i%2 == 0 { // %CC: the first cookie named SID*, cut to 12 bytes
			req.Header.Set("Cookie", "lang=en; SID=0123456789abcdef")
		}
		if r.xff != "" {
			req.Header.Set("X-Forwarded-For", r.xff)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// A request HAProxy cannot parse: logged as "<BADREQ>" with a 400.
	if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
		fmt.Fprintf(conn, "GARBAGE\r\n\r\n")
		io.Copy(io.Discard, conn)
		conn.Close()
	}
	// A connection that sends nothing: option dontlognull keeps it out.
	if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
		conn.Close()
	}
}

// httplogLines returns the httplog lines in a process's output file.
func httplogLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if _, ok := logpipe.ParseLine(sc.Bytes(), time.Local); ok {
			out = append(out, sc.Text())
		}
	}
	return out
}

func waitLines(t *testing.T, path string, n int, who string) []string {
	t.Helper()
	var lines []string
	err := testenv.Until(15*time.Second, 20*time.Millisecond, func() error {
		lines = httplogLines(path)
		if len(lines) < n {
			return fmt.Errorf("%s: %d of %d lines", who, len(lines), n)
		}
		return nil
	})
	if err != nil {
		out, _ := os.ReadFile(path)
		t.Fatalf("%v\n%s output:\n%s", err, who, out)
	}
	return lines
}

// engineFact marks fields whose value depends on timing rather than on
// the request: the connection counters at log time race with the previous
// connection's close in both proxies (HAProxy itself logs 1/1/0/0 or
// 2/2/1/0 for the same request). core/proxy asserts them deterministically
// (TestLogConnCounters). Every other field, %B included, must match.
func engineFact(field string) bool {
	return strings.HasPrefix(field, "conns=")
}

// comparable drops what legitimately differs between two runs: the client
// port, the dates and the timers.
func comparable(line string) []string {
	l, ok := logpipe.ParseLine([]byte(line), time.Local)
	if !ok {
		return []string{"unparsable: " + line}
	}
	b := []byte(line)
	return []string{
		"client=" + string(b[l.Client.Start:l.Client.End]),
		"frontend=" + l.Frontend, "backend=" + l.Backend, "server=" + l.Server,
		"status=" + fmt.Sprint(l.Status), "bytes=" + fmt.Sprint(l.Bytes),
		"cookies=" + l.Fields[7] + " " + l.Fields[8], "term=" + l.Term,
		"conns=" + l.Fields[10], "queues=" + l.Fields[11],
		"reqheaders=" + string(b[l.ReqHeaders.Start:l.ReqHeaders.End]),
		"resheaders=" + string(b[l.ResHeaders.Start:l.ResHeaders.End]),
		"request=" + string(b[l.Request.Start:l.Request.End]),
	}
}

// TestHTTPLogMatchesHAProxy runs real HAProxy and varde with the same
// configuration, sends both the same requests, and compares the httplog
// lines field by field (timings, dates and client ports excepted). The
// same run checks that halog reads varde's rotated-file output with the
// right status and per-server counts.
func TestHTTPLogMatchesHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	halog := testenv.LookTool(t, "halog", "haproxy")
	varde := testenv.VardeBinary(t)
	dir := t.TempDir()
	b1, b2 := backend(t, "s1"), backend(t, "s2")
	hp, vp := testenv.FreePort(t), testenv.FreePort(t)

	hcfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hcfg, []byte(fmt.Sprintf(e2eConfig, "", hp, b1, b2)), 0o644)
	accessLog := filepath.Join(dir, "logs", "access.log")
	os.MkdirAll(filepath.Dir(accessLog), 0o755)
	vcfg := filepath.Join(dir, "varde.cfg")
	extra := fmt.Sprintf("    log file@%s format raw anonymize ip 24,48 anonymize params sid rotate 1k keep 100 local0", accessLog)
	os.WriteFile(vcfg, []byte(fmt.Sprintf(e2eConfig, extra, vp, b1, b2)), 0o644)

	if out, err := exec.Command(haproxy, "-c", "-f", hcfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	_, hout := testenv.Start(t, haproxy, "-db", "-f", hcfg)
	vcmd, vout := testenv.Start(t, varde, "run", "-f", vcfg)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", hp), 10*time.Second)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", vp), 10*time.Second)
	// WaitTCP's probe connections send nothing: dontlognull drops them.

	sendAll(t, hp)
	sendAll(t, vp)
	n := len(e2eRequests) + 1 // + the bad request
	hl := waitLines(t, hout, n, "haproxy")
	vl := waitLines(t, vout, n, "varde")
	if len(hl) != n || len(vl) != n {
		t.Errorf("haproxy logged %d lines, varde %d, want %d each (dontlognull)", len(hl), len(vl), n)
	}
	byRequest := func(lines []string) map[string]string {
		m := map[string]string{}
		for _, l := range lines {
			pl, _ := logpipe.ParseLine([]byte(l), time.Local)
			m[l[pl.Request.Start:pl.Request.End]] = l
		}
		return m
	}
	hm, vm := byRequest(hl), byRequest(vl)
	for i, r := range append(e2eRequests, e2eReq{method: "BADREQ"}) {
		key := r.method + " " + uniquePath(r.path, i) + " HTTP/1.1"
		if r.method == "BADREQ" {
			key = "<BADREQ>"
		}
		if hm[key] == "" || vm[key] == "" {
			t.Errorf("request %d %q: haproxy line %q, varde line %q", i, key, hm[key], vm[key])
			continue
		}
		h, v := comparable(hm[key]), comparable(vm[key])
		for j := range h {
			if j < len(v) && h[j] != v[j] && engineFact(h[j]) {
				// Values the engine measures, not the log pipeline: a
				// difference is the engine's to fix, reported, not failed.
				t.Logf("engine difference, request %d (%s %s): haproxy %s, varde %s",
					i, r.method, r.path, h[j], v[j])
				continue
			}
			if j < len(v) && h[j] != v[j] {
				t.Errorf("request %d (%s %s): field differs\n haproxy %s\n   varde %s\n haproxy line %s\n   varde line %s",
					i, r.method, r.path, h[j], v[j], hm[key], vm[key])
			}
		}
	}

	// Stop varde gracefully: the file target flushes, then halog reads it.
	vcmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- vcmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("varde did not stop")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "logs", "access*.log"))
	if len(files) < 2 {
		t.Errorf("rotate 1k: %d files, expected rotation", len(files))
	}
	var all []byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		all = append(all, b...)
	}
	if strings.Count(string(all), "\n") != n {
		t.Errorf("file target holds %d lines, want %d", strings.Count(string(all), "\n"), n)
	}
	run := func(args ...string) string {
		cmd := exec.Command(halog, args...)
		cmd.Stdin = strings.NewReader(string(all))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("halog %v: %v", args, err)
		}
		return string(out)
	}
	// Raw lines have no syslog header: -s -4 points halog at the client field.
	st := run("-s", "-4", "-st")
	wantStatus := map[string]int{}
	wantSrv := map[string]int{}
	for _, l := range hl {
		pl, _ := logpipe.ParseLine([]byte(l), time.Local)
		wantStatus[fmt.Sprint(pl.Status)]++
		wantSrv[pl.Backend+"/"+pl.Server]++
	}
	for code, cnt := range wantStatus {
		if !strings.Contains(st, fmt.Sprintf("%s %d\n", code, cnt)) {
			t.Errorf("halog -st: want %q %d in\n%s", code, cnt, st)
		}
	}
	srv := run("-s", "-4", "-srv")
	for name, cnt := range wantSrv {
		found := false
		for _, l := range strings.Split(srv, "\n") {
			f := strings.Fields(l)
			if len(f) > 7 && f[0] == name && f[7] == fmt.Sprint(cnt) {
				found = true
			}
		}
		if !found {
			t.Errorf("halog -srv: want %s with %d requests in\n%s", name, cnt, srv)
		}
	}
	// And the auditor's view of varde's files: compliant.
	rep, err := logpipe.Audit([]string{filepath.Join(dir, "logs")}, logpipe.AuditOptions{Retention: 24 * time.Hour})
	if err != nil || !rep.Compliant {
		t.Errorf("audit of varde's anonymised files: %v %+v", err, rep)
	}
}

// TestRunJSONFileAndReopen runs varde with a jsonlog file target, moves
// the file away as logrotate would, reloads (SIGHUP: the new generation's
// pipeline opens the files anew; SIGUSR1 is HAProxy's soft-stop) and
// checks the next record lands in a new file at the configured path.
func TestRunJSONFileAndReopen(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde")
	}
	varde := testenv.VardeBinary(t)
	dir := t.TempDir()
	be := backend(t, "s1")
	port := testenv.FreePort(t)
	path := filepath.Join(dir, "access.log")
	cfg := fmt.Sprintf(`global
    log file@%s anonymize ip 24,48 local0
    tune.log.flush 10ms
defaults
    mode http
    log global
    option jsonlog
    option dontlognull
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    capture request header X-Forwarded-For len 64
    default_backend be
backend be
    server s1 127.0.0.1:%d
`, path, port, be)
	cfgPath := filepath.Join(dir, "varde.cfg")
	os.WriteFile(cfgPath, []byte(cfg), 0o644)
	cmd, out := testenv.Start(t, varde, "run", "-f", cfgPath)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	get := func(p string) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, p), nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.77, 2001:db8:5:6::7")
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	waitContains := func(p, s string) {
		err := testenv.Until(10*time.Second, 20*time.Millisecond, func() error {
			b, _ := os.ReadFile(p)
			if !strings.Contains(string(b), s) {
				return fmt.Errorf("%s does not contain %q yet: %q", p, s, b)
			}
			return nil
		})
		if err != nil {
			log, _ := os.ReadFile(out)
			t.Fatalf("%v\nvarde output:\n%s", err, log)
		}
	}
	get("/first")
	waitContains(path, "/first")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	waitContains(out, "reload done")
	get("/second")
	waitContains(path, "/second")
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if strings.Contains(string(old), "/second") || strings.Contains(string(cur), "/first") {
		t.Errorf("records in the wrong file:\nold %s\nnew %s", old, cur)
	}
	want := `"client_ip":"127.0.0.0"`
	if !strings.Contains(string(cur), want) || !strings.Contains(string(cur), `"captured_request_headers":["203.0.113.0, 2001:db8:5::"]`) {
		t.Errorf("JSON line not anonymised as configured: %s", cur)
	}
	rep, err := logpipe.Audit([]string{dir}, logpipe.AuditOptions{Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Files {
		if strings.HasSuffix(f.Path, ".log") || strings.HasSuffix(f.Path, ".1") {
			if !f.Compliant || f.Records != 1 {
				t.Errorf("audit %s: %+v", f.Path, f)
			}
		}
	}
}

// TestTCPLogMatchesHAProxy is the tcplog counterpart: mode tcp, the same
// connections through HAProxy and varde, lines compared field by field
// (timers, dates, client ports excepted; bytes and connection counters
// reported as engine differences).
func TestTCPLogMatchesHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	dir := t.TempDir()
	b1 := backend(t, "s1")
	const cfg = `global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen l
    bind 127.0.0.1:%d
    server s1 127.0.0.1:%d
`
	hp, vp := testenv.FreePort(t), testenv.FreePort(t)
	hcfg, vcfg := filepath.Join(dir, "h.cfg"), filepath.Join(dir, "v.cfg")
	os.WriteFile(hcfg, []byte(fmt.Sprintf(cfg, hp, b1)), 0o644)
	os.WriteFile(vcfg, []byte(fmt.Sprintf(cfg, vp, b1)), 0o644)
	_, hout := testenv.Start(t, haproxy, "-db", "-f", hcfg)
	_, vout := testenv.Start(t, varde, "run", "-f", vcfg)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", hp), 10*time.Second)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", vp), 10*time.Second)
	const n = 3
	for _, port := range []int{hp, vp} {
		for i := 0; i < n; i++ {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(c, "GET /t%d HTTP/1.0\r\nHost: x\r\n\r\n", i)
			io.Copy(io.Discard, c)
			c.Close()
		}
	}
	// WaitTCP's probes are logged too (no dontlognull here); they moved no
	// bytes, the real connections did.
	withData := func(path, who string) []string {
		var out []string
		err := testenv.Until(15*time.Second, 20*time.Millisecond, func() error {
			out = out[:0]
			for _, l := range httplogLines(path) {
				if pl, _ := logpipe.ParseLine([]byte(l), time.Local); pl.Bytes > 0 {
					out = append(out, l)
				}
			}
			if len(out) < n {
				return fmt.Errorf("%s: %d of %d lines", who, len(out), n)
			}
			return nil
		})
		if err != nil {
			b, _ := os.ReadFile(path)
			t.Fatalf("%v\n%s", err, b)
		}
		return out
	}
	hl, vl := withData(hout, "haproxy"), withData(vout, "varde")
	if len(hl) != n || len(vl) != n {
		t.Fatalf("want %d lines each:\n%q\n%q", n, hl, vl)
	}
	for i := range hl {
		h, _ := logpipe.ParseLine([]byte(hl[i]), time.Local)
		v, _ := logpipe.ParseLine([]byte(vl[i]), time.Local)
		if h.HTTP || v.HTTP {
			t.Fatalf("not tcplog lines:\n%s\n%s", hl[i], vl[i])
		}
		hf := []string{hl[i][h.Client.Start:h.Client.End], h.Frontend, h.Backend, h.Server, h.Term, h.Fields[8]}
		vf := []string{vl[i][v.Client.Start:v.Client.End], v.Frontend, v.Backend, v.Server, v.Term, v.Fields[8]}
		if fmt.Sprint(hf) != fmt.Sprint(vf) || len(h.Fields) != len(v.Fields) {
			t.Errorf("tcplog differs:\n haproxy %s\n   varde %s", hl[i], vl[i])
		}
		if h.Bytes != v.Bytes {
			t.Errorf("bytes: haproxy %d, varde %d\n haproxy %s\n   varde %s", h.Bytes, v.Bytes, hl[i], vl[i])
		}
		if h.Fields[7] != v.Fields[7] {
			t.Logf("connection counters (timing-dependent): haproxy %s, varde %s", h.Fields[7], v.Fields[7])
		}
	}
}

// TestAuditHAProxyViaRsyslog: real HAProxy logs over UDP to a real rsyslog
// that writes a file in its traditional format (the seed articles' setup).
// The audit must flag the raw addresses; after `anonymize` rewriting it must
// pass, and halog must still read the rewritten file.
func TestAuditHAProxyViaRsyslog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and rsyslogd")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	rsyslogd := testenv.LookTool(t, "rsyslogd", "rsyslog")
	halog := testenv.LookTool(t, "halog", "haproxy")
	dir := t.TempDir()
	udp, port := testenv.FreePort(t), testenv.FreePort(t)
	logFile := filepath.Join(dir, "haproxy.log")
	rconf := filepath.Join(dir, "rsyslog.conf")
	os.WriteFile(rconf, []byte(fmt.Sprintf("global(workDirectory=%q)\nmodule(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=\"%d\")\naction(type=\"omfile\" file=%q template=\"RSYSLOG_TraditionalFileFormat\")\n",
		dir, udp, logFile)), 0o644)
	testenv.Start(t, rsyslogd, "-n", "-f", rconf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	be := backend(t, "s1")
	hcfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hcfg, []byte(fmt.Sprintf(`global
    log 127.0.0.1:%d local0
defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    capture request header X-Forwarded-For len 64
    default_backend be
backend be
    server s1 127.0.0.1:%d
`, udp, port, be)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	// rsyslog's UDP input may start a moment after its process: resend
	// until a first line arrives, then send the counted requests.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	get := func(p string) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, p), nil)
		req.Header.Set("X-Forwarded-For", "198.51.100.23")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err := testenv.Until(10*time.Second, 100*time.Millisecond, func() error {
		get("/warmup")
		if len(httplogLines(logFile)) == 0 {
			return fmt.Errorf("nothing in %s yet", logFile)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/missing", "/"} {
		get(p)
	}
	var lines []string
	if err := testenv.Until(10*time.Second, 20*time.Millisecond, func() error {
		lines = httplogLines(logFile)
		if n := strings.Count(strings.Join(lines, "\n"), `"GET /missing`); n != 1 || len(lines) < 4 {
			return fmt.Errorf("%d lines", len(lines))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// rsyslog may still append a late warm-up line: audit a snapshot, and
	// count the lines of that same snapshot.
	snap, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	logFile = filepath.Join(dir, "snapshot.log")
	if err := os.WriteFile(logFile, snap, 0o640); err != nil {
		t.Fatal(err)
	}
	lines = httplogLines(logFile)
	rep, err := logpipe.Audit([]string{logFile}, logpipe.AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Files[0]
	if rep.Compliant || f.Records != len(lines) || f.RawAddresses < 2*len(lines) || f.Anonymisation != "none (raw client addresses)" {
		t.Fatalf("audit of HAProxy's raw log: %+v", f)
	}
	// Rewrite it as `varde logs anonymize` does.
	rw, err := logpipe.NewRewriter(logpipe.AnonSpec{Mode: logpipe.AnonIP, V4Bits: 24, V6Bits: 48})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(logFile)
	var out []byte
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		out = rw.Line(out, []byte(l))
		out = append(out, '\n')
	}
	anon := filepath.Join(dir, "anon.log")
	os.WriteFile(anon, out, 0o640)
	rep, _ = logpipe.Audit([]string{anon}, logpipe.AuditOptions{Retention: time.Hour})
	if !rep.Compliant || rep.Files[0].Records != len(lines) {
		t.Errorf("after anonymize: %+v", rep.Files[0])
	}
	if strings.Contains(string(out), "198.51.100.23") || strings.Contains(string(out), "127.0.0.1:") {
		t.Errorf("raw address left:\n%s", out)
	}
	cmd := exec.Command(halog, "-st")
	cmd.Stdin = strings.NewReader(string(out))
	st, err := cmd.Output()
	if err != nil || !strings.Contains(string(st), "404 1\n") {
		t.Errorf("halog on the rewritten rsyslog file: %v\n%s", err, st)
	}
}
