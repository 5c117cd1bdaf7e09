package lab

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var vip2 = netip.MustParseAddr("198.18.0.101")

// syncConf is a vrrp_sync_group of two instances (VRIDs 51 and 52, one VIP
// each) on eth0; VI_2 tracks a file with weight 0 when maint is set, and
// the group's notify script appends its arguments to notify.
func syncConf(name string, prio int, maint, notify string) string {
	track := ""
	top := ""
	if maint != "" {
		top = fmt.Sprintf("track_file maint {\n    file %s\n    weight 0\n}\n", maint)
		track = "    track_file {\n        maint\n    }\n"
	}
	group := "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n"
	if notify != "" {
		group += "    notify " + notify + "\n"
	}
	group += "}\n"
	inst := func(n, vrid int, addr string, extra string) string {
		return fmt.Sprintf("vrrp_instance VI_%d {\n    state BACKUP\n    interface eth0\n    virtual_router_id %d\n    priority %d\n    advert_int 1\n%s    virtual_ipaddress {\n        %s/24 dev eth0\n    }\n}\n", n, vrid, prio, extra, addr)
	}
	return fmt.Sprintf("global_defs {\n    router_id %s\n    script_user root\n}\n", name) + top + group +
		inst(1, 51, "198.18.0.100", "") + inst(2, 52, "198.18.0.101", track)
}

// TestSyncGroupWithKeepalived: varde (priority 200) and keepalived (150)
// each run the same two-instance vrrp_sync_group. varde holds both VIPs;
// when only VI_2's tracked file fails, VI_1 follows it into FAULT and
// keepalived takes both VIPs; when the file is cleared varde takes both
// back; the group notify script saw GROUP G BACKUP/MASTER/FAULT.
func TestSyncGroupWithKeepalived(t *testing.T) {
	t.Parallel()
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	maint := filepath.Join(l.Dir, "maint")
	out := filepath.Join(l.Dir, "group.out")
	script := filepath.Join(l.Dir, "notify.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" >> "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(maint, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n2.StartKeepalived(n2.Conf("keepalived.conf", syncConf("n2", 150, "", "")))
	l.Settle(vip, 10*time.Second, time.Second, "n2")
	va := n1.StartVarde(n1.Conf("varde.conf", syncConf("n1", 200, maint, script)))
	l.WaitHolders(vip, 6*time.Second, "n1")
	l.WaitHolders(vip2, 6*time.Second, "n1")
	l.Settle(vip, 2*time.Second, time.Second, "n1")

	os.WriteFile(maint, []byte("1\n"), 0o644) // VI_2 FAULT: VI_1 follows
	l.WaitHolders(vip2, 5*time.Second, "n2")
	l.WaitHolders(vip, 5*time.Second, "n2")

	os.WriteFile(maint, []byte("0\n"), 0o644)
	l.WaitHolders(vip, 8*time.Second, "n1")
	l.WaitHolders(vip2, 8*time.Second, "n1")

	var got string
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(out)
		got = string(b)
		if strings.Count(got, "GROUP G MASTER 0") >= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, w := range []string{"GROUP G BACKUP 0", "GROUP G MASTER 0", "GROUP G FAULT 0"} {
		if !strings.Contains(got, w) {
			t.Fatalf("group notify calls:\n%s\nwant %q among them", got, w)
		}
	}

	// Two reloads of the same file: both instances kept, no transition,
	// no group notify, both VIPs stay.
	entered := strings.Count(va.Log(), "Entering")
	calls := len(got)
	watch1, watch2 := l.Watch(vip, "n1"), l.Watch(vip2, "n1")
	for i := range 2 {
		va.Signal(syscall.SIGHUP)
		waitCount(t, va, reloadDone, i+1, 10*time.Second)
	}
	time.Sleep(2500 * time.Millisecond)
	if bad := append(watch1(), watch2()...); len(bad) > 0 {
		t.Errorf("a VIP left n1 during the reloads: %v", bad)
	}
	log := va.Log()
	if c := strings.Count(log, "kept across the reload"); c != 4 {
		t.Errorf("%d instance take-overs in 2 reloads, want 4:\n%s", c, tail(log, 30))
	}
	if e := strings.Count(log, "Entering") - entered; e != 0 {
		t.Errorf("%d transitions during the reloads:\n%s", e, tail(log, 30))
	}
	if b, _ := os.ReadFile(out); len(b) != calls {
		t.Errorf("group notify ran during the reloads:\n%s", b[calls:])
	}
}
