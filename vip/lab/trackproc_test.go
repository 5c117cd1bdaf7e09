package lab

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestTrackProcessWithKeepalived: n1 (priority 200) tracks a `sleep`
// process the test owns (vrrp_track_process with its unique argument, no
// weight), a keepalived peer runs at 150. Killing the process puts n1 in
// FAULT and the peer takes the VIP; starting it again brings the VIP back.
// The measured move after the kill is logged (varde polls /proc every
// 100 ms).
//
// keepalived cannot be the tracker here: its proc connector does not
// work outside the initial network namespace ("Failed to set/clear
// process event listen - errno 111"), so it sees no process and stays in
// FAULT. Its subtest checks exactly that, which is also the evidence that
// keepalived's default weight is 0 (FAULT on a lost quorum, "tracked
// process sleeper quorum not achieved"), not the manual's 1.
func TestTrackProcessWithKeepalived(t *testing.T) {
	for _, tool := range []string{"keepalived", "varde"} {
		t.Run(tool, func(t *testing.T) {
			l := New(t, 2)
			n1, n2 := l.Nodes[0], l.Nodes[1]
			arg := fmt.Sprintf("%d.%d%d", 800000+os.Getpid()%10000, len(tool), time.Now().UnixNano()%1000)
			run := func() *exec.Cmd {
				c := exec.Command("sleep", arg)
				if err := c.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Process.Kill(); c.Wait() })
				return c
			}
			c := run()
			top := fmt.Sprintf("vrrp_track_process sleeper {\n    process sleep %s\n}\n", arg)
			p := start(n1, tool, inst{prio: 200, top: top, extra: "    track_process {\n        sleeper\n    }\n"})
			start(n2, "keepalived", inst{prio: 150})
			if tool == "keepalived" {
				p.WaitLog("Failed to set/clear process event listen", 10*time.Second)
				p.WaitLog("entering FAULT state (tracked process sleeper quorum not achieved)", 10*time.Second)
				l.Settle(vip, 10*time.Second, time.Second, "n2")
				t.Skip("keepalived's track_process needs the initial network namespace; checked: it stays in FAULT here, weight 0 by default")
			}
			l.Settle(vip, 10*time.Second, time.Second, "n1")

			t0 := time.Now()
			c.Process.Kill()
			c.Wait()
			l.WaitHolders(vip, 5*time.Second, "n2")
			t.Logf("%s: VIP on the peer %v after the kill", tool, time.Since(t0).Round(time.Millisecond))

			run()
			l.WaitHolders(vip, 6*time.Second, "n1")
		})
	}
}

// TestTrackProcessWeightReverse: n1 (priority 200) tracks a process the
// test owns with `weight 100 reverse`, a keepalived peer runs at 150.
// keepalived 2.2.7 applies a positive weight while the quorum is held and
// reverse negates it: while the process runs n1 is at 100 and the peer
// holds the VIP; once it is killed n1 is back at 200, preempts and
// advertises 200; started again, n1 drops to 100 (its adverts say so) and
// the peer takes the VIP back.
func TestTrackProcessWeightReverse(t *testing.T) {
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	rec := l.Record()
	t.Cleanup(func() { rec.Stop() })
	arg := fmt.Sprintf("%d.7%d", 800000+os.Getpid()%10000, time.Now().UnixNano()%1000)
	run := func() *exec.Cmd {
		c := exec.Command("sleep", arg)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		return c
	}
	c := run()
	top := fmt.Sprintf("vrrp_track_process sleeper {\n    process sleep %s\n    weight 100 reverse\n}\n", arg)
	start(n1, "varde", inst{prio: 200, top: top, extra: "    track_process {\n        sleeper\n    }\n"})
	start(n2, "keepalived", inst{prio: 150})
	l.Settle(vip, 10*time.Second, time.Second, "n2")

	c.Process.Kill()
	c.Wait()
	l.WaitHolders(vip, 6*time.Second, "n1")
	time.Sleep(1500 * time.Millisecond) // an advert at the new priority
	if p := lastPriority(t, rec, n1); p != 200 {
		t.Fatalf("n1 advertises %d with the process gone, want 200", p)
	}

	t1 := time.Now()
	run()
	l.WaitHolders(vip, 6*time.Second, "n2")
	seen := false
	for _, a := range rec.Adverts(n1.Addr, 51, t1, time.Now()) {
		seen = seen || a.Priority == 100
		if a.Priority == 200 && a.At.After(t1.Add(time.Second)) {
			t.Errorf("n1 still advertised 200 %v after the process started", a.At.Sub(t1))
		}
	}
	if !seen {
		t.Errorf("n1 never advertised 100 (200 - 100, reverse) with the process running")
	}
}

// lastPriority is the priority of n's last advert seen.
func lastPriority(t *testing.T, rec *Recorder, n *Node) int {
	t.Helper()
	ads := rec.Adverts(n.Addr, 51, time.Now().Add(-time.Minute), time.Now())
	if len(ads) == 0 {
		t.Fatalf("no advert from %s", n.Name)
	}
	return ads[len(ads)-1].Priority
}
