package lab

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/core/testenv"
)

func conf6VMAC(name string, prio int, extra string) string {
	return fmt.Sprintf(`global_defs {
    router_id %s
}
vrrp_instance VI_6 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority %d
    advert_int 0.2
%s    virtual_ipaddress {
        fd00:198:18::100/64
    }
}
`, name, prio, extra)
}

// vmac6State is what use_vmac on an IPv6 instance leaves in a node: the
// VMAC vrrp.61's link (MAC, mode, addrgenmode, flags), its IPv6 addresses
// (the link-local one written as "eth0's" when it is eth0's), where the
// VIP is, and IPv6 enabled on the VMAC.
func vmac6State(t *testing.T, n *Node) string {
	t.Helper()
	ip := func(args ...string) string {
		out, _ := exec.Command("ip", append([]string{"-n", n.NS}, args...)...).CombinedOutput()
		return string(out)
	}
	var b strings.Builder
	link := ip("-d", "-o", "link", "show", "vrrp.61")
	for _, re := range []string{`link/ether \S+`, `macvlan mode \S+`, `addrgenmode \S+`, `<[^>]*>`} {
		b.WriteString(regexp.MustCompile(re).FindString(link) + "\n")
	}
	ll := regexp.MustCompile(`fe80::\S+`).FindString(ip("-o", "-6", "addr", "show", "dev", "eth0", "scope", "link"))
	for _, l := range strings.Split(ip("-o", "-6", "addr", "show"), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		switch {
		case f[1] == "vrrp.61" && f[3] == ll:
			b.WriteString("eth0's link-local on vrrp.61\n")
		case f[1] == "vrrp.61" || strings.HasPrefix(f[3], "fd00:198:18::100/"):
			b.WriteString(f[3] + " on " + f[1] + "\n")
		}
	}
	v, _ := exec.Command("ip", "netns", "exec", n.NS, "cat", "/proc/sys/net/ipv6/conf/vrrp.61/disable_ipv6").Output()
	b.WriteString("vrrp.61 disable_ipv6=" + strings.TrimSpace(string(v)) + "\n")
	return b.String()
}

// TestVMAC6WithKeepalived is the differential test of use_vmac on an IPv6
// instance: the same instance runs under keepalived 2.2.7 and under varde
// as n1 (priority 200) against a keepalived peer (150, no VMAC). As
// MASTER the VIP answers pings, the VMAC (00:00:5e:00:02:3d, or the MAC
// given), the addresses on it (eth0's link-local, the VIP) and the
// source MAC of the adverts (the VMAC) are the same for both; after a
// graceful stop the VMAC is gone.
func TestVMAC6WithKeepalived(t *testing.T) {
	testenv.LookTool(t, "keepalived", "keepalived")
	for _, tc := range []struct{ name, extra, mac string }{
		{"use_vmac", "    use_vmac\n", "00:00:5e:00:02:3d"},
		{"MAC", "    use_vmac 02:11:22:33:44\n", "02:11:22:33:44:3d"},
		// Adverts on eth0: the VMAC gets no link-local address.
		{"vmac_xmit_base", "    use_vmac\n    vmac_xmit_base\n", "00:00:5e:00:02:3d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			for _, tool := range []string{"keepalived", "varde"} {
				t.Run(tool, func(t *testing.T) {
					got[tool] = vmac6Run(t, tool, tc.extra, tc.mac)
				})
			}
			t.Logf("state as MASTER:\n%s", got["varde"])
			if !t.Failed() && got["keepalived"] != got["varde"] {
				t.Errorf("keepalived\n%s\nvarde\n%s", got["keepalived"], got["varde"])
			}
		})
	}
}

