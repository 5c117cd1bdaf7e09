package health_test

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
)

// TestRemoveStopsChecks: after Remove (the admin socket's `del server`) the
// server is no longer probed and the manager no longer knows it.
func TestRemoveStopsChecks(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepts atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			c.Close()
		}
	}()
	s := core.NewServer("be", "gone", 1, netip.MustParseAddrPort(ln.Addr().String()), 1, 0)
	m := health.NewManager(health.Options{})
	if err := m.Add(s, health.Config{Enabled: true, Inter: 20 * time.Millisecond, Rise: 1, Fall: 1}); err != nil {
		t.Fatal(err)
	}
	m.Start(context.Background())
	defer m.Close()
	deadline := time.Now().Add(5 * time.Second)
	for accepts.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if accepts.Load() < 2 {
		t.Fatal("the check never ran")
	}
	m.Remove(s)
	time.Sleep(60 * time.Millisecond) // an in-flight probe and one tick
	before := accepts.Load()
	time.Sleep(150 * time.Millisecond) // several inters
	if n := accepts.Load() - before; n != 0 {
		t.Errorf("%d probes after Remove", n)
	}
	if _, ok := m.Info(s); ok {
		t.Error("the manager still reports a removed server")
	}
}

// TestAddPausedAfterStart: a server added after Start with its checks
// paused is not probed until SetChecks turns them on, and is probed no
// more once they are off again; SetChecks refuses a server without checks.
func TestAddPausedAfterStart(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepts atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			c.Close()
		}
	}()
	m := health.NewManager(health.Options{})
	plain := core.NewServer("be", "plain", 1, netip.MustParseAddrPort("127.0.0.1:9"), 1, 0)
	if err := m.Add(plain, health.Config{}); err != nil {
		t.Fatal(err)
	}
	m.Start(context.Background())
	defer m.Close()
	s := core.NewServer("be", "dyn", 2, netip.MustParseAddrPort(ln.Addr().String()), 1, 0)
	if err := m.AddPaused(s, health.Config{Enabled: true, Inter: 20 * time.Millisecond, Rise: 1, Fall: 1}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := accepts.Load(); n != 0 {
		t.Fatalf("%d probes while paused", n)
	}
	if i, _ := m.Info(s); i.Enabled {
		t.Error("paused checks reported enabled")
	}
	if !m.SetChecks(s, true) || m.SetChecks(plain, true) {
		t.Fatal("SetChecks: want true for the checked server, false for the other")
	}
	deadline := time.Now().Add(5 * time.Second)
	for accepts.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if accepts.Load() < 2 {
		t.Fatal("no probe after SetChecks(on)")
	}
	m.SetChecks(s, false)
	time.Sleep(60 * time.Millisecond)
	before := accepts.Load()
	time.Sleep(100 * time.Millisecond)
	if n := accepts.Load() - before; n != 0 {
		t.Errorf("%d probes after SetChecks(off)", n)
	}
}
