package vip

import (
	"fmt"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
)

// TestGARPRefresh: a master sends garp_master_repeat GARPs on taking over
// and then garp_master_refresh_repeat more every garp_master_refresh (with
// the first advert after the interval); without a refresh it sends no more.
// (The runner's configuration is set below keepalived's whole seconds to
// keep the test short; the parser test checks the keywords.)
func TestGARPRefresh(t *testing.T) {
	tests := []struct {
		name         string
		refresh      time.Duration
		repeat       int
		minRefreshes int
		maxRefreshes int
	}{
		{"no refresh", 0, 1, 0, 0},
		{"every 200ms, 3 at a time", 200 * time.Millisecond, 3, 3, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, fn, in := newFakeRunner(t) // garp_master_repeat 2, delay 0, advert_int 0.05
			in.GarpMasterRefresh, in.GarpMasterRefreshRepeat = tt.refresh, tt.repeat
			r.start()
			t.Cleanup(func() { r.stop(stopRelease); <-r.done })
			waitFor(t, "master", func() bool { return r.snapshot().State == "MASTER" })
			time.Sleep(1100 * time.Millisecond)
			_, _, garps := fn.state()
			extra := garps - in.GarpMasterRepeat
			if extra%tt.repeat != 0 || extra/tt.repeat < tt.minRefreshes || extra/tt.repeat > tt.maxRefreshes {
				t.Fatalf("%d GARPs in 1.1 s as master: %d refreshes of %d beyond the first burst of %d, want %d..%d refreshes",
					garps, extra/tt.repeat, tt.repeat, in.GarpMasterRepeat, tt.minRefreshes, tt.maxRefreshes)
			}
		})
	}
}

// TestGARPRefreshKeywords: the instance keywords win over global_defs,
// which win over keepalived's defaults (no refresh, 1 GARP per refresh).
func TestGARPRefreshKeywords(t *testing.T) {
	const inst = "vrrp_instance VI_%s {\n    interface lo\n    virtual_router_id %s\n    virtual_ipaddress {\n        198.18.0.10\n    }\n%s}\n"
	mk := func(name, vrid, body string) string { return fmt.Sprintf(inst, name, vrid, body) }
	conf := "global_defs {\n    vrrp_garp_master_refresh 60\n    vrrp_garp_master_refresh_repeat 2\n}\n" +
		mk("A", "1", "    garp_master_refresh 10\n    garp_master_refresh_repeat 4\n") +
		mk("B", "2", "")
	var d diag.List
	c := keepalived.Parse("k.conf", []byte(conf), &d)
	c.Validate(&d)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	a, b := c.Instances[0], c.Instances[1]
	if a.GarpMasterRefresh != 10*time.Second || a.GarpMasterRefreshRepeat != 4 || b.GarpMasterRefresh != 60*time.Second || b.GarpMasterRefreshRepeat != 2 {
		t.Fatalf("A %v/%d, B %v/%d", a.GarpMasterRefresh, a.GarpMasterRefreshRepeat, b.GarpMasterRefresh, b.GarpMasterRefreshRepeat)
	}
	d.Reset()
	c = keepalived.Parse("k.conf", []byte(mk("C", "3", "")), &d)
	c.Validate(&d)
	if in := c.Instances[0]; in.GarpMasterRefresh != 0 || in.GarpMasterRefreshRepeat != 1 {
		t.Fatalf("defaults %v/%d, want 0/1", in.GarpMasterRefresh, in.GarpMasterRefreshRepeat)
	}
	d.Reset()
	keepalived.Parse("k.conf", []byte(mk("D", "4", "    garp_master_refresh_repeat 0\n")), &d)
	if !d.HasErrors() {
		t.Fatal("garp_master_refresh_repeat 0 accepted; keepalived's minimum is 1")
	}
}
