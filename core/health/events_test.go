package health_test

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/testenv"
)

// The lines HAProxy 2.6 logged for these events (haproxy -db, UDP syslog).
func TestEventMessages(t *testing.T) {
	l4con := core.CheckResult{Status: "L4CON", Info: "Connection refused"}
	tests := []struct {
		name      string
		e         health.Event
		typ       string
		logChecks bool
		want      string
		level     int
	}{
		{"down", health.Event{Kind: health.EventServerDown, Backend: "app", Server: "web2", Result: l4con, Active: 1},
			"backend", false, `Server app/web2 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`, 1},
		{"down with log-health-checks", health.Event{Kind: health.EventServerDown, Backend: "app", Server: "web2", Result: l4con, Active: 1},
			"backend", true, `Server app/web2 is DOWN. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`, 1},
		{"running on backup", health.Event{Kind: health.EventServerDown, Backend: "li", Server: "s1", Result: l4con, Backups: 1},
			"proxy", false, `Server li/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue.`, 1},
		{"backup down", health.Event{Kind: health.EventServerDown, Backend: "li", Server: "b1", Backup: true, Result: l4con},
			"proxy", false, `Backup Server li/b1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`, 1},
		{"up", health.Event{Kind: health.EventServerUp, Backend: "app", Server: "web2", Result: core.CheckResult{OK: true, Status: "L4OK"}, Active: 1},
			"backend", false, `Server app/web2 is UP, reason: Layer4 check passed, check duration: 0ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.`, 5},
		{"layer7", health.Event{Kind: health.EventServerDown, Backend: "ht", Server: "h1", Result: core.CheckResult{Status: "L7STS", Code: 404, Info: "File not found", Duration: 5 * time.Millisecond}},
			"backend", false, `Server ht/h1 is DOWN, reason: Layer7 wrong status, code: 404, info: "File not found", check duration: 5ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`, 1},
		{"no server", health.Event{Kind: health.EventBackendDown, Backend: "app"}, "backend", false, `backend app has no server available!`, 0},
		{"no server listen", health.Event{Kind: health.EventBackendDown, Backend: "li"}, "proxy", false, `proxy li has no server available!`, 0},
		{"check ok", health.Event{Kind: health.EventCheck, Backend: "app", Server: "web1", Result: core.CheckResult{OK: true, Status: "L4OK"}, Health: 3, Rise: 2, Fall: 2},
			"backend", true, `Health check for server app/web1 succeeded, reason: Layer4 check passed, check duration: 0ms, status: 2/2 UP.`, 5},
		{"check failed", health.Event{Kind: health.EventCheck, Backend: "app", Server: "web2", Result: l4con, Health: 0, Rise: 2, Fall: 2},
			"backend", true, `Health check for server app/web2 failed, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms, status: 0/2 DOWN.`, 5},
		{"check drain", health.Event{Kind: health.EventCheck, Backend: "app", Server: "web1", Backup: true, Result: core.CheckResult{OK: true, Status: "L4OK"}, Health: 4, Rise: 2, Fall: 3, Drain: true},
			"backend", true, `Health check for backup server app/web1 succeeded, reason: Layer4 check passed, check duration: 0ms, status: 3/3 DRAIN.`, 5},
		{"info escaped", health.Event{Kind: health.EventServerDown, Backend: "a", Server: "b", Result: core.CheckResult{Status: "L7RSP", Info: "bad \"x\" <y>\n"}},
			"backend", false, `Server a/b is DOWN, reason: Layer7 invalid response, info: "bad <22>x<22> <3C>y<3E><0A>", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`, 1},
	}
	for _, tt := range tests {
		if got := string(tt.e.AppendMessage(nil, tt.typ, tt.logChecks)); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
		if tt.e.Level() != tt.level {
			t.Errorf("%s: level %d, want %d", tt.name, tt.e.Level(), tt.level)
		}
	}
}

type eventRec struct {
	mu  sync.Mutex
	got []string
}

func (r *eventRec) HealthEvent(e health.Event) {
	r.mu.Lock()
	r.got = append(r.got, string(e.AppendMessage(nil, "backend", false)))
	r.mu.Unlock()
}

func (r *eventRec) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// A real HTTP server failing and recovering: the manager reports each
// check that moved the counter, the DOWN, the empty backend and the UP,
// in that order.
func TestManagerEmitsEvents(t *testing.T) {
	t.Parallel()
	b := newFlaky(t)
	s := core.NewServer("be", "web1", 1, b.addr(), 1, 0)
	rec := &eventRec{}
	m := health.NewManager(health.Options{Events: func() health.EventSink { return rec }})
	cfg := health.Config{Enabled: true, Inter: 30 * time.Millisecond, Rise: 1, Fall: 1, Timeout: 2 * time.Second,
		Probe: health.ProbeSpec{Type: "http", HTTP: health.HTTPSpec{Method: "GET", URI: "/health"}}}
	if err := m.Add(s, cfg); err != nil {
		t.Fatal(err)
	}
	b.failing.Store(true)
	m.Start(context.Background())
	defer m.Close()
	wait := func(n int) []string {
		var got []string
		testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
			if got = rec.lines(); len(got) < n {
				return context.DeadlineExceeded
			}
			return nil
		})
		return got
	}
	got := wait(3)
	b.failing.Store(false)
	got = wait(5)
	ms := regexp.MustCompile(`check duration: \d+ms`)
	want := []string{
		`Health check for server be/web1 failed, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: Nms, status: 0/1 DOWN.`,
		`Server be/web1 is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`,
		`backend be has no server available!`,
		`Health check for server be/web1 succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: 1/1 UP.`,
		`Server be/web1 is UP, reason: Layer7 check passed, code: 200, check duration: Nms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d:\n%q", len(got), len(want), got)
	}
	for i := range want {
		if g := ms.ReplaceAllString(got[i], "check duration: Nms"); g != want[i] {
			t.Errorf("event %d:\n got %s\nwant %s", i, g, want[i])
		}
	}
}
