package lab

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

var vip6 = netip.MustParseAddr("fd00:198:18::100")

func conf6(name string, prio int) string {
	return fmt.Sprintf(`vrrp_instance VI_6 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority %d
    advert_int 0.2
    virtual_ipaddress {
        fd00:198:18::100/64 dev eth0
    }
}
`, prio)
}

// TestIPv6WithKeepalived: VRRPv3 over IPv6 (link-local sources, ff02::12,
// kernel checksums, unsolicited NAs) between varde and keepalived.
func TestIPv6WithKeepalived(t *testing.T) {
	t.Parallel()
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	// Link-local addresses must exist (DAD done) before adverts can be sent.
	for _, n := range l.Nodes {
		run(t, "ip", "netns", "exec", n.NS, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0")
		run(t, "ip", "-n", n.NS, "link", "set", "eth0", "down")
		run(t, "ip", "-n", n.NS, "link", "set", "eth0", "up")
	}
	for _, n := range l.Nodes {
		n.WaitLinkLocal()
	}
	ka := n1.StartKeepalived(n1.Conf("ka6.conf", conf6("n1", 200)))
	va := n2.StartVarde(n2.Conf("v6.conf", conf6("n2", 150)))
	l.Settle(vip6, 8*time.Second, 600*time.Millisecond, "n1")
	ka.TermAsync()
	l.WaitHolders(vip6, 3*time.Second, "n2")
	ka.Term()
	ka2 := n1.StartKeepalived(n1.Conf("ka6b.conf", conf6("n1", 200)))
	l.Settle(vip6, 8*time.Second, 600*time.Millisecond, "n1")
	// A leftover IPv6 VIP of another prefix length (a crash of an older
	// configuration) is removed before the restarted varde elects.
	va.Kill()
	run(t, "ip", "-n", n2.NS, "addr", "add", vip6.String()+"/128", "dev", "eth0", "nodad")
	va2 := n2.StartVarde(n2.Conf("v6.conf", conf6("n2", 150)))
	va2.WaitLog("removed VIP fd00:198:18::100 left by a previous run", 5*time.Second)
	l.Settle(vip6, 3*time.Second, 600*time.Millisecond, "n1")
	noMismatch(t, ka, ka2, va, va2)
	if testing.Verbose() {
		t.Log(l.Logs())
	}
}
