package proxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/testenv"
)

// alertSink is a record sink that also takes the backend events, as the
// log pipeline does.
type alertSink struct {
	recSink
	mu     sync.Mutex
	events []health.Event
}

func (a *alertSink) HealthEvent(e health.Event) {
	a.mu.Lock()
	a.events = append(a.events, e)
	a.mu.Unlock()
}

// TestCheckcacheAlertAndLog: a blocked response is logged PH with the
// server named, counted as a denied response, and an alert at LOG_ALERT
// naming backend and server goes to the backend's log targets.
func TestCheckcacheAlertAndLog(t *testing.T) {
	srv := rawServer(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		c.Read(buf)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nSet-Cookie: s=1\r\nExpires: Tue, 01 Dec 2037 00:00:00 GMT\r\ncontent-length: 2\r\n\r\nok")
	})
	cfg := simpleConfig(srv)
	cfg.Backends[0].CheckCache = true
	sink := &alertSink{}
	cfg.Sink = sink
	e, addr := startEngine(t, cfg)
	resp, err := http.Get("http://" + addr + "/a")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Set-Cookie") != "" || !strings.Contains(string(b), "Service ready") {
		t.Fatalf("cookie not blocked: %v %q", resp.Header, b)
	}
	err = testenv.Until(2*time.Second, 5*time.Millisecond, func() error {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		if len(sink.events) != 1 || len(sink.all()) != 1 {
			return fmt.Errorf("%d events, %d records", len(sink.events), len(sink.all()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ev := sink.events[0]
	msg := string(ev.AppendMessage(nil, "backend", false))
	want := "Blocking cacheable cookie in response from instance " + cfg.Backends[0].Name + ", server " + cfg.Backends[0].Servers[0].Name + "."
	if msg != want || ev.Level() != 1 {
		t.Errorf("alert %q at level %d, want %q at 1 (LOG_ALERT)", msg, ev.Level(), want)
	}
	r := sink.all()[0]
	if string(r.Term[:2]) != "PH" || r.Server == "" {
		t.Errorf("logged term %q server %q, want PH and the server", r.Term, r.Server)
	}
	if n := e.Backend(cfg.Backends[0].Name).Meters.DeniedResp.Load(); n != 1 {
		t.Errorf("denied responses %d, want 1", n)
	}
}
