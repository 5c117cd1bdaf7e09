package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/listen"
)

// startInventoryEngine starts an engine whose frontend binds through a
// listener inventory, as `varde run` does, and returns its address.
func startInventoryEngine(t *testing.T, cfg *Config) (*Engine, string) {
	t.Helper()
	cfg.Sockets = &listen.Inventory{}
	cfg.Frontends[0].Binds = []string{"127.0.0.1:0"}
	e, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Stop(ctx)
	})
	return e, e.Frontend("fe").Addrs()[0].String()
}

// A plain HTTP listener is accepted on by the loops alone (no accept
// goroutine exists for it, so any answer proves a loop accepted), with the
// client's and the local address right, until Stop; after Stop nothing
// listens any more (the loops' duplicate of the socket is closed too).
func TestLoopAccept(t *testing.T) {
	b1, _ := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("X-Forwarded-For"))
	})
	cfg := simpleConfig(hostport(b1))
	cfg.Frontends[0].ForwardFor = &ForwardFor{Header: "X-Forwarded-For"}
	e, addr := startInventoryEngine(t, cfg)
	if len(e.loops) == 0 {
		t.Skip("no event loops on this machine")
	}
	if len(e.loopLsn) != 1 || e.loopLsn[0].off.Load() {
		t.Fatalf("loops accept on %d listeners (off: %v), want 1", len(e.loopLsn), len(e.loopLsn) > 0 && e.loopLsn[0].off.Load())
	}
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		resp := rawExchange(t, c, bufio.NewReader(c), fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", i), "GET")
		if b := body(t, resp); b != "127.0.0.1" {
			t.Fatalf("request %d: backend saw X-Forwarded-For %q, want 127.0.0.1", i, b)
		}
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the frontend's socket still accepts connections after Stop")
	}
}

// When a loop finds maxconn full it hands the listener to an accept
// goroutine, which waits for a free slot: the excess client waits in the
// backlog, then is served; later clients are served too.
func TestLoopAcceptHandsBackAtMaxconn(t *testing.T) {
	b1, _ := backend(t, "b1", nil)
	cfg := simpleConfig(hostport(b1))
	cfg.Frontends[0].MaxConn = 1
	e, addr := startInventoryEngine(t, cfg)
	if len(e.loops) == 0 {
		t.Skip("no event loops on this machine")
	}
	c1, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	body(t, rawExchange(t, c1, bufio.NewReader(c1), "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET"))
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
	if !e.loopLsn[0].off.Load() {
		t.Fatal("the loops still accept on a full listener")
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
	c2.Close()
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if b := body(t, rawExchange(t, c, bufio.NewReader(c), "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "GET")); b != "hello from b1" {
			t.Fatalf("client %d after the hand-back: %q", i, b)
		}
		c.Close()
	}
}

// A reload's commit (stopAccepting) takes the listener out of the old
// engine's loops at once, not at its drain's end: with no other holder
// of the socket (no inventory offer here), nothing listens any more.
func TestLoopAcceptStopsAtCommit(t *testing.T) {
	b1, _ := backend(t, "b1", nil)
	e, addr := startInventoryEngine(t, simpleConfig(hostport(b1)))
	if len(e.loops) == 0 {
		t.Skip("no event loops on this machine")
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	body(t, rawExchange(t, c, bufio.NewReader(c), "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "GET"))
	c.Close()
	e.stopAccepting()
	if len(e.loopLsn) != 0 {
		t.Fatalf("%d listeners left in the loops", len(e.loopLsn))
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the frontend's socket still accepts connections after the commit")
	}
}
