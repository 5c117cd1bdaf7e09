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
