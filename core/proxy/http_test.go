package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/testenv"
)

func TestRoundRobinKeepAliveAndHeaders(t *testing.T) {
	b1, s1 := backend(t, "b1", nil)
	b2, s2 := backend(t, "b2", nil)
	cfg := simpleConfig(hostport(b1), hostport(b2))
	cfg.Backends[0].ForwardFor = &ForwardFor{}
	_, addr := startEngine(t, cfg)

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	var got []string
	for i := 0; i < 4; i++ {
		resp := rawExchange(t, c, br, "GET /p?i="+strconv.Itoa(i)+" HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive, X-Drop\r\nX-Drop: secret\r\nKeep-Alive: timeout=5\r\nX-Keep: yes\r\n\r\n", "GET")
		got = append(got, resp.Header.Get("X-Server")+":"+body(t, resp))
		if resp.Close {
			t.Fatalf("response %d closes the connection", i)
		}
	}
	want := []string{"b1:hello from b1", "b2:hello from b2", "b1:hello from b1", "b2:hello from b2"}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("responses (-want +got)\n%s", d)
	}
	r := s1.last()
	hdr := map[string]string{
		"xff": r.Header.Get("X-Forwarded-For"), "drop": r.Header.Get("X-Drop"), "ka": r.Header.Get("Keep-Alive"),
		"keep": r.Header.Get("X-Keep"), "host": r.Host, "uri": r.RequestURI,
	}
	wantHdr := map[string]string{"xff": "127.0.0.1", "drop": "", "ka": "", "keep": "yes", "host": "example.com", "uri": "/p?i=2"}
	if d := cmp.Diff(wantHdr, hdr); d != "" {
		t.Fatalf("headers seen by the backend (-want +got)\n%s", d)
	}
	if s1.hits.Load() != 2 || s2.hits.Load() != 2 {
		t.Fatalf("hits %d/%d, want 2/2", s1.hits.Load(), s2.hits.Load())
	}
}

func TestPipelinedInOrder(t *testing.T) {
	b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(50 * time.Millisecond)
		}
		io.WriteString(w, r.URL.Path)
	})
	_, addr := startEngine(t, simpleConfig(hostport(b1)))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\nPOST /three HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /four HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(c)
	var got []string
	for i := 0; i < 4; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, body(t, resp))
	}
	if d := cmp.Diff([]string{"/slow", "/two", "/three", "/four"}, got); d != "" {
		t.Fatalf("(-want +got)\n%s", d)
	}
}

func TestBodiesStream(t *testing.T) {
	b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/chunked":
			w.Write([]byte(strings.Repeat("x", 100000)))
			w.(http.Flusher).Flush()
			w.Write([]byte("end"))
		case "/nocontent":
			w.WriteHeader(204)
		case "/notmod":
			w.WriteHeader(304)
		default:
			fmt.Fprintf(w, "got %d %s", n, r.TransferEncoding)
		}
	})
	_, addr := startEngine(t, simpleConfig(hostport(b1)))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	big := strings.Repeat("y", 200000)
	resp := rawExchange(t, c, br, "POST /cl HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n"+big, "POST")
	if b := body(t, resp); b != "got 200000 []" {
		t.Fatalf("content-length upload: %q", b)
	}
	resp = rawExchange(t, c, br, "POST /te HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n30d40\r\n"+big+"\r\n0\r\nX-T: 1\r\n\r\n", "POST")
	if b := body(t, resp); b != "got 200005 [chunked]" {
		t.Fatalf("chunked upload: %q", b)
	}
	resp = rawExchange(t, c, br, "GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n", "GET")
	if b := body(t, resp); len(b) != 100003 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("chunked download: %d bytes, %v", len(b), resp.TransferEncoding)
	}
	resp = rawExchange(t, c, br, "HEAD /cl HTTP/1.1\r\nHost: a\r\n\r\n", "HEAD")
	if resp.ContentLength != int64(len("got 0 []")) || body(t, resp) != "" {
		t.Fatalf("HEAD: length %d", resp.ContentLength)
	}
	for _, p := range []string{"/nocontent", "/notmod"} {
		resp = rawExchange(t, c, br, "GET "+p+" HTTP/1.1\r\nHost: a\r\n\r\n", "GET")
		if body(t, resp) != "" {
			t.Fatalf("%s carried a body", p)
		}
	}
	// The connection is still in sync after all of that.
	resp = rawExchange(t, c, br, "GET /cl HTTP/1.1\r\nHost: a\r\n\r\n", "GET")
	if b := body(t, resp); b != "got 0 []" {
		t.Fatalf("after: %q", b)
	}
}

