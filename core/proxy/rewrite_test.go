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
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

// rewriteConfig runs every rewriting action; each request below selects
// its rules by path or header. The backend records the exact request line
// and header lines it reads and answers with the status X-Want-Status asks
// for and a few headers the response rules rewrite.
const rewriteConfig = `defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{{PORT}}
    http-request set-header X-A 1 if { path_beg /vis }
    http-request deny deny_status 429 if { path_beg /vis } { req.hdr(x-a) 1 }
    http-request set-header X-B 1 if { path_beg /unset }
    http-request del-header X-B if { path_beg /unset }
    http-request deny deny_status 410 if { path_beg /unset } { req.hdr(x-b) -m found }
    http-request set-method PUT if { path /method }
    http-request set-path /p2%[path] if { path_beg /setpath }
    http-request set-pathq /pq?x=1 if { path_beg /spq }
    http-request set-query y=%[url_param(a)] if { path_beg /setquery }
    http-request set-query %[url_param(none)] if { path_beg /emptyq }
    http-request set-uri /u?v=1 if { path_beg /seturi }
    http-request set-uri http://user@new.example:8080/n?x if { path_beg /abshost }
    http-request replace-path /rp/([^/]*)/(.*) /\2/\1 if { path_beg /rp/ }
    http-request replace-pathq ^/rq\?(.*) /rq2?\1&z=\x41 if { path_beg /rq }
    http-request replace-uri ^/ru/(.*) /ru2/\1\9 if { path_beg /ru/ }
    http-request set-header Host b.example if { path /sethost }
    http-request replace-header Host ^(.*)$ r.\1 if { path /rephost }
    http-request set-path /chain2 if { path /chain }
    http-request set-header X-Foo "%[req.hdr(X-Foo)],added" if { path /selfref }
    http-request set-header X-Path-Seen %[path] if { path /chain2 }
    http-request replace-header X-Cookie (.*)secret=[^;]*(.*) \1\2
    http-request replace-value X-List ^a(.*) A\1
    http-request del-header X-Del- -m beg
    http-request del-header -end -m end
    http-request del-header mid -m sub
    http-request del-header ^x-re[0-9]$ -m reg
    http-response replace-header Location ^http://(.*) https://\1
    http-response replace-value Cache-Control ^max-age=.* max-age=60
    http-response set-status 503 reason "Try Later" if { status 500 }
    http-response set-status 299 if { res.hdr(x-echo-status) 201 }
    http-response set-header X-A2 ok
    http-response set-header X-Seen2 %[res.hdr(x-a2)]
    http-response del-header X-A2
    http-response set-header X-Seen3 "<%[res.hdr(x-a2)]>"
    http-response set-header Set-Cookie "%[res.hdr(Set-Cookie)]; Secure" if { res.hdr(x-echo-status) 202 }
    http-request redirect location /r2 if { path /redir }
    http-after-response allow if { status 302 }
    http-after-response set-header X-After %[status]
    http-after-response set-status 418 if { status 429 }
    http-after-response replace-value X-Seen3 ^<(.*)>$ [\1]
    default_backend be

backend be
    http-request return status 201 content-type text/plain string hi if { path /ret }
    http-after-response add-header X-Be-After %[status]
    server s1 {{BE}}
`

// rewriteRow is one request and what varde must do with it; the
// differential test also requires HAProxy to do the same.
type rewriteRow struct {
	name, req string
	line      string // request line the server must read ("" when none reaches it)
	status    int    // status the client must get
	hdr       string // a header line the server must (or, with !, must not) read
}

