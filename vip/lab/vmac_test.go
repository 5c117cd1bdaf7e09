package lab

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/core/testenv"
)

// vmacState is what use_vmac leaves in a node: the VMAC's link (kind,
// mode, MAC, addrgenmode, flags), where the VIP is, and the sysctls of
// both interfaces.
func vmacState(t *testing.T, n *Node) string {
	t.Helper()
	ip := func(ns string, args ...string) string {
		out, _ := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
		return string(out)
	}
	var b strings.Builder
	link := ip(n.NS, "-d", "-o", "link", "show", "vrrp.51")
	for _, re := range []string{`link/ether \S+`, `macvlan mode \S+`, `addrgenmode \S+`, `<[^>]*>`} {
		b.WriteString(regexp.MustCompile(re).FindString(link) + "\n")
	}
	for _, l := range strings.Split(ip(n.NS, "-o", "-4", "addr", "show"), "\n") {
		if f := strings.Fields(l); len(f) > 3 && strings.HasPrefix(f[3], "198.18.0.100/") {
			b.WriteString("VIP " + f[3] + " on " + f[1] + "\n")
		}
	}
	for _, ifc := range []string{"eth0", "vrrp.51"} {
		for _, k := range []string{"arp_ignore", "arp_filter", "accept_local", "promote_secondaries", "rp_filter"} {
			v, err := exec.Command("ip", "netns", "exec", n.NS, "cat", "/proc/sys/net/ipv4/conf/"+ifc+"/"+k).Output()
			if err == nil {
				b.WriteString(ifc + " " + k + "=" + strings.TrimSpace(string(v)) + "\n")
			}
		}
	}
	return b.String()
}

// TestVMACWithKeepalived is the differential test of use_vmac: the same
// instance with use_vmac (its VIP written `dev eth0`, which keepalived
// moves to the VMAC) runs under keepalived 2.2.7 and under varde as n1
// (priority 200) against a keepalived peer (150, no VMAC). As MASTER the
// VIP answers pings, and the VMAC vrrp.51 (macvlan, mode private,
// 00:00:5e:00:01:33, no IPv6 address generation, up), the VIP on it,
// the sysctls of eth0 and vrrp.51 and the source MAC of the adverts the
// client sees (the VMAC) are the same for both; after a
// graceful stop the VMAC is gone and eth0's sysctls are as keepalived
// leaves them.
func TestVMACWithKeepalived(t *testing.T) {
	testenv.LookTool(t, "keepalived", "keepalived")
	for _, tc := range []struct{ name, extra, advertMAC, vmacMAC string }{
		{"use_vmac", "    use_vmac\n", "00:00:5e:00:01:33", "00:00:5e:00:01:33"},
		{"vmac_xmit_base", "    use_vmac\n    vmac_xmit_base\n", "eth0", "00:00:5e:00:01:33"},
		// use_vmac's MAC argument: six octets (after the name here), or
		// five that keepalived completes with the VRID (51 = 0x33).
		{"MAC", "    use_vmac 02:aa:bb:cc:dd:ee vrrp.51\n", "02:aa:bb:cc:dd:ee", "02:aa:bb:cc:dd:ee"},
		{"MAC with the VRID", "    use_vmac 02:11:22:33:44\n", "02:11:22:33:44:33", "02:11:22:33:44:33"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string][2]string{}
			for _, tool := range []string{"keepalived", "varde"} {
				t.Run(tool, func(t *testing.T) {
					got[tool] = vmacRun(t, tool, tc.extra, tc.advertMAC, tc.vmacMAC)
				})
			}
			if t.Failed() {
				return
			}
			for i, phase := range []string{"master", "stopped"} {
				if got["keepalived"][i] != got["varde"][i] {
					t.Errorf("%s: keepalived\n%s\nvarde\n%s", phase, got["keepalived"][i], got["varde"][i])
				}
			}
		})
	}
}

