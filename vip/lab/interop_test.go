package lab

import (
	"regexp"
	"testing"
	"time"
)

// mismatch matches what either implementation logs when it rejects the
// other's adverts (keepalived's vrrp_check_packet wording, which varde reuses).
var mismatch = regexp.MustCompile(`(?i)mismatch|invalid|wrong version|unexpected ip number|not present in MASTER advert|auth, expecting|Expected (multicast|unicast)|too (short|long)`)

func noMismatch(t *testing.T, procs ...*Proc) {
	t.Helper()
	for _, p := range procs {
		if m := mismatch.FindString(p.Log()); m != "" {
			t.Errorf("%s on %s logged %q:\n%s", p.Kind, p.node.Name, m, tail(p.Log(), 30))
		}
	}
}

// TestInteropKeepalived runs varde and keepalived 2.2.7 on the same VRID and
// moves the VIP both ways: keepalived crash, keepalived preemption, graceful
// stops of each side.
func TestInteropKeepalived(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		c    inst
		iv   float64
	}{
		{"v2", inst{version: 2, interval: "1"}, 1},
		{"v2-pass", inst{version: 2, interval: "1", extra: "    authentication {\n        auth_type PASS\n        auth_pass secret123\n    }"}, 1},
		{"v3", inst{version: 3, interval: "0.2"}, 0.2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := New(t, 2)
			n1, n2 := l.Nodes[0], l.Nodes[1]
			iv := time.Duration(tc.iv * float64(time.Second))
			high, low, lowest := tc.c, tc.c, tc.c
			high.prio, low.prio, lowest.prio = 200, 150, 100

			// keepalived master, varde backup.
			ka := start(n1, "keepalived", high)
			va := start(n2, "varde", low)
			l.Settle(vip, 4*iv+5*time.Second, 3*iv, "n1")

			// keepalived crashes: varde takes over.
			ka.Kill()
			n1.DelAddr(vip)
			l.WaitHolders(vip, mdi(tc.iv), "n2")

			// keepalived comes back with the higher priority and preempts.
			ka2 := start(n1, "keepalived", high)
			l.Settle(vip, 4*iv+5*time.Second, 3*iv, "n1")

			// keepalived stops gracefully: varde takes over at once.
			// (keepalived stops advertising while it shuts down, so a
			// v3 0.1 s backup may time out just before the priority-0
			// advert: bound the handover loosely, the bench measures it.)
			t0 := time.Now()
			ka2.TermAsync()
			l.WaitHolders(vip, 2*time.Second+iv, "n2")
			if d := time.Since(t0); d > 2*time.Second {
				t.Errorf("handover after keepalived's stop took %v", d)
			}
			ka2.Term()

			// Other direction: keepalived backup (lower priority), varde
			// master; varde stops gracefully, then keepalived... and varde
			// crashes while keepalived is backup.
			ka3 := start(n1, "keepalived", lowest)
			l.Settle(vip, 2*time.Second, 4*iv, "n2")
			va.Term()
			l.WaitHolders(vip, 2*time.Second+iv, "n1")
			va2 := start(n2, "varde", low) // higher than keepalived's 100: preempts
			l.Settle(vip, 4*iv+5*time.Second, 3*iv, "n2")
			va2.Kill()
			n2.DelAddr(vip)
			l.WaitHolders(vip, mdi(tc.iv), "n1")

			noMismatch(t, ka, ka2, ka3, va, va2)
			if testing.Verbose() {
				t.Log(l.Logs())
			}
		})
	}
}
