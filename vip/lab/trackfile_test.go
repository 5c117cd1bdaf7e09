package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTrackFileWithKeepalived: the node tracking a file (weight -60) and a
// keepalived or varde peer at priority 150 share VRID 51; the same file
// contents move the VIP the same way whichever of keepalived and varde
// reads the file: 0 keeps priority 200 (master), 1 gives 140 (the peer
// preempts), 0 again preempts back, and with weight 0 a non-zero value is
// FAULT. Run both ways round: varde tracking with a keepalived peer, and
// keepalived tracking with a varde peer.
func TestTrackFileWithKeepalived(t *testing.T) {
	for _, tracker := range []string{"varde", "keepalived"} {
		peer := map[string]string{"varde": "keepalived", "keepalived": "varde"}[tracker]
		t.Run(tracker+" tracks the file", func(t *testing.T) {
			l := New(t, 2)
			n1, n2 := l.Nodes[0], l.Nodes[1]
			load := filepath.Join(l.Dir, "load")
			maint := filepath.Join(l.Dir, "maint")
			write := func(p, s string) {
				t.Helper()
				if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write(load, "0\n")
			write(maint, "0\n")
			top := fmt.Sprintf("track_file load {\n    file %s\n    weight -60\n}\ntrack_file maint {\n    file %s\n    weight 0\n}\n", load, maint)
			start(n1, tracker, inst{version: 2, prio: 200, interval: "1", top: top, extra: "    track_file {\n        load\n        maint\n    }"})
			start(n2, peer, inst{version: 2, prio: 150, interval: "1"})
			l.Settle(vip, 10*time.Second, 1500*time.Millisecond, "n1")
			write(load, "1\n") // 200 - 60 = 140 < 150: the peer preempts
			l.WaitHolders(vip, 5*time.Second, "n2")
			write(load, "0\n") // back to 200: n1 preempts
			l.WaitHolders(vip, 5*time.Second, "n1")
			write(maint, "1\n") // weight 0: FAULT, the peer takes over
			l.WaitHolders(vip, 5*time.Second, "n2")
			write(maint, "0\n")
			l.WaitHolders(vip, 6*time.Second, "n1")
		})
	}
}
