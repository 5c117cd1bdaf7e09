package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
)

// fault is a misbehaving server: it reads one request head, then does
// what act says. hits counts the requests it read.
type fault struct {
	hits atomic.Int64
	addr string
}

// faultServer starts a server that reads a request (hits counts it once
// the head is in), its body, and then acts.
func faultServer(t *testing.T, act func(c net.Conn)) *fault {
	f := &fault{}
	f.addr = rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		f.hits.Add(1)
		io.Copy(io.Discard, req.Body)
		act(c)
	})
	return f
}

func closeConn(c net.Conn) {}

func resetConn(c net.Conn) { c.(*net.TCPConn).SetLinger(0) }

func junk(c net.Conn) { io.WriteString(c, "this is not HTTP\r\n\r\n") }

func silent(c net.Conn) { time.Sleep(2 * time.Second) }

func status(code int) func(net.Conn) {
	return func(c net.Conn) {
		fmt.Fprintf(c, "HTTP/1.1 %d X\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbad", code)
	}
}

// retryCase is one retry-on situation: the first server (picked first)
// fails as act, the second answers; retries 1 with option redispatch, so
// a retry goes to the second server.
type retryCase struct {
	name     string
	act      func(net.Conn)
	retryOn  string
	post     string // a request body sent with the head ("" for GET)
	stream   bool   // send the body only after the head has been forwarded
	want     int    // status the client gets
	wantGood int64  // requests the good server answered
}

var retryCases = []retryCase{
	{"empty default", closeConn, "", "", false, 502, 0},
	{"empty retried", closeConn, "empty-response", "", false, 200, 1},
	{"reset retried", resetConn, "empty-response", "", false, 200, 1},
	{"reset not listed", resetConn, "conn-failure", "", false, 502, 0},
	{"junk default", junk, "", "", false, 502, 0},
	{"junk retried", junk, "junk-response", "", false, 200, 1},
	{"timeout default", silent, "", "", false, 504, 0},
	{"timeout retried", silent, "response-timeout", "", false, 200, 1},
	{"503 relayed", status(503), "", "", false, 503, 0},
	{"503 retried", status(503), "503", "", false, 200, 1},
	{"404 not listed", status(404), "503 504", "", false, 404, 0},
	{"404 retried", status(404), "404", "", false, 200, 1},
	{"all-retryable 500", status(500), "all-retryable-errors", "", false, 200, 1},
	{"all-retryable 404", status(404), "all-retryable-errors", "", false, 404, 0},
	{"none", closeConn, "none", "", false, 502, 0},
	{"buffered POST retried", closeConn, "empty-response", "hello", false, 200, 1},
	{"streamed POST not retried", closeConn, "empty-response", "hello", true, 502, 0},
	{"streamed POST 503 not retried", status(503), "503", "hello", true, 503, 0},
}

func TestRetryOn(t *testing.T) {
	lanes(t, func(t *testing.T) {
		for _, tc := range retryCases {
			t.Run(tc.name, func(t *testing.T) {
				tc.run(t)
			})
		}
	})
}

func (tc retryCase) run(t *testing.T) {
	bad := faultServer(t, tc.act)
	good, sg := backend(t, "good", nil)
	cfg := simpleConfig(bad.addr, hostport(good))
	be := cfg.Backends[0]
	be.Retries, be.Redispatch = 1, true
	be.Timeouts.Server = 500 * time.Millisecond
	r, err := ParseRetryOn(strings.Fields(tc.retryOn))
	if err != nil {
		t.Fatal(err)
	}
	be.RetryOn = r
	e, addr := startEngine(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	method := "GET"
	head := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	if tc.post != "" {
		method = "POST"
		head = fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(tc.post))
		if !tc.stream {
			head += tc.post
		}
	}
	io.WriteString(c, head)
	if tc.stream {
		// Let varde forward the head alone: the body is then streamed.
		waitFor(t, func() bool { return bad.hits.Load() == 1 })
		time.Sleep(50 * time.Millisecond)
		io.WriteString(c, tc.post)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	b := body(t, resp)
	if resp.StatusCode != tc.want || bad.hits.Load() != 1 || sg.hits.Load() != tc.wantGood {
		t.Fatalf("status %d (want %d) %q; bad server %d requests (want 1), good %d (want %d)",
			resp.StatusCode, tc.want, b, bad.hits.Load(), sg.hits.Load(), tc.wantGood)
	}
	if tc.wantGood == 1 {
		if tc.post != "" {
			if got := sg.last().Header.Get("Content-Length"); got != fmt.Sprint(len(tc.post)) {
				t.Fatalf("replayed body length %q", got)
			}
		}
		if n := e.Backend("be").Redispatch.Load(); n != 1 {
			t.Fatalf("redispatch counter %d, want 1", n)
		}
	}
}

func netipLoopback() netip.AddrPort { return netip.MustParseAddrPort("127.0.0.1:1") }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met in 5s")
}