// vmacRun runs tool with the VMAC settings as n1 and returns the node's
// state as MASTER and after a graceful stop; n1's own MAC reads "eth0".
func vmacRun(t *testing.T, tool, extra, advertMAC, vmacMAC string) [2]string {
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	p := start(n1, tool, inst{prio: 200, extra: extra})
	start(n2, "keepalived", inst{prio: 150})
	l.Settle(vip, 10*time.Second, time.Second, "n1")
	if !l.Pinger().Ping(vip, 2*time.Second) {
		t.Fatalf("VIP does not answer\n%s", l.Logs())
	}
	mac := advertSrcMAC(t, l, n1.Addr, 3*time.Second)
	if own := n1.MAC(); mac == own {
		mac = "eth0"
	}
	master := vmacState(t, n1) + "advert source MAC " + mac + "\n"
	if !strings.Contains(master, "link/ether "+vmacMAC) || !strings.Contains(master, "VIP 198.18.0.100/24 on vrrp.51") ||
		!strings.Contains(master, "advert source MAC "+advertMAC) {
		t.Fatalf("%s: no VMAC, the VIP not on it, or adverts not from %s:\n%s\n%s", tool, advertMAC, master, l.Logs())
	}
	p.Term()
	var stopped string
	err := testenv.Until(5*time.Second, 20*time.Millisecond, func() error {
		if stopped = vmacState(t, n1); strings.Contains(stopped, "vrrp.51") {
			return os.ErrExist
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: VMAC left after the stop:\n%s", tool, stopped)
	}
	return [2]string{master, stopped}
}

// advertSrcMAC captures frames in the client namespace until an advert
// from src arrives (bounded by wait) and returns its source MAC.
func advertSrcMAC(t *testing.T, l *Lab, src netip.Addr, wait time.Duration) string {
	t.Helper()
	var fd int
	err := inNS(l.Client.NS, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IP)))
		if err != nil {
			return err
		}
		tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		t.Fatalf("capture socket: %v", err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 2048)
	for end := time.Now().Add(wait); time.Now().Before(end); {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil || n < 14+20 {
			continue
		}
		ip := buf[14:n]
		if ip[9] == 112 && netip.AddrFrom4([4]byte(ip[12:16])) == src {
			return net.HardwareAddr(buf[6:12]).String()
		}
	}
	t.Fatalf("no advert from %s within %v", src, wait)
	return ""
}

// MAC is the node's eth0 hardware address.
func (n *Node) MAC() string {
	return mustLink(n.lab.t, n).Attrs().HardwareAddr.String()
}

// vmacIndex is vrrp.51's interface index in the node ("" if absent).
func vmacIndex(n *Node) string {
	out, _ := exec.Command("ip", "-n", n.NS, "-o", "link", "show", "vrrp.51").Output()
	idx, _, _ := strings.Cut(string(out), ":")
	return idx
}

// TestVMACCrashReload: varde with use_vmac is killed (SIGKILL) as master:
// its VMAC and VIP stay, the keepalived peer takes over. Restarted at a
// lower priority, varde takes the VMAC over (same interface) and removes
// the leftover VIP before the election: only the peer holds the VIP.
// Two SIGHUP reloads, the second changing the priority (the instance is
// restarted), keep the same VMAC (no re-creation); SIGTERM removes it.
func TestVMACCrashReload(t *testing.T) {
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	va := start(n1, "varde", inst{prio: 200, extra: "    use_vmac\n"})
	start(n2, "keepalived", inst{prio: 150})
	l.Settle(vip, 10*time.Second, time.Second, "n1")
	idx := vmacIndex(n1)
	va.Kill()
	l.WaitHolders(vip, mdi(1), "n1", "n2") // n1's copy is a leftover on its VMAC
	if vmacIndex(n1) != idx {
		t.Fatalf("VMAC gone after a crash (keepalived leaves it too)")
	}
	vb := start(n1, "varde", inst{prio: 100, extra: "    use_vmac\n"})
	l.Settle(vip, 5*time.Second, 2*time.Second, "n2")
	if got := vmacIndex(n1); got != idx {
		t.Fatalf("VMAC index %q after the restart, want %q (taken over)", got, idx)
	}
	for i := 1; i <= 2; i++ {
		if i == 2 { // a changed priority: the instance restarts, its VMAC stays
			n1.Conf("varde.conf", inst{prio: 90, extra: "    use_vmac\n"}.conf(n1.Name))
		}
		vb.Signal(syscall.SIGHUP)
		waitCount(t, vb, reloadDone, i, 10*time.Second)
	}
	if !strings.Contains(vb.Log(), "its settings changed") {
		t.Fatalf("the second reload did not restart the instance:\n%s", tail(vb.Log(), 20))
	}
	if got := vmacIndex(n1); got != idx {
		t.Fatalf("VMAC index %q after the reloads, want %q", got, idx)
	}
	vb.Term()
	if got := vmacIndex(n1); got != "" {
		t.Fatalf("VMAC %s left after SIGTERM", got)
	}
}