var rewriteRows = []rewriteRow{
	{"later rule sees set-header", "GET /vis HTTP/1.1\r\nHost: a\r\n\r\n", "", 418, ""}, // 429, then set-status 418
	{"later rule sees del-header", "GET /unset HTTP/1.1\r\nHost: a\r\n\r\n", "GET /unset HTTP/1.1", 200, "!x-b: 1"},
	{"set-method", "GET /method HTTP/1.1\r\nHost: a\r\n\r\n", "PUT /method HTTP/1.1", 200, ""},
	{"set-path keeps the query", "GET /setpath/x?q=1 HTTP/1.1\r\nHost: a\r\n\r\n", "GET /p2/setpath/x?q=1 HTTP/1.1", 200, ""},
	{"set-pathq", "GET /spq/x?q=1 HTTP/1.1\r\nHost: a\r\n\r\n", "GET /pq?x=1 HTTP/1.1", 200, ""},
	{"set-query", "GET /setquery?a=7&b=2 HTTP/1.1\r\nHost: a\r\n\r\n", "GET /setquery?y=7 HTTP/1.1", 200, ""},
	{"set-query adds the ?", "GET /setquery HTTP/1.1\r\nHost: a\r\n\r\n", "GET /setquery?y= HTTP/1.1", 200, ""},
	{"set-query empty keeps ?", "GET /emptyq?a=1 HTTP/1.1\r\nHost: a\r\n\r\n", "GET /emptyq? HTTP/1.1", 200, ""},
	{"set-query empty adds nothing", "GET /emptyq HTTP/1.1\r\nHost: a\r\n\r\n", "GET /emptyq HTTP/1.1", 200, ""},
	{"set-uri", "GET /seturi/x HTTP/1.1\r\nHost: a\r\n\r\n", "GET /u?v=1 HTTP/1.1", 200, ""},
	{"set-uri absolute updates Host", "GET /abshost HTTP/1.1\r\nHost: a\r\n\r\n", "GET http://user@new.example:8080/n?x HTTP/1.1", 200, "host: new.example:8080"},
	{"set-header Host on an absolute target", "GET http://u@a:81/sethost?q HTTP/1.1\r\nHost: a:81\r\n\r\n", "GET http://u@b.example/sethost?q HTTP/1.1", 200, "host: b.example"},
	{"replace-header Host on an absolute target", "GET http://a/rephost HTTP/1.1\r\nHost: a\r\n\r\n", "GET http://r.a/rephost HTTP/1.1", 200, "host: r.a"},
	{"set-header Host on an origin target", "GET /sethost HTTP/1.1\r\nHost: a\r\n\r\n", "GET /sethost HTTP/1.1", 200, "host: b.example"},
	{"set-path absolute form", "GET http://a/setpath?z HTTP/1.1\r\nHost: a\r\n\r\n", "GET http://a/p2/setpath?z HTTP/1.1", 200, ""},
	{"replace-path", "GET /rp/one/two?k=v HTTP/1.1\r\nHost: a\r\n\r\n", "GET /two/one?k=v HTTP/1.1", 200, ""},
	{"replace-path no match", "GET /rpx HTTP/1.1\r\nHost: a\r\n\r\n", "GET /rpx HTTP/1.1", 200, ""},
	{"replace-pathq hex escape", "GET /rq?a=1 HTTP/1.1\r\nHost: a\r\n\r\n", "GET /rq2?a=1&z=A HTTP/1.1", 200, ""},
	{"replace-uri unset group", "GET /ru/x?y HTTP/1.1\r\nHost: a\r\n\r\n", "GET /ru2/x?y HTTP/1.1", 200, ""},
	{"later rule sees the new path", "GET /chain HTTP/1.1\r\nHost: a\r\n\r\n", "GET /chain2 HTTP/1.1", 200, "x-path-seen: /chain2"},
	{"set-header reads the field it replaces", "GET /selfref HTTP/1.1\r\nHost: a\r\nX-Foo: orig\r\n\r\n", "GET /selfref HTTP/1.1", 200, "x-foo: orig,added"},
	{"response set-header reads the field it replaces", "GET /h HTTP/1.1\r\nHost: a\r\nX-Want-Status: 202\r\n\r\n", "GET /h HTTP/1.1", 202, ""},
	{"replace-header", "GET /h HTTP/1.1\r\nHost: a\r\nX-Cookie: a=1; secret=2; b=3\r\n\r\n", "GET /h HTTP/1.1", 200, "x-cookie: a=1; ; b=3"},
	{"replace-value", "GET /h HTTP/1.1\r\nHost: a\r\nX-List: abc, b,  ax ,\"a,b\"\r\n\r\n", "GET /h HTTP/1.1", 200, "x-list: Abc, b,Ax,\"a,b\""}, // a replaced value loses its spaces, as in HAProxy,
	{"del-header -m beg", "GET /h HTTP/1.1\r\nHost: a\r\nX-Del-One: 1\r\nx-del-two: 2\r\nX-Keep: 3\r\n\r\n", "GET /h HTTP/1.1", 200, "!x-del-one: 1"},
	{"del-header -m end", "GET /h HTTP/1.1\r\nHost: a\r\nX-One-End: 1\r\n\r\n", "GET /h HTTP/1.1", 200, "!x-one-end: 1"},
	{"del-header -m sub", "GET /h HTTP/1.1\r\nHost: a\r\nX-A-Mid-B: 1\r\n\r\n", "GET /h HTTP/1.1", 200, "!x-a-mid-b: 1"},
	{"del-header -m reg", "GET /h HTTP/1.1\r\nHost: a\r\nX-Re1: 1\r\nX-Re12: 2\r\n\r\n", "GET /h HTTP/1.1", 200, "x-re12: 2"},
	{"set-status with reason", "GET /h HTTP/1.1\r\nHost: a\r\nX-Want-Status: 500\r\n\r\n", "GET /h HTTP/1.1", 503, ""},
	{"set-status", "GET /h HTTP/1.1\r\nHost: a\r\nX-Want-Status: 201\r\n\r\n", "GET /h HTTP/1.1", 299, ""},
	{"after-response on a redirect", "GET /redir HTTP/1.1\r\nHost: a\r\n\r\n", "", 302, ""},
	{"after-response on a backend's return", "GET /ret HTTP/1.1\r\nHost: a\r\n\r\n", "", 201, ""},
	{"after-response on a 503", "GET /h HTTP/1.1\r\nHost: a\r\nX-Want-Status: 503\r\n\r\n", "GET /h HTTP/1.1", 503, ""},
}