// TestRetryBudget: every server answers a listed status; retries 2 means
// three attempts, then the last answer is relayed.
func TestRetryBudget(t *testing.T) {
	bad := faultServer(t, status(503))
	cfg := simpleConfig(bad.addr)
	be := cfg.Backends[0]
	be.Retries, be.RetryOn = 2, Retry503
	e, addr := startEngine(t, cfg)
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != 503 || bad.hits.Load() != 3 {
		t.Fatalf("status %d after %d attempts, want 503 after 3", resp.StatusCode, bad.hits.Load())
	}
	if n := e.Backend("be").Retries.Load(); n != 2 {
		t.Fatalf("retries counter %d, want 2", n)
	}
}

// TestStaleConnectionReplayed: a server that closes a keep-alive
// connection (while idle, or on reading the next GET without answering)
// costs the client nothing: the request goes again on a fresh connection,
// uncounted, and never as an error. TestSentReplayRules has the cases
// where it must not.
func TestStaleConnectionReplayed(t *testing.T) {
	for _, mode := range []string{"closed while idle", "closed on the next request"} {
		t.Run(mode, func(t *testing.T) {
			lanes(t, func(t *testing.T) { staleCase(t, mode == "closed while idle") })
		})
	}
}

func staleCase(t *testing.T, whileIdle bool) {
	var conns, answered atomic.Int64
	addr := rawServer(t, func(c net.Conn) {
		conns.Add(1)
		br := bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		answered.Add(1)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		if !whileIdle {
			http.ReadRequest(br) // read the next one and drop it
		}
	})
	cfg := simpleConfig(addr)
	if whileIdle {
		// Seen closed before it is used: dropped whatever retry-on says.
		cfg.Backends[0].RetryOn = RetryNone
	}
	e, front := startEngine(t, cfg)
	c, err := net.Dial("tcp", front)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		resp := rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
		if b := body(t, resp); resp.StatusCode != 200 || b != "ok" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, b)
		}
		if whileIdle {
			time.Sleep(50 * time.Millisecond) // the server's close arrives
		}
	}
	b := e.Backend("be")
	if answered.Load() != 3 || conns.Load() != 3 {
		t.Fatalf("%d answers over %d connections, want 3 over 3", answered.Load(), conns.Load())
	}
	if b.Retries.Load() != 0 || b.RespErrors.Load() != 0 {
		t.Fatalf("retries %d, response errors %d: a stale connection is not a failure", b.Retries.Load(), b.RespErrors.Load())
	}
}

// TestConnFailureRedispatchAtOnce: with a round-robin kind of balancing
// and two usable servers, HAProxy redispatches on the first retry without
// the turn-around wait.
func TestConnFailureRedispatchAtOnce(t *testing.T) {
	good, sg := backend(t, "good", nil)
	cfg := simpleConfig(closedPort(t), hostport(good))
	be := cfg.Backends[0]
	be.Balance = core.BalanceSpec{Algorithm: "roundrobin"}
	be.Retries, be.Redispatch = 3, true
	e, addr := startEngine(t, cfg)
	for i := 0; i < 4; i++ {
		start := time.Now()
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body(t, resp)
		if resp.StatusCode != 200 || time.Since(start) > 500*time.Millisecond {
			t.Fatalf("request %d: %d after %v", i, resp.StatusCode, time.Since(start))
		}
	}
	b := e.Backend("be")
	// Every refused connection was redispatched at once, none retried
	// on the dead server.
	if sg.hits.Load() != 4 || b.Redispatch.Load() == 0 || b.Redispatch.Load() != b.ConnErrors.Load() || b.Retries.Load() != 0 {
		t.Fatalf("good %d, redispatch %d, connection errors %d, retries %d", sg.hits.Load(), b.Redispatch.Load(), b.ConnErrors.Load(), b.Retries.Load())
	}
}

