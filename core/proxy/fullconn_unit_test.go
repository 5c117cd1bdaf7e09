package proxy

import (
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
)

var netip0 = netip.AddrPort{}

// TestDynamicLimit: core.Server.Limit follows HAProxy's srv_dynamic_maxconn
// for the backend's load, and serverLimits settles minconn/maxconn as
// HAProxy's configuration check does.
func TestDynamicLimit(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		maxConn, minConn, fc int64
		beConn               int64
		want                 int64
	}{
		{"static: no minconn", 10, 0, 20, 5, 10},
		{"static: minconn = maxconn", 10, 10, 20, 5, 10},
		{"floor at minconn", 10, 2, 20, 1, 2},
		{"scales with load", 10, 2, 20, 10, 5},
		{"rounds down", 10, 2, 20, 13, 6},
		{"maxconn at fullconn", 10, 2, 20, 20, 10},
		{"maxconn above fullconn", 10, 2, 20, 50, 10},
		{"no maxconn: unlimited", 0, 2, 20, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var be atomic.Int64
			be.Store(tc.beConn)
			s := core.NewServer("b", "s", 1, netip0, 1, tc.maxConn)
			s.SetDynamicLimit(tc.minConn, tc.fc, &be)
			if got := s.Limit(); got != tc.want {
				t.Errorf("Limit() = %d, want %d", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		max, min         int
		wantMax, wantMin int64
	}{{10, 2, 10, 2}, {10, 0, 10, 10}, {0, 5, 5, 5}, {3, 5, 5, 5}, {0, 0, 0, 0}} {
		s := &config.Server{}
		s.MaxConn, s.MinConn = tc.max, tc.min
		if mx, mn := serverLimits(s); mx != tc.wantMax || mn != tc.wantMin {
			t.Errorf("maxconn %d minconn %d: got %d/%d, want %d/%d", tc.max, tc.min, mx, mn, tc.wantMax, tc.wantMin)
		}
	}
}

// TestFullConnDefault: without fullconn, 10% of the maxconn of the
// frontends reaching the backend (each counted once), at least 1.
func TestFullConnDefault(t *testing.T) {
	for _, tc := range []struct {
		name, cfg string
		want      int64
	}{
		{"explicit", "backend b\n fullconn 30\n", 30},
		{"default_backend", "global\n maxconn 1000\nfrontend f\n bind :80\n default_backend b\nbackend b\n", 100},
		{"frontend maxconn, rounded up", "frontend f\n bind :80\n maxconn 15\n default_backend b\nbackend b\n", 2},
		{"two frontends, use_backend counted once", "global\n maxconn 100\nfrontend f\n bind :80\n use_backend b if TRUE\n use_backend b if FALSE\nfrontend g\n bind :81\n maxconn 300\n default_backend b\nbackend b\n", 40},
		{"unreached: 1", "global\n maxconn 100\nbackend b\n", 1},
		{"listen itself", "global\n maxconn 50\nlisten b\n bind :80\n", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d diag.List
			c := config.Parse("t.cfg", []byte(tc.cfg), nil, &d)
			if c == nil || d.HasErrors() {
				t.Fatalf("parse: %v", d.Items())
			}
			if got := fullConnOf(c, c.Backend("b")); got != tc.want {
				t.Errorf("fullconn = %d, want %d", got, tc.want)
			}
		})
	}
}