func TestExpectContinue(t *testing.T) {
	b1, _ := backend(t, "b1", nil)
	_, addr := startEngine(t, simpleConfig(hostport(b1)))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue first, got %q %v", line, err)
	}
	if l, _ := br.ReadString('\n'); l != "\r\n" {
		t.Fatalf("interim response not terminated: %q", l)
	}
	io.WriteString(c, "hello")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); b != "hello from b1" {
		t.Fatalf("final response %q", b)
	}
}

// TestBadInputOverSockets replays httpx's bad-input table through the
// engine: each gets its status and the connection is closed, and the
// backend never sees any of them.
func TestBadInputOverSockets(t *testing.T) {
	b1, s1 := backend(t, "b1", nil)
	_, addr := startEngine(t, simpleConfig(hostport(b1)))
	for _, tc := range httpx.BadRequests {
		t.Run(tc.Name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, tc.Raw)
			all, _ := io.ReadAll(c) // returns only when the engine closes
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(all))), nil)
			if err != nil {
				t.Fatalf("no valid response: %v (%q)", err, all)
			}
			if resp.StatusCode != tc.Status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.Status)
			}
			if !resp.Close {
				t.Fatal("error response does not announce connection: close")
			}
		})
	}
	if n := s1.hits.Load(); n != 0 {
		t.Fatalf("backend received %d bad requests", n)
	}
}

func TestRequestTimeout408(t *testing.T) {
	b1, _ := backend(t, "b1", nil)
	cfg := simpleConfig(hostport(b1))
	cfg.Frontends[0].Timeouts.HTTPRequest = 200 * time.Millisecond
	_, addr := startEngine(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n") // never finished
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 408 {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
}

// faultBackend is a raw TCP server that misbehaves on purpose.
func faultBackend(t *testing.T, mode string) string {
	t.Helper()
	return rawServer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(buf); err != nil {
			return
		}
		switch mode {
		case "reset":
			c.(*net.TCPConn).SetLinger(0)
		case "hang":
			time.Sleep(3 * time.Second)
		case "500":
			io.WriteString(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops")
		case "garbage":
			io.WriteString(c, "NOT HTTP AT ALL\r\n\r\n")
		case "truncated":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
		case "slow":
			time.Sleep(300 * time.Millisecond)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")
		}
	})
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

func TestServerFaults(t *testing.T) {
	tests := []struct {
		mode   string
		status int
		body   string
		term   string
	}{
		{"reset", 502, "", "SH"},
		{"hang", 504, "", "sH"},
		{"500", 500, "oops", "--"},
		{"garbage", 502, "", "PH"},
		{"slow", 200, "slow", "--"},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			sink := &recSink{}
			cfg := simpleConfig(faultBackend(t, tc.mode))
			cfg.Sink = sink
			cfg.Backends[0].Timeouts.Server = time.Second
			_, addr := startEngine(t, cfg)
			resp, err := http.Get("http://" + addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			b := body(t, resp)
			if resp.StatusCode != tc.status || (tc.body != "" && b != tc.body) {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, b, tc.status, tc.body)
			}
			var recs []logrec.Record
			testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
				if recs = sink.all(); len(recs) == 0 {
					return errors.New("no record")
				}
				return nil
			})
			if len(recs) == 0 {
				t.Fatal("no log record")
			}
			if got := string(recs[0].Term[:2]); got != tc.term {
				t.Fatalf("termination state %q, want %q", got, tc.term)
			}
		})
	}
	t.Run("truncated", func(t *testing.T) {
		_, addr := startEngine(t, simpleConfig(faultBackend(t, "truncated")))
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err == nil {
			t.Fatal("a truncated body reached the client as complete")
		}
	})
}