// TestRedispatchInterval checks option redispatch's interval against
// HAProxy's stream_choose_redispatch (a backend not of the round-robin
// kind, all servers usable).
func TestRedispatchInterval(t *testing.T) {
	cases := []struct {
		every, retries int
		want           string // one letter per retry: r redispatch, s same server
	}{
		{0, 3, "ssr"},             // default: the last retry
		{-1, 3, "ssr"},            // the same, written
		{1, 3, "rrr"},             // every retry
		{2, 4, "srsr"},            // every second retry
		{-2, 4, "ssrs"},           // the retry before the last (every 3rd: 4+1-2)
		{RedispatchOff, 3, "sss"}, // option redispatch 0
	}
	for _, tc := range cases {
		b := &Backend{cfg: &BackendConfig{Redispatch: true, RedispatchEvery: tc.every,
			Balance: core.BalanceSpec{Algorithm: "leastconn"}}, retries: tc.retries}
		cs := core.NewServer("b", "s", 1, netipLoopback(), 1, 0)
		x := &xchg{b: b, srv: &server{Server: cs}}
		s := &session{}
		got := ""
		for x.tries = 1; x.tries <= tc.retries; x.tries++ {
			if s.redispatchNow(x, true) {
				got += "r"
			} else {
				got += "s"
			}
		}
		if got != tc.want {
			t.Errorf("redispatch %d with retries %d: %s, want %s", tc.every, tc.retries, got, tc.want)
		}
	}
}

// TestAbortOnClose: a request whose client closed its side while it
// waited in the queue (or before varde connected) never reaches the
// server with option abortonclose, and does without it.
func TestAbortOnClose(t *testing.T) {
	for _, abort := range []bool{true, false} {
		t.Run(fmt.Sprint("abortonclose=", abort), func(t *testing.T) {
			lanes(t, func(t *testing.T) { abortCase(t, abort) })
		})
	}
}

func abortCase(t *testing.T, abort bool) {
	release := make(chan struct{})
	slow, sg := backend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
		io.WriteString(w, "done")
	})
	cfg := simpleConfig(hostport(slow))
	be := cfg.Backends[0]
	be.Servers[0].MaxConn = 1
	be.Timeouts.Queue = 5 * time.Second
	be.AbortOnClose = abort
	_, addr := startEngine(t, cfg)
	// The first request holds the only slot.
	first := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/hold")
		if err == nil {
			body(t, resp)
		}
		first <- err
	}()
	waitFor(t, func() bool { return sg.hits.Load() == 1 })
	// The second queues, and its client closes its sending side.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /queued HTTP/1.1\r\nHost: x\r\n\r\n")
	c.(*net.TCPConn).CloseWrite()
	time.Sleep(300 * time.Millisecond)
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	want := int64(2)
	if abort {
		want = 1
	}
	if n := sg.hits.Load(); n != want {
		t.Fatalf("server saw %d requests, want %d", n, want)
	}
}

// TestOnMarkedDown: with on-marked-down shutdown-sessions, a transfer in
// progress with a server that health marks down is cut at once; without
// it, it completes.
func TestOnMarkedDown(t *testing.T) {
	for _, shut := range []bool{true, false} {
		t.Run(fmt.Sprint("shutdown-sessions=", shut), func(t *testing.T) {
			lanes(t, func(t *testing.T) { markedDownCase(t, shut) })
		})
	}
}

