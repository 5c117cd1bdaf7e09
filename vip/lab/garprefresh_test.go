package lab

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// arpCounter counts, in the client namespace, the gratuitous ARPs (sender
// IP = target IP) announcing one address, with their arrival times.
type arpCounter struct {
	fd   int
	mu   sync.Mutex
	at   []time.Time
	stop chan struct{}
	done chan struct{}
}

func (l *Lab) countGARPs(addr netip.Addr) *arpCounter {
	c := &arpCounter{fd: -1, stop: make(chan struct{}), done: make(chan struct{})}
	err := inNS(l.Client.NS, func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
		if err != nil {
			return err
		}
		c.fd = fd
		tv := unix.NsecToTimeval(int64(50 * time.Millisecond))
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		if c.fd >= 0 {
			unix.Close(c.fd)
		}
		l.t.Fatalf("ARP counter: %v", err)
	}
	want := addr.As4()
	go func() {
		defer close(c.done)
		defer unix.Close(c.fd)
		buf := make([]byte, 1500)
		for {
			select {
			case <-c.stop:
				return
			default:
			}
			n, _, err := unix.Recvfrom(c.fd, buf, 0)
			// Ethernet header (14) + ARP: sender IP at 14+14, target IP at 14+24.
			if err != nil || n < 42 {
				continue
			}
			if [4]byte(buf[28:32]) == want && [4]byte(buf[38:42]) == want {
				c.mu.Lock()
				c.at = append(c.at, time.Now())
				c.mu.Unlock()
			}
		}
	}()
	l.t.Cleanup(c.Stop)
	return c
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (c *arpCounter) Stop() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
		<-c.done
	}
}

func (c *arpCounter) times() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.at...)
}

// TestGARPRefreshWithKeepalived runs the same garp_master_* settings in
// keepalived and in varde, each alone on a segment, and counts the
// gratuitous ARPs the client sees over the same window after the node
// became master: the first burst (garp_master_repeat), then
// garp_master_refresh_repeat every garp_master_refresh seconds.
func TestGARPRefreshWithKeepalived(t *testing.T) {
	t.Parallel()
	const window = 3500 * time.Millisecond
	c := inst{version: 2, prio: 150, interval: "1", extra: "    garp_master_delay 0\n    garp_master_repeat 2\n    garp_master_refresh 1\n    garp_master_refresh_repeat 3"}
	counts := map[string]int{}
	for _, kind := range []string{"keepalived", "varde"} {
		l := New(t, 1)
		n1 := l.Nodes[0]
		arps := l.countGARPs(vip)
		p := start(n1, kind, c)
		l.WaitHolders(vip, 10*time.Second, "n1")
		became := time.Now()
		time.Sleep(window)
		got := arps.times()
		n := 0
		for _, at := range got {
			if at.After(became.Add(-time.Second)) && at.Before(became.Add(window)) {
				n++
			}
		}
		counts[kind] = n
		t.Logf("%s: %d gratuitous ARPs within %v of becoming master", kind, n, window)
		p.Term()
	}
	// 2 at once, then 3 with each advert at least 1 s after the last burst:
	// 2 + 3x3 within 3.5 s at advert_int 1.
	if counts["varde"] != counts["keepalived"] || counts["varde"] < 2+3*2 {
		t.Fatalf("gratuitous ARPs: varde %d, keepalived %d (want equal, and at least %d)", counts["varde"], counts["keepalived"], 2+3*2)
	}
}
