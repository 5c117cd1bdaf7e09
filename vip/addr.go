package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/core/config/keepalived"
)

// Addresser adds and removes the virtual addresses; the real one is netlink.
type Addresser interface {
	Add(v keepalived.VIP) error
	Del(v keepalived.VIP) error
	// Held counts the addresses on v's interface equal to v's address,
	// whatever their prefix length.
	Held(v keepalived.VIP) (int, error)
	// Purge removes them: a VIP left by a crashed run may have had
	// another prefix length than the one configured now.
	Purge(v keepalived.VIP) (int, error)
}

// netlinkAddr keeps one netlink socket and caches links by name: taking the
// VIP over is on the failover's critical path, so no socket is opened and
// no link looked up per address change.
type netlinkAddr struct {
	defaultDev string
	// base is the interface whose VIPs go on defaultDev instead: with
	// use_vmac, keepalived moves `dev BASE` VIPs to the VMAC.
	base string
	// v6 is the instance's family: with use_vmac only the VIPs of that
	// family move to the VMAC; the others stay on base (keepalived 2.2.7
	// without use_vmac_addr).
	v6    bool
	h     *netlink.Handle
	mu    sync.Mutex
	links map[string]netlink.Link
}

func newNetlinkAddr(defaultDev string) (*netlinkAddr, error) {
	h, err := netlink.NewHandle()
	if err != nil {
		return nil, fmt.Errorf("vip: netlink: %w", err)
	}
	return &netlinkAddr{defaultDev: defaultDev, h: h, links: map[string]netlink.Link{}}, nil
}

func (n *netlinkAddr) Close() { n.h.Close() }

func (n *netlinkAddr) link(dev string) (netlink.Link, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l, ok := n.links[dev]; ok {
		return l, nil
	}
	l, err := n.h.LinkByName(dev)
	if err != nil {
		return nil, fmt.Errorf("vip: interface %s: %w", dev, err)
	}
	n.links[dev] = l
	return l, nil
}

func (n *netlinkAddr) addr(v keepalived.VIP) (netlink.Link, *netlink.Addr, error) {
	dev := v.Dev
	switch {
	case n.base != "" && v.Prefix.Addr().Is6() != n.v6 && (dev == "" || dev == n.base):
		// An (excluded) address of the other family than a VMAC
		// instance's stays on the parent interface, as keepalived does
		// without use_vmac_addr.
		dev = n.base
	case dev == "" || (n.base != "" && dev == n.base):
		dev = n.defaultDev
	}
	link, err := n.link(dev)
	if err != nil {
		return nil, nil, err
	}
	a := &netlink.Addr{
		IPNet: &net.IPNet{IP: v.Prefix.Addr().AsSlice(), Mask: net.CIDRMask(v.Prefix.Bits(), v.Prefix.Addr().BitLen())},
		Label: v.Label,
	}
	if v.Brd.IsValid() {
		a.Broadcast = v.Brd.AsSlice()
	}
	if v.Prefix.Addr().Is6() {
		// No duplicate address detection: the VIP must be usable at once
		// and must not turn `dadfailed` while the old master still has it.
		a.Flags = unix.IFA_F_NODAD
	}
	return link, a, nil
}

func (n *netlinkAddr) Add(v keepalived.VIP) error {
	link, a, err := n.addr(v)
	if err != nil {
		return err
	}
	if err := n.h.AddrAdd(link, a); err != nil && !errors.Is(err, syscall.EEXIST) {
		return capErr("CAP_NET_ADMIN", "adding "+v.Prefix.String(), err)
	}
	return nil
}

func (n *netlinkAddr) Del(v keepalived.VIP) error {
	link, a, err := n.addr(v)
	if err != nil {
		return err
	}
	a.Label = ""
	if err := n.h.AddrDel(link, a); err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) {
		return capErr("CAP_NET_ADMIN", "removing "+v.Prefix.String(), err)
	}
	return nil
}

func (n *netlinkAddr) held(v keepalived.VIP) (netlink.Link, []netlink.Addr, error) {
	link, want, err := n.addr(v)
	if err != nil {
		return nil, nil, err
	}
	fam := netlink.FAMILY_V4
	if v.Prefix.Addr().Is6() {
		fam = netlink.FAMILY_V6
	}
	addrs, err := n.h.AddrList(link, fam)
	if err != nil {
		return nil, nil, fmt.Errorf("vip: addresses of %s: %w", link.Attrs().Name, err)
	}
	var out []netlink.Addr
	for _, a := range addrs {
		if a.IP.Equal(want.IP) {
			out = append(out, a)
		}
	}
	return link, out, nil
}

func (n *netlinkAddr) Held(v keepalived.VIP) (int, error) {
	_, addrs, err := n.held(v)
	return len(addrs), err
}

func (n *netlinkAddr) Purge(v keepalived.VIP) (int, error) {
	link, addrs, err := n.held(v)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, a := range addrs {
		a.Label = ""
		if err := n.h.AddrDel(link, &a); err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) {
			return removed, capErr("CAP_NET_ADMIN", "removing "+v.Prefix.String(), err)
		}
		removed++
	}
	return removed, nil
}

// primaryAddr is the address adverts are sent from: the interface's first
// IPv4 address that is not a VIP, or its IPv6 link-local address.
func primaryAddr(ifname string, v6 bool, vips []keepalived.VIP) (netip.Addr, error) {
	link, err := netlink.LinkByName(ifname)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("vip: interface %s: %w", ifname, err)
	}
	fam := netlink.FAMILY_V4
	if v6 {
		fam = netlink.FAMILY_V6
	}
	addrs, err := netlink.AddrList(link, fam)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("vip: addresses of %s: %w", ifname, err)
	}
outer:
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if v6 && !ip.IsLinkLocalUnicast() {
			continue
		}
		for _, v := range vips {
			if v.Prefix.Addr() == ip {
				continue outer
			}
		}
		return ip, nil
	}
	if v6 {
		return netip.Addr{}, fmt.Errorf("vip: %s has no IPv6 link-local address", ifname)
	}
	return netip.Addr{}, fmt.Errorf("vip: %s has no IPv4 address to send adverts from", ifname)
}