func markedDownCase(t *testing.T, shut bool) {
	slow, sg := backend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "4")
		w.WriteHeader(200)
		io.WriteString(w, "do")
		w.(http.Flusher).Flush()
		time.Sleep(time.Second)
		io.WriteString(w, "ne")
	})
	cfg := simpleConfig(hostport(slow))
	cfg.Backends[0].Servers[0].ShutdownOnDown = shut
	e, addr := startEngine(t, cfg)
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	waitFor(t, func() bool { return sg.hits.Load() == 1 })
	b := e.Backend("be")
	start := time.Now()
	b.Servers()[0].SetHealth(core.HealthDown)
	b.Refresh()
	got, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if shut {
		if err == nil || took > 700*time.Millisecond {
			t.Fatalf("body %q err %v after %v: the session was not shut down", got, err, took)
		}
		return
	}
	if err != nil || string(got) != "done" {
		t.Fatalf("body %q err %v: the transfer should complete", got, err)
	}
}

// TestOnMarkedUp: with on-marked-up shutdown-backup-sessions, the backup
// server's sessions end when the active server comes back up.
func TestOnMarkedUp(t *testing.T) {
	slow, sg := backend(t, "backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "4")
		w.WriteHeader(200)
		io.WriteString(w, "do")
		w.(http.Flusher).Flush()
		time.Sleep(time.Second)
		io.WriteString(w, "ne")
	})
	cfg := simpleConfig(closedPort(t), hostport(slow))
	be := cfg.Backends[0]
	be.Servers[0].ShutdownBackupsOnUp = true
	be.Servers[1].Backup = true
	e, addr := startEngine(t, cfg)
	b := e.Backend("be")
	b.Servers()[0].SetHealth(core.HealthDown)
	b.Refresh()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	waitFor(t, func() bool { return sg.hits.Load() == 1 })
	start := time.Now()
	b.Servers()[0].SetHealth(core.HealthUp)
	b.Refresh()
	got, err := io.ReadAll(resp.Body)
	if err == nil || time.Since(start) > 700*time.Millisecond {
		t.Fatalf("body %q err %v after %v: the backup session was not shut down", got, err, time.Since(start))
	}
}

// FuzzRetryOn: the configuration parser and the engine agree on every
// retry-on line: what core/config accepts, ParseRetryOn accepts with the
// same meaning, and an accepted list never mixes none with other words.
func FuzzRetryOn(f *testing.F) {
	for _, s := range []string{"conn-failure", "none", "none 503", "503 504", "all-retryable-errors 404",
		"EMPTY-response", "418", "0rtt-rejected junk-response", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n\r#\\\"'$") || strings.IndexFunc(line, func(r rune) bool { return r < 0x20 && r != '\t' }) >= 0 {
			// One configuration line, no quoting or comments; no control
			// bytes, which the configuration reader ends a word at (a NUL
			// there is not a strings.Fields separator).
			return
		}
		var d diag.List
		c := config.Parse("f.cfg", []byte("backend b\n    retry-on "+line+"\n"), nil, &d)
		words := strings.Fields(line)
		r, err := ParseRetryOn(words)
		if d.HasErrors() {
			if len(words) > 0 && err == nil {
				t.Fatalf("config refused %q, the engine took it as %b", line, r)
			}
			return
		}
		if err != nil {
			t.Fatalf("config accepted %q, the engine refused it: %v", line, err)
		}
		if len(c.Backends) != 1 {
			t.Fatalf("no backend parsed from %q", line)
		}
		again, err := ParseRetryOn(c.Backends[0].RetryOn)
		if err != nil || again != r {
			t.Fatalf("%q: model %q gives %b (%v), words give %b", line, c.Backends[0].RetryOn, again, err, r)
		}
		if r&RetryNone != 0 && r != RetryNone {
			t.Fatalf("%q: none mixed with other kinds", line)
		}
	})
}

