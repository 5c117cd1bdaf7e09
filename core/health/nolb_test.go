package health_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
)

// codeProbe answers like an HTTP check whose server returns *code.
func codeProbe(code *atomic.Int32) string {
	name := fmt.Sprintf("test-code-%d", probeSeq.Add(1))
	health.RegisterProbe(name, func(health.ProbeSpec) (health.Probe, error) {
		return health.ProbeFunc(func(context.Context, health.Target) core.CheckResult {
			c := int(code.Load())
			if c < 400 {
				return core.CheckResult{OK: true, Status: "L7OK", Code: c}
			}
			return core.CheckResult{Status: "L7STS", Code: c, Info: "HTTP status check returned code"}
		}), nil
	})
	return name
}

// TestDisableOn404States: UP + 404 = NOLB (L7OKC, not usable, still up);
// 200 = UP again at once; failures take a NOLB server DOWN and clear it;
// a DOWN server answering 404 stays DOWN; a reload keeps NOLB only while
// the option stays.
func TestDisableOn404States(t *testing.T) {
	t.Parallel()
	var code atomic.Int32
	code.Store(200)
	cfg := health.Config{Enabled: true, Inter: 10 * time.Millisecond, Rise: 2, Fall: 3, DisableOn404: true,
		Probe: health.ProbeSpec{Type: codeProbe(&code)}}
	s := core.NewServer("be", "s", 1, netip.MustParseAddrPort("127.0.0.1:1"), 1, 0)
	m := health.NewManager(health.Options{})
	if err := m.Add(s, cfg); err != nil {
		t.Fatal(err)
	}
	m.Start(context.Background())
	defer m.Close()
	status := func() string { i, ok := m.Info(s); return health.StatusText(s, i, ok) }
	waitInfo(t, m, s, func(i health.Info) bool { return s.IsUp() && i.Status == "L7OK" })

	code.Store(404)
	waitInfo(t, m, s, func(health.Info) bool { return s.Stopping() })
	if st := status(); st != "NOLB" || s.Usable() || !s.IsUp() || s.StateString() != "NOLB" {
		t.Errorf("after 404: %q usable=%v up=%v", st, s.Usable(), s.IsUp())
	}
	if i, _ := m.Info(s); i.Status != "L7OKC" || i.Desc != "Layer7 check conditionally passed" {
		t.Errorf("check status %q %q", i.Status, i.Desc)
	}
	code.Store(200)
	waitInfo(t, m, s, func(health.Info) bool { return !s.Stopping() })
	if !s.Usable() || status() != "UP" {
		t.Errorf("after 200: %q usable=%v", status(), s.Usable())
	}

	code.Store(404)
	waitInfo(t, m, s, func(health.Info) bool { return s.Stopping() })
	code.Store(503)
	waitInfo(t, m, s, func(health.Info) bool { return !s.IsUp() })
	if s.Stopping() {
		t.Error("a DOWN server is still NOLB")
	}
	code.Store(404)
	time.Sleep(100 * time.Millisecond) // ten checks
	if i, _ := m.Info(s); s.IsUp() || s.Stopping() || i.Status != "L7STS" {
		t.Errorf("DOWN server answering 404: up=%v nolb=%v status %q", s.IsUp(), s.Stopping(), i.Status)
	}

	code.Store(200)
	waitInfo(t, m, s, func(health.Info) bool { return s.IsUp() })
	code.Store(404)
	waitInfo(t, m, s, func(health.Info) bool { return s.Stopping() })
	for _, keep := range []bool{true, false} {
		next := health.NewManager(health.Options{})
		ns := core.NewServer("be", "s", 1, s.Addr, 1, 0)
		c := cfg
		c.DisableOn404 = keep
		if err := next.Add(ns, c); err != nil {
			t.Fatal(err)
		}
		next.Inherit(m)
		if ns.Stopping() != keep || !ns.IsUp() {
			t.Errorf("reload with disable-on-404=%v: nolb=%v up=%v", keep, ns.Stopping(), ns.IsUp())
		}
		next.Close()
	}
}
