package vip

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/varde-lb/varde/core/config/keepalived"
)

// TestRouteDeletedFilterAndOverflow: deletions of destinations the
// instance does not track never reach its queue, and a queue overflow of
// tracked deletions leaves a recheck pending instead of losing the event.
func TestRouteDeletedFilterAndOverflow(t *testing.T) {
	tracked := netip.MustParsePrefix("198.19.3.0/24")
	r := &runner{
		cfg: &keepalived.Instance{Routes: []keepalived.Route{
			{Dst: tracked, Dev: "eth0"},
			{Dst: netip.MustParsePrefix("198.19.4.0/24")}, // no dev: not tracked
		}},
		routeGone:    make(chan deletedRoute, 16),
		routeRecheck: make(chan struct{}, 1),
	}
	r.setRouteDsts()
	for i := 0; i < 100; i++ {
		r.routeDeleted(deletedRoute{dst: netip.MustParsePrefix(fmt.Sprintf("10.77.%d.0/24", i)), table: 254})
	}
	r.routeDeleted(deletedRoute{dst: netip.MustParsePrefix("198.19.4.0/24"), table: 254})
	if n := len(r.routeGone); n != 0 {
		t.Fatalf("%d unrelated deletions queued", n)
	}
	for i := 0; i < cap(r.routeGone); i++ {
		r.routeDeleted(deletedRoute{dst: tracked, table: 254})
	}
	if len(r.routeRecheck) != 0 {
		t.Fatal("recheck pending before the queue overflowed")
	}
	r.routeDeleted(deletedRoute{dst: tracked, table: 254})
	r.routeDeleted(deletedRoute{dst: tracked, table: 254})
	if len(r.routeRecheck) != 1 {
		t.Fatal("an overflowing tracked deletion left no recheck pending")
	}
}