func TestRetriesAndRedispatch(t *testing.T) {
	good, sg := backend(t, "good", nil)
	sink := &recSink{}
	cfg := simpleConfig(closedPort(t), hostport(good))
	cfg.Sink = sink
	cfg.Backends[0].Retries = 2
	cfg.Backends[0].Redispatch = true
	e, addr := startEngine(t, cfg)
	// The first request goes to the dead server (round robin starts
	// there), retries twice, and the last retry is redispatched. As in
	// HAProxy, a retry on the same server counts in Retries and one moved
	// to another server in Redispatch (proxytest-rr is not of the
	// round-robin kind, which would redispatch on the first retry).
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); resp.StatusCode != 200 || b != "hello from good" {
		t.Fatalf("got %d %q", resp.StatusCode, b)
	}
	if sg.hits.Load() != 1 {
		t.Fatal("good server not reached")
	}
	be := e.Backend("be")
	if be.Retries.Load() != 1 || be.Redispatch.Load() != 1 {
		t.Fatalf("retries %d redispatch %d, want 1 1", be.Retries.Load(), be.Redispatch.Load())
	}
	// The record is logged just after the response is sent: wait for it.
	if err := testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
		if len(sink.all()) == 0 {
			return errors.New("no log record yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r := sink.all()[0]
	if r.Retries != 2 || !r.Redispatched || r.Server != "s2" {
		t.Fatalf("record: retries %d redispatched %v server %s", r.Retries, r.Redispatched, r.Server)
	}

	// Without redispatch and with every server dead: 503.
	cfg = simpleConfig(closedPort(t))
	_, addr = startEngine(t, cfg)
	resp, err = http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != 503 {
		t.Fatalf("dead server: %d, want 503", resp.StatusCode)
	}
}

func TestNoServer503(t *testing.T) {
	b1, _ := backend(t, "b1", nil)
	cfg := simpleConfig(hostport(b1))
	e, addr := startEngine(t, cfg)
	e.Backend("be").Servers()[0].SetAdmin(core.AdminMaint)
	e.Backend("be").Refresh()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b := body(t, resp)
	if resp.StatusCode != 503 || !strings.Contains(b, "No server is available to handle this request.") {
		t.Fatalf("got %d %q", resp.StatusCode, b)
	}
}

func TestMaxConnQueue(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			<-release
		}
		io.WriteString(w, "ok")
	})
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	cfg := simpleConfig(hostport(b1))
	cfg.Backends[0].Servers[0].MaxConn = 1
	cfg.Backends[0].Timeouts.Queue = 300 * time.Millisecond
	e, addr := startEngine(t, cfg)
	be := e.Backend("be")
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/block")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	if err := testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		if be.Servers()[0].Active.Load() != 1 {
			return errors.New("first request not active yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The server is full: this one waits in the queue, then times out.
	resp, err := http.Get("http://" + addr + "/quick")
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != 503 {
		t.Fatalf("queued request: %d, want 503 after timeout queue", resp.StatusCode)
	}
	if be.MaxQueued.Load() != 1 {
		t.Fatalf("max queued %d, want 1", be.MaxQueued.Load())
	}
	// Queued, then served when the slot frees.
	got := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/quick")
		if err != nil {
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		if be.Queued.Load() != 1 {
			return errors.New("not queued")
		}
		return nil
	})
	once.Do(func() { close(release) })
	if st := <-done; st != 200 {
		t.Fatalf("blocking request: %d", st)
	}
	if st := <-got; st != 200 {
		t.Fatalf("queued request after release: %d", st)
	}
}