// lineBackend records each request's line and header lines and answers
// with X-Want-Status's status and headers the response rules rewrite.
type lineBackend struct {
	mu   sync.Mutex
	seen []string
}

func (b *lineBackend) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.seen
	b.seen = nil
	return s
}

func (b *lineBackend) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		var lines []string
		status := "200"
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			if v, ok := strings.CutPrefix(strings.ToLower(l), "x-want-status: "); ok {
				status = v
			}
			lines = append(lines, l)
		}
		b.mu.Lock()
		b.seen = append(b.seen, strings.Join(lines, "\n"))
		b.mu.Unlock()
		body := "ok"
		if strings.HasPrefix(lines[0], "HEAD ") {
			body = ""
		}
		fmt.Fprintf(c, "HTTP/1.1 %s Whatever\r\nContent-Length: 2\r\nLocation: http://x.example/a\r\n"+
			"Cache-Control: no-cache, max-age=10, private\r\nSet-Cookie: sid=1\r\nX-Echo-Status: %s\r\n\r\n%s", status, status, body)
	}
}

// rewriteOutcome is what a client got and the server read for one row.
type rewriteOutcome struct {
	Status int
	Reason string
	Hdrs   []string // the response's rewritten headers
	Server string   // request line and header lines, lower-cased names
}

func runRewriteRows(t *testing.T, addr string, be *lineBackend, rows []rewriteRow) []rewriteOutcome {
	var out []rewriteOutcome
	for _, r := range rows {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, r.req)
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		c.Close()
		o := rewriteOutcome{Status: resp.StatusCode, Reason: strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode, " "))}
		for _, h := range []string{"Location", "Cache-Control", "X-Seen2", "X-Seen3", "X-A2", "X-After", "X-Be-After", "Content-Type", "Set-Cookie"} {
			o.Hdrs = append(o.Hdrs, h+": "+strings.Join(resp.Header.Values(h), "|"))
		}
		if s := be.take(); len(s) > 0 {
			o.Server = normaliseSeen(s[len(s)-1])
		}
		out = append(out, o)
	}
	return out
}

// normaliseSeen lower-cases header names (HAProxy sends them in lower
// case, varde as received) and drops Connection, which each proxy's
// keep-alive handling writes its own way.
func normaliseSeen(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:1]
	for _, l := range lines[1:] {
		n, v, _ := strings.Cut(l, ":")
		n = strings.ToLower(n)
		if n == "connection" {
			continue
		}
		out = append(out, n+":"+v)
	}
	return strings.Join(out, "\n")
}

