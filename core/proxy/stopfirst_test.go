package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// A connection accepted before the stop whose first request comes after
// it is served, not closed: in a binary upgrade the old process accepts
// from the socket it shares with its successor until it stops, and its
// clients have sent their request by then. Idle keep-alive connections
// are still closed (TestGracefulStop).
func TestStopServesFirstRequestOfAcceptedConnection(t *testing.T) {
	b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "done") })
	e, addr := startEngine(t, simpleConfig(hostport(b1)))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(100 * time.Millisecond) // accepted, waiting for its request
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- e.Stop(ctx)
	}()
	time.Sleep(100 * time.Millisecond)
	br := bufio.NewReader(c)
	if got := body(t, rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET")); got != "done" {
		t.Fatalf("first request after stop began: %q", got)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// A keep-alive client that sends its next request just as the engine
// stops (it could not know yet) gets it answered, with Connection: close,
// instead of a connection closed under the request; wrk counted those as
// read errors in a binary upgrade.
func TestStopAnswersNextKeepAliveRequest(t *testing.T) {
	b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "done") })
	e, addr := startEngine(t, simpleConfig(hostport(b1)))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	if got := body(t, rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET")); got != "done" {
		t.Fatalf("first request: %q", got)
	}
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- e.Stop(ctx)
	}()
	time.Sleep(20 * time.Millisecond)
	resp := rawExchange(t, c, br, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET")
	if got := body(t, resp); got != "done" || !resp.Close {
		t.Fatalf("request sent as the stop began: %q, close=%v", got, resp.Close)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v", err)
	}
}
