package vip

import (
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// Announcer tells the link a VIP moved: gratuitous ARP for IPv4, unsolicited
// neighbour advertisement for IPv6.
type Announcer interface {
	Announce(vip netip.Addr) error
	Close() error
}

// garpFrame builds keepalived's gratuitous ARP (vrrp_arp.c): an ARP request
// broadcast from the interface MAC with sender = target = the VIP and target
// MAC ff:ff:ff:ff:ff:ff.
func garpFrame(mac net.HardwareAddr, vip netip.Addr) []byte {
	b := make([]byte, 0, 42)
	bcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	ip := vip.As4()
	b = append(b, bcast...)               // Ethernet destination
	b = append(b, mac...)                 // Ethernet source
	b = append(b, 0x08, 0x06)             // ARP
	b = append(b, 0x00, 0x01, 0x08, 0x00) // hardware Ethernet, protocol IPv4
	b = append(b, 6, 4, 0x00, 0x01)       // sizes, operation request
	b = append(b, mac...)                 // sender MAC
	b = append(b, ip[:]...)               // sender IP = VIP
	b = append(b, bcast...)               // target MAC
	return append(b, ip[:]...)            // target IP = VIP
}

// naMessage is the ICMPv6 unsolicited neighbour advertisement keepalived
// sends (checksum left to the kernel): Override flag, target = VIP, target
// link-layer address option.
func naMessage(mac net.HardwareAddr, vip netip.Addr) []byte {
	b := []byte{136, 0, 0, 0, 0x20, 0, 0, 0}
	t := vip.As16()
	b = append(b, t[:]...)
	b = append(b, 2, 1)
	return append(b, mac...)
}

type linkAnnouncer struct {
	ifi  *net.Interface
	fd   int
	na   *ipv6.PacketConn
	naPC net.PacketConn
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func newAnnouncer(ifi *net.Interface) (*linkAnnouncer, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
	if err != nil {
		return nil, capErr("CAP_NET_RAW", "opening the ARP socket", err)
	}
	return &linkAnnouncer{ifi: ifi, fd: fd}, nil
}

func (a *linkAnnouncer) Announce(vip netip.Addr) error {
	if len(a.ifi.HardwareAddr) != 6 {
		return nil // no link layer (e.g. a tunnel): nothing to refresh
	}
	if vip.Is4() {
		sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: a.ifi.Index, Halen: 6}
		copy(sa.Addr[:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		if err := unix.Sendto(a.fd, garpFrame(a.ifi.HardwareAddr, vip), 0, sa); err != nil {
			return fmt.Errorf("vip: gratuitous ARP on %s: %w", a.ifi.Name, err)
		}
		return nil
	}
	if a.na == nil {
		pc, err := net.ListenPacket("ip6:ipv6-icmp", "::")
		if err != nil {
			return capErr("CAP_NET_RAW", "opening the ICMPv6 socket", err)
		}
		a.naPC, a.na = pc, ipv6.NewPacketConn(pc)
		_ = a.na.SetMulticastHopLimit(255)
		_ = a.na.SetMulticastInterface(a.ifi)
	}
	cm := &ipv6.ControlMessage{Src: vip.AsSlice(), IfIndex: a.ifi.Index}
	_, err := a.na.WriteTo(naMessage(a.ifi.HardwareAddr, vip), cm, &net.IPAddr{IP: net.ParseIP("ff02::1"), Zone: a.ifi.Name})
	if err != nil {
		return fmt.Errorf("vip: unsolicited NA on %s: %w", a.ifi.Name, err)
	}
	return nil
}

func (a *linkAnnouncer) Close() error {
	if a.naPC != nil {
		a.naPC.Close()
	}
	return unix.Close(a.fd)
}