func TestWebSocketTunnel(t *testing.T) {
	b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			w.WriteHeader(400)
			return
		}
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		line, _ := brw.ReadString('\n')
		io.WriteString(c, "echo:"+line)
	})
	cfg := simpleConfig(hostport(b1))
	cfg.Frontends[0].Timeouts.Tunnel = 5 * time.Second
	_, addr := startEngine(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	resp := rawExchange(t, c, br, "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", "GET")
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	io.WriteString(c, "ping\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "echo:ping\n" {
		t.Fatalf("tunnel: %q %v", line, err)
	}
}

type panicCond struct{}

func (panicCond) Match(r core.Request) bool {
	if string(r.Path()) == "/boom" {
		panic("test panic")
	}
	return false
}

func TestPanicClosesOnlyThatConnection(t *testing.T) {
	b1, _ := backend(t, "b1", nil)
	cfg := simpleConfig(hostport(b1))
	cfg.Frontends[0].HTTPRequest = []*HTTPRule{{Action: ActDeny, Cond: panicCond{}}}
	e, addr := startEngine(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /boom HTTP/1.1\r\nHost: a\r\n\r\n")
	if n, _ := io.ReadAll(c); len(n) != 0 {
		t.Fatalf("got a response: %q", n)
	}
	c.Close()
	if e.Panics.Load() != 1 {
		t.Fatalf("panics %d", e.Panics.Load())
	}
	resp, err := http.Get("http://" + addr + "/fine")
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); b != "hello from b1" {
		t.Fatalf("after panic: %q", b)
	}
}

type pathIs string

func (p pathIs) Match(r core.Request) bool { return string(r.Path()) == string(p) }

func TestRulesAndErrorFiles(t *testing.T) {
	b1, s1 := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Internal", "1")
		io.WriteString(w, "ok")
	})
	cfg := simpleConfig(hostport(b1))
	fe := cfg.Frontends[0]
	fe.HTTPRequest = []*HTTPRule{
		{Action: ActDeny, Status: 429, Cond: pathIs("/deny")},
		{Action: ActRedirect, RedirectKind: RedirectScheme, Target: "https", Status: 301, Cond: pathIs("/secure")},
		{Action: ActRedirect, RedirectKind: RedirectPrefix, Target: "https://new.example", Cond: pathIs("/moved")},
		{Action: ActAddHeader, Name: "X-Real-IP", Value: "%[src]"},
		{Action: ActSetHeader, Name: "X-Mode", Value: "set"},
		{Action: ActDelHeader, Name: "X-Secret"},
	}
	fe.HTTPResponse = []*HTTPRule{
		{Action: ActDelHeader, Name: "X-Internal"},
		{Action: ActSetHeader, Name: "X-Frame-Options", Value: "DENY"},
	}
	fe.ErrorFiles = map[int][]byte{429: []byte("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow")}
	_, addr := startEngine(t, cfg)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := client.Get("http://" + addr + "/deny")
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); resp.StatusCode != 429 || b != "slow" {
		t.Fatalf("deny: %d %q", resp.StatusCode, b)
	}
	resp, _ = client.Get("http://" + addr + "/secure?a=1")
	body(t, resp)
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "https://"+addr+"/secure?a=1" {
		t.Fatalf("scheme redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = client.Get("http://" + addr + "/moved")
	body(t, resp)
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "https://new.example/moved" {
		t.Fatalf("prefix redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/x", nil)
	req.Header.Set("X-Mode", "original")
	req.Header.Set("X-Secret", "s")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.Header.Get("X-Internal") != "" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("response rules: %v", resp.Header)
	}
	r := s1.last()
	got := []string{r.Header.Get("X-Real-IP"), strings.Join(r.Header.Values("X-Mode"), ","), r.Header.Get("X-Secret")}
	if d := cmp.Diff([]string{"127.0.0.1", "set", ""}, got); d != "" {
		t.Fatalf("request rules (-want +got)\n%s", d)
	}
}

func TestForwardForOptions(t *testing.T) {
	b1, s1 := backend(t, "b1", nil)
	cfg := simpleConfig(hostport(b1))
	cfg.Backends[0].ForwardFor = &ForwardFor{Header: "X-Client", IfNone: true}
	_, addr := startEngine(t, cfg)
	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	req.Header.Set("X-Client", "1.2.3.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if v := s1.last().Header.Values("X-Client"); len(v) != 1 || v[0] != "1.2.3.4" {
		t.Fatalf("if-none: %v", v)
	}
	cfg = simpleConfig(hostport(b1))
	cfg.Backends[0].ForwardFor = &ForwardFor{Except: netip.MustParsePrefix("127.0.0.0/8")}
	_, addr = startEngine(t, cfg)
	resp, err = http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if v := s1.last().Header.Get("X-Forwarded-For"); v != "" {
		t.Fatalf("except: %q", v)
	}
}

func TestGracefulStop(t *testing.T) {
	started := make(chan struct{})
	b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			time.Sleep(300 * time.Millisecond)
		}
		io.WriteString(w, "done")
	})
	cfg := simpleConfig(hostport(b1))
	e, addr := startEngine(t, cfg)
	// An idle keep-alive connection is closed at once on stop.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	br := bufio.NewReader(idle)
	body(t, rawExchange(t, idle, br, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET"))

	res := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			res <- err.Error()
			return
		}
		res <- body(t, resp)
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if got := <-res; got != "done" {
		t.Fatalf("in-flight request: %q", got)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("listener still accepting after stop")
	}
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("idle keep-alive connection left open")
	}
}

