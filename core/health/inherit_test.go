package health_test

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
)

// TestInherit: a reload's manager takes over a DOWN server, an operator's
// drain, weight and maxconn, and a slowstart in progress, by backend and
// server name; a server whose configured weight changed takes the new one.
func TestInherit(t *testing.T) {
	t.Parallel()
	var ok atomic.Bool
	ok.Store(true)
	cfg := func(slow time.Duration) health.Config {
		return health.Config{Enabled: true, Inter: 10 * time.Millisecond, Rise: 2, Fall: 3, Slowstart: slow,
			Probe: health.ProbeSpec{Type: scripted(t, &ok)}}
	}
	addr := netip.MustParseAddrPort("127.0.0.1:1")
	down, drained, ramp := core.NewServer("be", "down", 1, addr, 10, 0), core.NewServer("be", "drained", 2, addr, 10, 0), core.NewServer("be", "ramp", 3, addr, 100, 0)
	old := health.NewManager(health.Options{})
	for _, s := range []*core.Server{down, drained} {
		if err := old.Add(s, cfg(0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Add(ramp, cfg(time.Hour)); err != nil {
		t.Fatal(err)
	}
	old.Start(context.Background())
	defer old.Close()
	ok.Store(false)
	waitInfo(t, old, down, func(health.Info) bool { return !down.IsUp() && !ramp.IsUp() })
	old.SetAdmin(down, core.AdminMaint)    // freezes down's checks: it stays DOWN
	old.SetAdmin(drained, core.AdminDrain) // maint would stop its checks; drain does not
	old.SetWeight(drained, 42)
	drained.SetMaxConn(5)
	ok.Store(true)
	waitInfo(t, old, ramp, func(i health.Info) bool { return ramp.IsUp() && i.Slowstarting })

	cases := []struct {
		name       string
		confWeight int
		check      func(t *testing.T, s *core.Server, m *health.Manager)
	}{
		{"down", 10, func(t *testing.T, s *core.Server, m *health.Manager) {
			if s.IsUp() || s.Admin() != core.AdminMaint {
				t.Errorf("down: up=%v admin=%v, want DOWN in maint", s.IsUp(), s.Admin())
			}
		}},
		{"drained", 10, func(t *testing.T, s *core.Server, m *health.Manager) {
			if s.Admin() != core.AdminDrain || s.Weight() != 42 || s.MaxConn() != 5 {
				t.Errorf("drained: admin=%v weight=%d maxconn=%d, want drain 42 5", s.Admin(), s.Weight(), s.MaxConn())
			}
		}},
		{"ramp", 100, func(t *testing.T, s *core.Server, m *health.Manager) {
			i, _ := m.Info(s)
			if !s.IsUp() || !i.Slowstarting || s.Weight() >= 100 {
				t.Errorf("ramp: up=%v slowstarting=%v weight=%d, want a ramp in progress", s.IsUp(), i.Slowstarting, s.Weight())
			}
		}},
	}
	next := health.NewManager(health.Options{})
	servers := map[string]*core.Server{}
	for i, c := range cases {
		s := core.NewServer("be", c.name, i+1, addr, c.confWeight, 0)
		servers[c.name] = s
		slow := time.Duration(0)
		if c.name == "ramp" {
			slow = time.Hour
		}
		if err := next.Add(s, cfg(slow)); err != nil {
			t.Fatal(err)
		}
	}
	if n := next.Inherit(old); n != 3 {
		t.Fatalf("Inherit took %d servers over, want 3", n)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t, servers[c.name], next) })
	}
}

// TestInheritConfigWeightWins: an operator's weight is kept only while the
// configuration's weight for that server is unchanged.
func TestInheritConfigWeightWins(t *testing.T) {
	t.Parallel()
	addr := netip.MustParseAddrPort("127.0.0.1:1")
	old := health.NewManager(health.Options{})
	s := core.NewServer("be", "s", 1, addr, 10, 0)
	old.Add(s, health.Config{})
	old.SetWeight(s, 42)
	next := health.NewManager(health.Options{})
	s2 := core.NewServer("be", "s", 1, addr, 20, 0)
	next.Add(s2, health.Config{})
	next.Inherit(old)
	if w := s2.Weight(); w != 20 {
		t.Errorf("weight %d, want the new configured 20", w)
	}
}