// TestTCPRetryOnNone: HAProxy 2.6 reads retry-on in mode tcp too: `none`
// stops connection retries, the default keeps them.
func TestTCPRetryOnNone(t *testing.T) {
	for _, tc := range []struct {
		retryOn RetryOn
		echoed  bool
	}{{0, true}, {RetryNone, false}} {
		echo := rawServer(t, func(c net.Conn) { io.Copy(c, c) })
		cfg := simpleConfig(closedPort(t), echo) // the dead server is picked first
		cfg.Frontends[0].Mode, cfg.Backends[0].Mode = ModeTCP, ModeTCP
		be := cfg.Backends[0]
		be.Redispatch, be.Retries, be.RetryOn = true, 1, tc.retryOn
		_, addr := startEngine(t, cfg)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "hello")
		c.(*net.TCPConn).CloseWrite()
		got, _ := io.ReadAll(c)
		c.Close()
		if (string(got) == "hello") != tc.echoed {
			t.Fatalf("retry-on %b: echo %q, want echoed=%v", tc.retryOn, got, tc.echoed)
		}
	}
}

// TestStaleReplayGoesElsewhere: a reused connection found dead under
// round-robin with two usable servers is replayed on the other server (the
// first is probably dying), still uncounted as a retry.
func TestStaleReplayGoesElsewhere(t *testing.T) {
	var dropped atomic.Int64
	// The first server answers each connection's first request, then
	// drops the next one unanswered: every reuse of its connections fails.
	first := rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")
		if _, err := http.ReadRequest(br); err == nil {
			dropped.Add(1)
		}
	})
	good, sg := backend(t, "good", nil)
	cfg := simpleConfig(first, hostport(good))
	be := cfg.Backends[0]
	be.Balance = core.BalanceSpec{Algorithm: "roundrobin"}
	be.Redispatch = true
	e, addr := startEngine(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 0; i < 6; i++ {
		resp := rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
		if b := body(t, resp); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, b)
		}
	}
	b := e.Backend("be")
	// Requests 3 and 5 reuse the first server's pooled connection.
	if dropped.Load() == 0 {
		t.Fatal("no reused connection was dropped: the test did not exercise the replay")
	}
	if int64(b.Redispatch.Load()) < dropped.Load() || b.Retries.Load() != 0 || sg.hits.Load() < 3 {
		t.Fatalf("%d dropped, %d redispatched, %d retries, good server %d", dropped.Load(), b.Redispatch.Load(), b.Retries.Load(), sg.hits.Load())
	}
}

// TestOnMarkedDownFromPassiveHealth: a passive health verdict arrives on
// the event loop serving the request that failed; on-marked-down must not
// wait for that same loop (it did: deadlock).
func TestOnMarkedDownFromPassiveHealth(t *testing.T) {
	lanes(t, func(t *testing.T) {
		bad := faultServer(t, junk)
		cfg := simpleConfig(bad.addr)
		cfg.Backends[0].Servers[0].ShutdownOnDown = true
		e, addr := startEngine(t, cfg)
		b := e.Backend("be")
		b.SetHook(&Hook{Observe: func(cs *core.Server, o Observation) {
			if o.BadResp { // on-error mark-down, as core/health does it
				cs.SetHealth(core.HealthDown)
				b.Refresh()
			}
		}})
		done := make(chan int, 1)
		go func() {
			resp, err := http.Get("http://" + addr + "/")
			if err != nil {
				done <- -1
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		select {
		case code := <-done:
			if code != 502 {
				t.Fatalf("status %d, want 502", code)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the request hung: on-marked-down waited for its own event loop")
		}
	})
}

// TestBufferRequest: option http-buffer-request makes a POST whose body
// arrives after its head replayable (retried as retry-on says); without
// it the same request is streamed and not retried. A body that never
// comes gets 408 within timeout http-request; one larger than the buffer
// is streamed.
func TestBufferRequest(t *testing.T) {
	lanes(t, func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			buffer   bool
			body     string
			delay    time.Duration
			never    bool
			want     int
			wantGood int64
		}{
			{"buffered and retried", true, "hello", 100 * time.Millisecond, false, 200, 1},
			{"streamed, not retried", false, "hello", 100 * time.Millisecond, false, 502, 0},
			{"body never sent", true, "hello", 0, true, 408, 0},
			{"larger than the buffer", true, strings.Repeat("x", 64<<10), 100 * time.Millisecond, false, 502, 0},
		} {
			t.Run(tc.name, func(t *testing.T) { bufferCase(t, tc.buffer, tc.body, tc.delay, tc.never, tc.want, tc.wantGood) })
		}
	})
}

func bufferCase(t *testing.T, buffer bool, reqBody string, delay time.Duration, never bool, want int, wantGood int64) {
	bad := faultServer(t, closeConn)
	good, sg := backend(t, "good", nil)
	cfg := simpleConfig(bad.addr, hostport(good))
	cfg.Frontends[0].Timeouts.HTTPRequest = 300 * time.Millisecond
	be := cfg.Backends[0]
	be.Retries, be.Redispatch, be.RetryOn, be.BufferRequest = 1, true, RetryEmptyResponse, buffer
	_, addr := startEngine(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(reqBody))
	if !never {
		time.Sleep(delay)
		go io.WriteString(c, reqBody)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "POST"})
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != want || sg.hits.Load() != wantGood {
		t.Fatalf("status %d (want %d), good server %d requests (want %d), bad %d", resp.StatusCode, want, sg.hits.Load(), wantGood, bad.hits.Load())
	}
	if want == 408 && bad.hits.Load() != 0 {
		t.Fatal("a request without its body reached a server")
	}
	if wantGood == 1 && sg.last().ContentLength != int64(len(reqBody)) {
		t.Fatalf("replayed body length %d", sg.last().ContentLength)
	}
}

