package lab

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var vip = netip.MustParseAddr("198.18.0.100")

type inst struct {
	version  int
	prio     int
	interval string
	extra    string // more instance lines
	global   string // more global_defs lines
	top      string // more top-level blocks
}

func (c inst) conf(name string) string {
	iv := c.interval
	if iv == "" {
		iv = "1"
	}
	v := c.version
	if v == 0 {
		v = 2
	}
	return fmt.Sprintf(`global_defs {
    router_id %s
    script_user root
%s}
%s
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    version %d
    priority %d
    advert_int %s
%s
    virtual_ipaddress {
        198.18.0.100/24 dev eth0
    }
}
`, name, c.global, c.top, v, c.prio, iv, c.extra)
}

func start(n *Node, kind string, c inst) *Proc {
	p := n.Conf(kind+".conf", c.conf(n.Name))
	if kind == "keepalived" {
		return n.StartKeepalived(p)
	}
	return n.StartVarde(p)
}

// mdi is an upper bound for a silent failover at interval iv seconds.
func mdi(iv float64) time.Duration {
	return time.Duration((3*iv+1)*float64(time.Second)) + 3*time.Second
}

func TestTwoVarde(t *testing.T) {
	t.Parallel()
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	c1 := inst{version: 3, prio: 200, interval: "0.2"}
	c2 := inst{version: 3, prio: 150, interval: "0.2"}
	a := start(n1, "varde", c1)
	start(n2, "varde", c2)
	l.Settle(vip, 10*time.Second, 300*time.Millisecond, "n1")
	ping := l.Pinger()
	if !ping.Ping(vip, time.Second) {
		t.Errorf("VIP does not answer on n1")
	}

	// Crash: the backup takes over after Master_Down_Interval. The dead
	// node's address stays on its interface (nothing removed it), so
	// look at n2 only, and take n1's copy away as a reboot would.
	a.Kill()
	n1.handle.AddrDel(mustLink(t, n1), addrOf(vip))
	l.WaitHolders(vip, mdi(0.2), "n2")

	// Restart: the higher priority preempts.
	a = start(n1, "varde", c1)
	l.WaitHolders(vip, 10*time.Second, "n1")

	// Graceful stop: priority-0 advert, the backup takes over after skew.
	t0 := time.Now()
	a.TermAsync()
	l.WaitHolders(vip, 2*time.Second, "n2")
	a.Term()
	if d := time.Since(t0); d > time.Second {
		t.Errorf("graceful handover took %v", d)
	}
	if testing.Verbose() {
		t.Log(l.Logs())
	}
	if !strings.Contains(a.Log(), "(VI_1) Entering MASTER STATE") {
		t.Errorf("no keepalived-style transition log:\n%s", a.Log())
	}
}
