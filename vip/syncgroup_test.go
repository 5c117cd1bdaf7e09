package vip

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/vip/vrrp"
)

// TestSyncGroup runs two instances of a vrrp_sync_group on the in-memory
// seams and checks keepalived's coupling: a member that still hears a
// master keeps the other from going MASTER alone; both go MASTER together;
// one stepping down for a higher-priority master takes the other along;
// one member's fault puts both in FAULT and both leave it together; and
// the group's notify script gets GROUP NAME STATE 0 on each group change.
func TestSyncGroup(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "notify.out")
	script := filepath.Join(dir, "notify.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" >> "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	g := newSyncGroup(&keepalived.SyncGroup{Name: "G", Members: []string{"VI_1", "VI_2"}, Notify: []string{script}},
		slog.New(slog.DiscardHandler), 5*time.Second)
	r1, fn1, _ := newFakeRunner(t)
	r2, fn2, _ := newFakeRunner(t)
	for _, r := range []*runner{r1, r2} {
		r.syncWake = make(chan struct{}, 1)
		g.add(r, Init)
		r.setGroup(g)
	}
	// A higher-priority master keeps advertising on r2's VRID only.
	peer := netip.MustParseAddr("198.18.0.11")
	stopPeer := make(chan struct{})
	peerDone := make(chan struct{})
	go func() {
		defer close(peerDone)
		tk := time.NewTicker(40 * time.Millisecond)
		defer tk.Stop()
		for {
			a := vrrp.Advert{Version: 3, VRID: 51, Priority: 200, Interval: 5, Addrs: r2.local.Addrs}
			b, _ := a.Marshal(peer, vrrp.Group4, false)
			select {
			case fn2.in <- vrrp.Received{Payload: b, Src: peer, Dst: vrrp.Group4, TTL: 255}:
			case <-stopPeer:
				return
			}
			select {
			case <-tk.C:
			case <-stopPeer:
				return
			}
		}
	}()
	r1.start()
	r2.start()
	t.Cleanup(func() { r1.stop(stopRelease); r2.stop(stopRelease); <-r1.done; <-r2.done })
	state := func(r *runner) string { return r.snapshot().State }
	// Notify scripts run asynchronously: each phase waits for its group
	// notify line before causing the next transition, or their order in
	// the file is a race (it was, under load).
	notified := func(n int) {
		waitFor(t, fmt.Sprintf("%d group notify lines", n), func() bool {
			b, _ := os.ReadFile(out)
			return strings.Count(string(b), "\n") >= n
		})
	}

	time.Sleep(700 * time.Millisecond) // r1's down interval is ~0.17 s
	if state(r1) != "BACKUP" || state(r2) != "BACKUP" {
		t.Fatalf("while r2 hears a master: r1 %s, r2 %s; want both BACKUP", state(r1), state(r2))
	}
	close(stopPeer)
	<-peerDone
	waitFor(t, "both MASTER", func() bool { return state(r1) == "MASTER" && state(r2) == "MASTER" })
	notified(2)

	// A higher-priority advert on r1's VRID: r1 steps down, r2 follows.
	a := vrrp.Advert{Version: 3, VRID: 51, Priority: 200, Interval: 5, Addrs: r1.local.Addrs}
	b, _ := a.Marshal(peer, vrrp.Group4, false)
	fn1.in <- vrrp.Received{Payload: b, Src: peer, Dst: vrrp.Group4, TTL: 255}
	waitFor(t, "both BACKUP", func() bool { return state(r1) == "BACKUP" && state(r2) == "BACKUP" })
	notified(3)
	_, vips2, _ := fn2.state()
	if vips2 != 0 {
		t.Fatalf("r2 kept %d VIPs after the group stepped down", vips2)
	}
	waitFor(t, "both MASTER again", func() bool { return state(r1) == "MASTER" && state(r2) == "MASTER" })
	notified(4)

	// r1's link goes down: both FAULT; back up: both leave FAULT.
	r1.links.mu.Lock()
	r1.links.state["eth0"] = false
	r1.links.mu.Unlock()
	waitFor(t, "both FAULT", func() bool { return state(r1) == "FAULT" && state(r2) == "FAULT" })
	r1.links.mu.Lock()
	r1.links.state["eth0"] = true
	r1.links.mu.Unlock()
	waitFor(t, "both MASTER after the fault", func() bool { return state(r1) == "MASTER" && state(r2) == "MASTER" })

	want := []string{"GROUP G BACKUP 0", "GROUP G MASTER 0", "GROUP G BACKUP 0", "GROUP G MASTER 0", "GROUP G FAULT 0"}
	waitFor(t, "group notify lines", func() bool {
		b, _ := os.ReadFile(out)
		return strings.Count(string(b), "\n") >= len(want)+1
	})
	got, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	for i, w := range want {
		if i >= len(lines) || lines[i] != w {
			t.Fatalf("group notify calls %q, want them to start with %q", lines, want)
		}
	}
}

// TestSyncGroupConfig: members are resolved, and what keepalived would
// silently change in a sync group is refused.
func TestSyncGroupConfig(t *testing.T) {
	const inst = "vrrp_instance %s {\n    interface eth0\n    virtual_router_id %d\n    virtual_ipaddress {\n        198.18.0.10\n    }\n%s}\n"
	mk := func(name string, vrid int, body string) string {
		return strings.NewReplacer("%s {", name+" {", "%d", strconv.Itoa(vrid), "%s}", body+"}").Replace(inst)
	}
	tests := []struct {
		name, conf, want string // want: "" = valid
	}{
		{"valid", "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n    notify_master /bin/true\n}\n" + mk("VI_1", 1, "") + mk("VI_2", 2, ""), ""},
		{"members on one line", "vrrp_sync_group G {\n    group { VI_1 VI_2 }\n}\n" + mk("VI_1", 1, "") + mk("VI_2", 2, ""), ""},
		{"unknown member", "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_9\n    }\n}\n" + mk("VI_1", 1, ""), "k.conf:1: error: vrrp_sync_group"},
		{"weighted track_interface", "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n}\n" + mk("VI_1", 1, "    track_interface {\n        eth1 weight -20\n    }\n") + mk("VI_2", 2, ""), "k.conf:14: error: track_interface"},
		{"owner", "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n}\n" + mk("VI_1", 1, "    priority 255\n") + mk("VI_2", 2, ""), "k.conf:13: error: priority"},
		{"in two groups", "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n}\nvrrp_sync_group H {\n    group {\n        VI_1\n        VI_2\n    }\n}\n" + mk("VI_1", 1, "") + mk("VI_2", 2, ""), "k.conf:7: error: vrrp_sync_group"},
		{"unknown keyword", "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n    notify_stop /bin/true\n}\n" + mk("VI_1", 1, "") + mk("VI_2", 2, ""), "k.conf:6: error: notify_stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d diag.List
			c := keepalived.Parse("k.conf", []byte(tt.conf), &d)
			c.Validate(&d)
			if tt.want == "" {
				if d.HasErrors() {
					t.Fatal(d.Err())
				}
				if c.Instances[0].SyncGroup != "G" || c.Instances[1].SyncGroup != "G" {
					t.Fatalf("members not resolved: %q %q", c.Instances[0].SyncGroup, c.Instances[1].SyncGroup)
				}
				return
			}
			for _, it := range d.Items() {
				if strings.HasPrefix(it.String(), tt.want) {
					return
				}
			}
			t.Fatalf("want %q, got %v", tt.want, d.Items())
		})
	}
}
