package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

const fullConnConfig = `defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout queue 10s

frontend f
    bind 127.0.0.1:{{PORT}}
    default_backend b

backend b
    fullconn 20
    server s1 {{S1}} minconn 2 maxconn 10
`

// heldServer answers each request only when the test releases it; in
// counts the requests it holds now.
type heldServer struct {
	in      atomic.Int64
	mu      sync.Mutex
	waiting []chan struct{}
}

func (h *heldServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ch := make(chan struct{})
	h.mu.Lock()
	h.waiting = append(h.waiting, ch)
	h.mu.Unlock()
	h.in.Add(1)
	select {
	case <-ch:
	case <-time.After(8 * time.Second):
	}
	h.in.Add(-1)
	io.WriteString(w, "ok")
}

// release answers the n oldest held requests.
func (h *heldServer) release(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ; n > 0 && len(h.waiting) > 0; n-- {
		close(h.waiting[0])
		h.waiting = h.waiting[1:]
	}
}

// settled waits until the count of held requests stops changing (300 ms
// without change, 3 s at most) and returns it.
func (h *heldServer) settled() int64 {
	last, since := h.in.Load(), time.Now()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n := h.in.Load(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > 300*time.Millisecond {
			break
		}
	}
	return last
}

// runFullConn sends 10 concurrent requests one after the other and reports
// how many the server holds: after they all arrived, after each of the
// first answers, and the statuses once all are released.
func runFullConn(t *testing.T, addr string, h *heldServer) []string {
	const n = 10
	statuses := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				statuses[i] = err.Error()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(15 * time.Second))
			fmt.Fprintf(c, "GET /%d HTTP/1.1\r\nHost: h\r\n\r\n", i)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				statuses[i] = "closed"
				return
			}
			resp.Body.Close()
			statuses[i] = fmt.Sprint(resp.StatusCode)
		}(i)
		time.Sleep(30 * time.Millisecond) // in order: each one's backend load is known
	}
	out := []string{fmt.Sprintf("held after 10 arrived: %d", h.settled())}
	h.release(1)
	out = append(out, fmt.Sprintf("held after 1 answer: %d", h.settled()))
	for i := 2; i <= 6; i++ { // one at a time: each end sees the load the previous left
		h.release(1)
		out = append(out, fmt.Sprintf("held after %d answers: %d", i, h.settled()))
	}
	for i := 0; i < 20 && h.in.Load()+int64(len(h.waiting)) > 0; i++ {
		h.release(n)
		time.Sleep(50 * time.Millisecond)
	}
	h.release(n)
	wg.Wait()
	return append(out, strings.Join(statuses, " "))
}

// TestFullConnMinConnDifferential: a server with minconn 2 maxconn 10 in a
// backend with fullconn 20, under 10 held requests, through HAProxy 2.6
// and varde: how many reach the server as the backend's load grows and
// as answers free slots (HAProxy's srv_dynamic_maxconn).
func TestFullConnMinConnDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	run := func(bin string, args ...string) []string {
		h := &heldServer{}
		srv := &http.Server{Handler: h}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(l)
		defer srv.Close()
		port := testenv.FreePort(t)
		cfg := filepath.Join(t.TempDir(), "p.cfg")
		os.WriteFile(cfg, []byte(strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{S1}}", l.Addr().String()).Replace(fullConnConfig)), 0o644)
		cmd, out := testenv.Start(t, bin, append(args, "-f", cfg)...)
		_ = cmd
		testenv.WaitListening(t, bin, out, port)
		return runFullConn(t, fmt.Sprintf("127.0.0.1:%d", port), h)
	}
	hOut := run(haproxy, "-db")
	vOut := run(testenv.VardeBinary(t), "run")
	for i := range hOut {
		t.Logf("haproxy %-28s | varde %s", hOut[i], vOut[i])
	}
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("the server saw different loads (-haproxy +varde)\n%s", d)
	}
}

// TestFullConnInProcess runs the same load through the in-process engine
// (so -race sees the dynamic limit and the queue), expecting what HAProxy
// 2.6 gives in TestFullConnMinConnDifferential.
func TestFullConnInProcess(t *testing.T) {
	h := &heldServer{}
	srv := &http.Server{Handler: h}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	src := strings.NewReplacer("{{PORT}}", fmt.Sprint(testenv.FreePort(t)), "{{S1}}", l.Addr().String()).Replace(fullConnConfig)
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
	want := []string{"held after 10 arrived: 2", "held after 1 answer: 5", "held after 2 answers: 4", "held after 3 answers: 4",
		"held after 4 answers: 3", "held after 5 answers: 3", "held after 6 answers: 2", "200 200 200 200 200 200 200 200 200 200"}
	if d := cmp.Diff(want, runFullConn(t, addr, h)); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}