func TestLogRecord(t *testing.T) {
	b1, _ := backend(t, "b1", nil)
	sink := &recSink{}
	cfg := simpleConfig(hostport(b1))
	cfg.Sink = sink
	cfg.Frontends[0].CaptureRequest = []Capture{{Name: "host", Len: 20}}
	_, addr := startEngine(t, cfg)
	resp, err := http.Get("http://" + addr + "/path?q=1")
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	var r logrec.Record
	testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		if recs := sink.all(); len(recs) > 0 {
			r = recs[0]
			return nil
		}
		return errors.New("no record")
	})
	got := map[string]any{
		"fe": r.Frontend, "be": r.Backend, "srv": r.Server, "status": r.Status, "line": string(r.RequestLine.Bytes()),
		"term": string(r.Term[:]), "client": r.Client.Addr().String(), "host": string(r.ReqHeaders.At(0)),
		"bytesOutPositive": r.BytesOut > 0, "timersSet": r.TR >= 0 && r.Tw >= 0 && r.Tc >= 0 && r.Tr >= 0 && r.Ta >= 0,
		"feconn": r.FeConn, "srvaddr": r.ServerAddr.String() == hostport(b1),
	}
	want := map[string]any{
		"fe": "fe", "be": "be", "srv": "s1", "status": int32(200), "line": "GET /path?q=1 HTTP/1.1",
		"term": "----", "client": "127.0.0.1", "host": addr, "bytesOutPositive": true, "timersSet": true,
		"feconn": int32(1), "srvaddr": true,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("record (-want +got)\n%s", d)
	}
}

func TestTCPMode(t *testing.T) {
	echo := rawServer(t, func(c net.Conn) { io.Copy(c, c) })
	cfg := simpleConfig(echo, closedPort(t))
	cfg.Frontends[0].Mode = ModeTCP
	cfg.Backends[0].Mode = ModeTCP
	cfg.Backends[0].Redispatch = true
	cfg.Backends[0].Retries = 1
	e, addr := startEngine(t, cfg)
	for i := 0; i < 4; i++ { // half go to the dead server and get redispatched
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "hello tcp")
		c.(*net.TCPConn).CloseWrite()
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != "hello tcp" {
			t.Fatalf("conn %d echo %q", i, got)
		}
	}
	be := e.Backend("be")
	if r, c := be.Redispatch.Load(), be.ConnErrors.Load(); r == 0 || r != c {
		t.Fatalf("redispatch %d, connection errors %d: want every failure redispatched", r, c)
	}
}

