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