// TestSentReplayRules: a request sent whole over a reused connection that
// the server closes without answering may have been acted on. Only an
// idempotent method is replayed (uncounted), and not with retry-on none;
// a POST only when retry-on lists empty-response (a counted retry, as in
// HAProxy). Otherwise the client connection is closed with no answer
// (HAProxy's abort_keep_alive) and the server saw the request once.
func TestSentReplayRules(t *testing.T) {
	cases := []struct {
		name, method string
		retryOn      RetryOn
		replay       bool
		retries      int64
	}{
		{"GET default", "GET", 0, true, 0},
		{"GET none", "GET", RetryNone, false, 0},
		{"HEAD default", "HEAD", 0, true, 0},
		{"PUT default", "PUT", 0, true, 0},
		{"DELETE conn-failure", "DELETE", RetryConnFailure, true, 0},
		{"POST default", "POST", 0, false, 0},
		{"POST none", "POST", RetryNone, false, 0},
		{"PATCH default", "PATCH", 0, false, 0},
		{"POST empty-response", "POST", RetryEmptyResponse, true, 1},
		{"get lowercase is not GET", "get", 0, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lanes(t, func(t *testing.T) {
				sentReplayCase(t, tc.method, tc.retryOn, tc.replay, tc.retries)
			})
		})
	}
}

func sentReplayCase(t *testing.T, method string, retryOn RetryOn, replay bool, retries int64) {
	var second atomic.Int64
	// Each connection's first request is answered; a second one is read
	// whole and dropped with the connection.
	addr := rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for n := 0; ; n++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if req.URL.Path == "/two" {
				second.Add(1)
			}
			if n == 1 {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	cfg := simpleConfig(addr)
	cfg.Backends[0].RetryOn = retryOn
	e, front := startEngine(t, cfg)
	c, err := net.Dial("tcp", front)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	if resp := rawExchange(t, c, br, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n", "GET"); resp.StatusCode != 200 || body(t, resp) != "ok" {
		t.Fatalf("first request: %d", resp.StatusCode)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "%s /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", method)
	resp, err := http.ReadResponse(br, &http.Request{Method: strings.ToUpper(method)})
	b := e.Backend("be")
	if replay {
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("want the request replayed and answered 200, got %v %v", resp, err)
		}
		resp.Body.Close()
		if second.Load() != 2 {
			t.Fatalf("server saw /two %d times, want 2", second.Load())
		}
	} else {
		if err == nil {
			t.Fatalf("want the client connection closed with no answer, got %d", resp.StatusCode)
		}
		if n := br.Buffered(); n != 0 {
			t.Fatalf("%d stray bytes after the close", n)
		}
		if second.Load() != 1 {
			t.Fatalf("server saw /two %d times, want once", second.Load())
		}
	}
	if got := b.Retries.Load(); int64(got) != retries {
		t.Fatalf("retries %d, want %d", got, retries)
	}
}
