package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

func TestTimerHeapOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h timerHeap
	var live []*task
	for i := 0; i < 2000; i++ {
		tk := &task{hidx: -1, deadline: r.Int64N(1000)}
		h.push(tk)
		live = append(live, tk)
		if i%3 == 0 { // remove one from anywhere, as a wake-up by event does
			k := r.IntN(len(live))
			h.remove(live[k])
			if live[k].hidx != -1 {
				t.Fatal("removed task keeps its heap index")
			}
			live = append(live[:k], live[k+1:]...)
		}
	}
	for i, tk := range h {
		if tk.hidx != i {
			t.Fatalf("task at %d records index %d", i, tk.hidx)
		}
	}
	prev := int64(-1)
	n := 0
	for len(h) > 0 {
		tk := h.pop()
		if tk.deadline < prev {
			t.Fatalf("pop %d: deadline %d after %d", n, tk.deadline, prev)
		}
		prev = tk.deadline
		n++
	}
	if n != len(live) {
		t.Fatalf("popped %d, want %d", n, len(live))
	}
}

// TestLoopsFromNbthread: nbthread sets the loop count, each loop holds one
// more P while the engine runs, and Stop gives them back.
func TestLoopsFromNbthread(t *testing.T) {
	// nbthread, not a lane forced for the whole run (make test's VARDE_LOOPS=0
	// pass), decides here.
	if v, ok := os.LookupEnv("VARDE_LOOPS"); ok {
		t.Setenv("VARDE_LOOPS", v) // restored after the test
		os.Unsetenv("VARDE_LOOPS")
	}
	b1, _ := backend(t, "b1", nil)
	cfg := simpleConfig(hostport(b1))
	cfg.Threads = 3
	before := runtime.GOMAXPROCS(0)
	e, addr := startEngine(t, cfg)
	if len(e.loops) != 3 {
		t.Fatalf("%d loops, want nbthread 3", len(e.loops))
	}
	if got := runtime.GOMAXPROCS(0); got != before+3 {
		t.Fatalf("GOMAXPROCS %d while running, want %d", got, before+3)
	}
	// Connections spread over the loops and every one is served.
	for i := 0; i < 12; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		if b := body(t, rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET")); b != "hello from b1" {
			t.Fatalf("connection %d: %q", i, b)
		}
		c.Close()
	}
	stopEngine(t, e)
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Fatalf("GOMAXPROCS %d after stop, want %d", got, before)
	}
}

// TestGoroutineLane: VARDE_LOOPS=0 serves HTTP clients on goroutines (the
// lane used off Linux); idle ones park in the shared parker.
func TestGoroutineLane(t *testing.T) {
	t.Setenv("VARDE_LOOPS", "0")
	b1, _ := backend(t, "b1", nil)
	cfg := simpleConfig(hostport(b1))
	cfg.Frontends[0].Timeouts.HTTPKeepAlive = 5 * time.Second
	e, addr := startEngine(t, cfg)
	if len(e.loops) != 0 {
		t.Fatalf("%d loops with VARDE_LOOPS=0", len(e.loops))
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		if b := body(t, rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET")); b != "hello from b1" {
			t.Fatalf("request %d: %q", i, b)
		}
	}
	if err := testenv.Until(5*time.Second, 20*time.Millisecond, func() error {
		e.parker.mu.Lock()
		n := len(e.parker.conns)
		e.parker.mu.Unlock()
		if n != 1 {
			return fmt.Errorf("%d parked in the goroutine lane's parker", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSlowReaderDoesNotStallLoop: with a single loop, a client that stops
// reading a large response (its socket buffers fill, the write waits for
// EPOLLOUT) must not delay other clients of the same loop.
func TestSlowReaderDoesNotStallLoop(t *testing.T) {
	const big = 32 << 20
	chunk := strings.Repeat("x", 64<<10)
	b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/big" {
			io.WriteString(w, "small")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(big))
		for n := 0; n < big; n += len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
	cfg := simpleConfig(hostport(b1))
	cfg.Threads = 1
	_, addr := startEngine(t, cfg)

	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// Read a little, then stop: the proxy's write to this client blocks.
	slowR := bufio.NewReader(slow)
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := slowR.Peek(1024); err != nil {
		t.Fatal(err)
	}

	fast, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	fast.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(fast)
	start := time.Now()
	for i := 0; i < 50; i++ {
		if b := body(t, rawExchange(t, fast, br, "GET /small HTTP/1.1\r\nHost: a\r\n\r\n", "GET")); b != "small" {
			t.Fatalf("request %d: %q", i, b)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("50 requests took %v beside a stalled reader", d)
	}

	// The slow client then gets every byte.
	resp, err := http.ReadResponse(slowR, nil)
	if err != nil {
		t.Fatal(err)
	}
	slow.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != big {
		t.Fatalf("slow client read %d bytes (%v), want %d", n, err, big)
	}
}

func stopEngine(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}