func startRawBackend(t *testing.T) (*lineBackend, string) {
	be := &lineBackend{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go be.serve(c)
		}
	}()
	return be, ln.Addr().String()
}

func renderRewrite(port int, be string) string {
	return strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{BE}}", be).Replace(rewriteConfig)
}

// TestRewriteActions checks each row's expectations on varde alone.
func TestRewriteActions(t *testing.T) {
	be, beAddr := startRawBackend(t)
	port := testenv.FreePort(t)
	addr := startVardeText(t, renderRewrite(port, beAddr), port)
	got := runRewriteRows(t, addr, be, rewriteRows)
	for i, r := range rewriteRows {
		o := got[i]
		if o.Status != r.status {
			t.Errorf("%s: status %d, want %d", r.name, o.Status, r.status)
		}
		line, _, _ := strings.Cut(o.Server, "\n")
		if line != r.line {
			t.Errorf("%s: server read %q, want %q", r.name, line, r.line)
		}
		if h, absent := strings.CutPrefix(r.hdr, "!"); r.hdr != "" {
			if has := strings.Contains(o.Server+"\n", "\n"+h+"\n"); has == absent {
				t.Errorf("%s: server's head has %q: %v, want %v\n%s", r.name, h, has, !absent, o.Server)
			}
		}
	}
	byName := map[string]rewriteOutcome{}
	for i, r := range rewriteRows {
		byName[r.name] = got[i]
	}
	hdrs := map[string][]string{
		"set-status": {"Location: https://x.example/a", "Cache-Control: no-cache,max-age=60, private", "X-Seen2: ok",
			"X-Seen3: []", "X-A2: ", "X-After: 299", "X-Be-After: 299", "Content-Type: ", "Set-Cookie: sid=1"},
		"after-response on a redirect":         {"Location: /r2", "Cache-Control: no-cache", "X-Seen2: ", "X-Seen3: ", "X-A2: ", "X-After: ", "X-Be-After: ", "Content-Type: ", "Set-Cookie: "},
		"after-response on a backend's return": {"Location: ", "Cache-Control: ", "X-Seen2: ", "X-Seen3: ", "X-A2: ", "X-After: 201", "X-Be-After: 201", "Content-Type: text/plain", "Set-Cookie: "},
		"response set-header reads the field it replaces": {"Location: https://x.example/a", "Cache-Control: no-cache,max-age=60, private", "X-Seen2: ok",
			"X-Seen3: []", "X-A2: ", "X-After: 202", "X-Be-After: 202", "Content-Type: ", "Set-Cookie: sid=1; Secure"},
	}
	for name, want := range hdrs {
		if d := cmp.Diff(want, byName[name].Hdrs); d != "" {
			t.Errorf("%s: response headers (-want +got)\n%s", name, d)
		}
	}
	if r := byName["set-status with reason"]; r.Reason != "Try Later" {
		t.Errorf("set-status reason %q, want Try Later", r.Reason)
	}
	if r := byName["later rule sees set-header"]; r.Reason != "I'm a teapot" || r.Hdrs[5] != "X-After: 429" { // set-header ran before set-status
		t.Errorf("deny through http-after-response: %q %q, want I'm a teapot and X-After: 429", r.Reason, r.Hdrs)
	}
}

// TestRewriteDifferential runs rewriteConfig through HAProxy 2.6 and
// varde and compares, row by row, what the server read and what the
// client got.
func TestRewriteDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	be, beAddr := startRawBackend(t)
	dir := t.TempDir()
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hcfg, []byte(renderRewrite(hport, beAddr)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := runRewriteRows(t, haddr, be, rewriteRows)

	vport := testenv.FreePort(t)
	vOut := runRewriteRows(t, startVardeText(t, renderRewrite(vport, beAddr), vport), be, rewriteRows)
	for i, r := range rewriteRows {
		if d := cmp.Diff(hOut[i], vOut[i]); d != "" {
			t.Errorf("%s: %q (-haproxy +varde)\n%s", r.name, r.req, d)
		}
	}
}