func vmac6Run(t *testing.T, tool, extra, mac string) string {
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	for _, n := range []*Node{n1, n2, l.Client} {
		run(t, "ip", "netns", "exec", n.NS, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0")
		run(t, "ip", "-n", n.NS, "link", "set", "eth0", "down")
		run(t, "ip", "-n", n.NS, "link", "set", "eth0", "up")
	}
	for _, n := range []*Node{n1, n2, l.Client} {
		n.WaitLinkLocal()
	}
	cfg := n1.Conf(tool+".conf", conf6VMAC("n1", 200, extra))
	var p *Proc
	if tool == "keepalived" {
		p = n1.StartKeepalived(cfg)
	} else {
		p = n1.StartVarde(cfg)
	}
	n2.StartKeepalived(n2.Conf("keepalived.conf", conf6VMAC("n2", 150, "")))
	l.Settle(vip6, 10*time.Second, time.Second, "n1")
	run(t, "ip", "-n", l.Client.NS, "addr", "add", "fd00:198:18::2/64", "dev", "eth0", "nodad")
	if !ping6(t, l, vip6, 3*time.Second) {
		t.Fatalf("%s: VIP does not answer\n%s", tool, l.Logs())
	}
	src := advert6SrcMAC(t, l, 3*time.Second)
	xmitBase := strings.Contains(extra, "vmac_xmit_base")
	if xmitBase && src == n1.MAC() {
		src = "eth0"
	}
	state := vmac6State(t, n1) + "advert source MAC " + src + "\n"
	if !strings.Contains(state, "link/ether "+mac) || !strings.Contains(state, "fd00:198:18::100/64 on vrrp.61") ||
		strings.Contains(state, "eth0's link-local on vrrp.61") == xmitBase || (src == mac) == xmitBase {
		t.Fatalf("%s: VMAC %s, the VIP or the link-local not on it, or adverts not from it:\n%s\n%s", tool, mac, state, l.Logs())
	}
	p.Term()
	err := testenv.Until(5*time.Second, 20*time.Millisecond, func() error {
		if exec.Command("ip", "-n", n1.NS, "link", "show", "vrrp.61").Run() == nil {
			return os.ErrExist
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: VMAC left after the stop", tool)
	}
	return state
}

// advert6SrcMAC captures frames in the client namespace until a VRRP
// advert over IPv6 arrives from a link-local address (bounded by wait)
// and returns its source MAC.
func advert6SrcMAC(t *testing.T, l *Lab, wait time.Duration) string {
	t.Helper()
	var fd int
	err := inNS(l.Client.NS, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IPV6)))
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
		if err != nil || n < 14+40+8 {
			continue
		}
		ip := buf[14:n]
		src := netip.AddrFrom16([16]byte(ip[8:24]))
		// VRRP priority (byte 2 of the advert) 200: n1's, not the peer's.
		if ip[6] == 112 && src.IsLinkLocalUnicast() && ip[40+2] == 200 {
			return net.HardwareAddr(buf[6:12]).String()
		}
	}
	t.Fatalf("no advert at priority 200 within %v", wait)
	return ""
}

// ping6 sends echo requests to addr from the client namespace until one
// is answered (true) or wait has passed.
func ping6(t *testing.T, l *Lab, addr netip.Addr, wait time.Duration) bool {
	t.Helper()
	var c *icmp.PacketConn
	err := inNS(l.Client.NS, func() error {
		var err error
		c, err = icmp.ListenPacket("ip6:ipv6-icmp", "::")
		return err
	})
	if err != nil {
		t.Fatalf("icmp6 socket: %v", err)
	}
	defer c.Close()
	buf := make([]byte, 1500)
	for seq, end := 1, time.Now().Add(wait); time.Now().Before(end); seq++ {
		m := icmp.Message{Type: ipv6.ICMPTypeEchoRequest, Body: &icmp.Echo{ID: os.Getpid() & 0xffff, Seq: seq, Data: []byte("varde")}}
		b, _ := m.Marshal(nil)
		if _, err := c.WriteTo(b, &net.IPAddr{IP: addr.AsSlice()}); err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				break
			}
			rm, err := icmp.ParseMessage(58, buf[:n])
			if err == nil && rm.Type == ipv6.ICMPTypeEchoReply && from.(*net.IPAddr).IP.Equal(addr.AsSlice()) {
				return true
			}
		}
	}
	return false
}