func TestIdleConnectionsParkAndResume(t *testing.T) {
	if parkAfter > time.Second {
		t.Skip("no parking on this platform")
	}
	b1, _ := backend(t, "b1", nil)
	cfg := simpleConfig(hostport(b1))
	cfg.Frontends[0].Timeouts.HTTPKeepAlive = 2 * time.Second
	e, addr := startEngine(t, cfg)
	var conns []net.Conn
	var readers []*bufio.Reader
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		body(t, rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET"))
		conns, readers = append(conns, c), append(readers, br)
	}
	if err := testenv.Until(5*time.Second, 20*time.Millisecond, func() error {
		if n := e.Parked(); n != 20 {
			return fmt.Errorf("%d parked", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A parked connection resumes on its next request.
	for i, c := range conns {
		if b := body(t, rawExchange(t, c, readers[i], "GET /again HTTP/1.1\r\nHost: a\r\n\r\n", "GET")); b != "hello from b1" {
			t.Fatalf("resumed connection %d: %q", i, b)
		}
	}
	// And timeout http-keep-alive still closes it once parked.
	c := conns[0]
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := readers[0].ReadByte(); err == nil {
		t.Fatal("parked connection got data instead of being closed")
	}
	if d := time.Since(start); d < time.Second || d > 6*time.Second {
		t.Fatalf("closed after %v, want about the 2s keep-alive timeout", d)
	}
	// The client sees the close a moment before the engine's goroutine
	// accounts for it: poll (bounded) rather than read once.
	fe := e.Frontend("fe")
	if err := testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
		if n := fe.CurConns.Load(); n > 19 {
			return fmt.Errorf("current connections %d after the close", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestFrontendMaxConn(t *testing.T) {
	b1, _ := backend(t, "b1", nil)
	cfg := simpleConfig(hostport(b1))
	cfg.Frontends[0].MaxConn = 1
	_, addr := startEngine(t, cfg)
	c1, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	br1 := bufio.NewReader(c1)
	body(t, rawExchange(t, c1, br1, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET"))
	// The second client is accepted by the kernel but not served while the
	// first (idle, kept alive) holds the only slot.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	io.WriteString(c2, "GET /second HTTP/1.1\r\nHost: a\r\n\r\n")
	c2.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	br2 := bufio.NewReader(c2)
	if _, err := br2.ReadByte(); err == nil {
		t.Fatal("second connection served beyond maxconn 1")
	}
	c1.Close()
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br2, nil)
	if err != nil {
		t.Fatalf("second connection after the first closed: %v", err)
	}
	if b := body(t, resp); b != "hello from b1" {
		t.Fatalf("got %q", b)
	}
}

func TestExpectContinueRejected(t *testing.T) {
	b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusRequestEntityTooLarge) // without reading the body
	})
	_, addr := startEngine(t, simpleConfig(hostport(b1)))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != 413 || !resp.Close {
		t.Fatalf("status %d close %v, want 413 and close (the body never came)", resp.StatusCode, resp.Close)
	}
}

// TestStaleUpstreamReplayed: a server that silently closes its keep-alive
// connections after each response (its idle timeout racing ours) must not
// cost the client an error: a bodyless request that found the reused
// connection dead is replayed once on a fresh one.
func TestStaleUpstreamReplayed(t *testing.T) {
	srv := rawServer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(buf); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		time.Sleep(20 * time.Millisecond) // then close: keep-alive promised, not kept
	})
	_, addr := startEngine(t, simpleConfig(srv))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 0; i < 5; i++ {
		resp := rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET")
		if b := body(t, resp); resp.StatusCode != 200 || b != "ok" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, b)
		}
		time.Sleep(40 * time.Millisecond) // let the server close its side
	}
}