// TestRewriteRoutingLogAndRefusals: use_backend routes on the rewritten
// path, the log keeps the request line the client sent (%r, as HAProxy),
// a rewrite that would put a space in the request line answers 500 (HAProxy
// 2.6 would forward the broken line), and a value that would carry a line
// break is not written.
func TestRewriteRoutingLogAndRefusals(t *testing.T) {
	be1, be1Addr := startRawBackend(t)
	be2, be2Addr := startRawBackend(t)
	port := testenv.FreePort(t)
	text := strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{BE1}}", be1Addr, "{{BE2}}", be2Addr).Replace(`defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{{PORT}}
    http-request set-path %[req.hdr(x-p)] if { req.hdr(x-p) -m found }
    http-request set-path /rewritten if { path /orig }
    http-request replace-header X-In (.*) %[req.hdr(x-evil),url_dec]
    use_backend two if { path /rewritten }
    default_backend one

backend one
    server s1 {{BE1}}

backend two
    server s2 {{BE2}}
`)
	vcfg := filepath.Join(t.TempDir(), "varde.cfg")
	os.WriteFile(vcfg, []byte(text), 0o644)
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
	startEngine(t, pcfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	send := func(raw string) int {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, raw)
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "GET"})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	if st := send("GET /orig HTTP/1.1\r\nHost: a\r\n\r\n"); st != 200 {
		t.Fatalf("routed request: %d", st)
	}
	if got := be2.take(); len(got) != 1 || !strings.HasPrefix(got[0], "GET /rewritten HTTP/1.1\n") {
		t.Errorf("backend two read %q, want the rewritten path", got)
	}
	if st := send("GET /x HTTP/1.1\r\nHost: a\r\nX-P: /a b\r\n\r\n"); st != 500 {
		t.Errorf("space in the new path: %d, want 500", st)
	}
	if st := send("GET /y HTTP/1.1\r\nHost: a\r\nX-In: v\r\nX-Evil: a%0d%0aInjected: 1\r\n\r\n"); st != 200 {
		t.Errorf("line break in a value: %d", st)
	}
	if got := be1.take(); len(got) != 1 || strings.Contains(got[0], "\nInjected") || !strings.Contains(got[0], "\nX-In: v") {
		t.Errorf("backend one read %q, want X-In unchanged and no injected field", got)
	}
	var lines []string
	testenv.Until(5*time.Second, 10*time.Millisecond, func() error { // logged after the answer
		lines = lines[:0]
		for _, r := range sink.all() {
			lines = append(lines, fmt.Sprintf("%d %s", r.Status, r.RequestLine.Bytes()))
		}
		if len(lines) < 3 {
			return fmt.Errorf("%d records", len(lines))
		}
		return nil
	})
	sort.Strings(lines) // each request has its connection: records may come in any order
	want := []string{"200 GET /orig HTTP/1.1", "200 GET /y HTTP/1.1", "500 GET /x HTTP/1.1"}
	if d := cmp.Diff(want, lines); d != "" {
		t.Errorf("log (-want +got)\n%s", d)
	}
}

// TestSetMethodHead: after set-method HEAD the server sends no body, and
// the transaction ends with its head (as HAProxy frames the response by
// the rewritten method) instead of waiting for a body until timeout server.
func TestSetMethodHead(t *testing.T) {
	be, beAddr := startRawBackend(t)
	cfg := simpleConfig(beAddr)
	cfg.Backends[0].Timeouts.Server = 5 * time.Second
	a, err := actorBuilders["set-method"](&config.HTTPRule{Action: "set-method", Value: "HEAD"})
	if err != nil {
		t.Fatal(err)
	}
	rule := &HTTPRule{Action: ActActor, Actor: a}
	cfg.Frontends[0].HTTPRequest = []*HTTPRule{rule}
	sink := &recSink{}
	cfg.Sink = sink
	_, addr := startEngine(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(c)
	if l, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(l, "HTTP/1.1 200") {
		t.Fatalf("status line %q: %v", l, err)
	}
	start := time.Now()
	if err := testenv.Until(2*time.Second, 10*time.Millisecond, func() error {
		if len(sink.all()) == 0 {
			return fmt.Errorf("not logged yet")
		}
		return nil
	}); err != nil {
		t.Fatalf("transaction still waiting for a body after %v: %v", time.Since(start), err)
	}
	if got := be.take(); len(got) != 1 || !strings.HasPrefix(got[0], "HEAD /x HTTP/1.1") {
		t.Errorf("server read %q", got)
	}
}
