package vip

import (
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/core/config/keepalived"
)

// The VMAC of an IPv6 instance, as keepalived 2.2.7 builds it
// (vrrp_vmac.c): MAC 00:00:5e:00:02:VRID (or use_vmac's), IPv6 enabled on
// it but no address generated, none of the IPv4 sysctls, and, unless
// vmac_xmit_base, a link-local address so that adverts leave it from a
// non-VIP address with the virtual MAC: the instance's unicast_src_ip if
// it is IPv6, else the base interface's link-local address, else the
// EUI-64 one of the base's MAC. keepalived adds it /64 without DAD.

// setupVMAC6 enables IPv6 on the VMAC and gives it its link-local address.
func setupVMAC6(in *keepalived.Instance) error {
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+in.VMAC+"/disable_ipv6", []byte("0"), 0o644)
	if in.VMACXmitBase {
		return nil
	}
	ll, err := vmacLinkLocal(in)
	if err != nil {
		return err
	}
	l, err := netlink.LinkByName(in.VMAC)
	if err != nil {
		return fmt.Errorf("vip: VMAC %s: %w", in.VMAC, err)
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: ll.AsSlice(), Mask: net.CIDRMask(64, 128)}, Flags: unix.IFA_F_NODAD, Scope: unix.RT_SCOPE_LINK}
	if err := netlink.AddrReplace(l, a); err != nil {
		return capErr("CAP_NET_ADMIN", "adding "+ll.String()+" to VMAC "+in.VMAC, err)
	}
	return nil
}

// vmacLinkLocal is the address keepalived's set_link_local_address picks.
func vmacLinkLocal(in *keepalived.Instance) (netip.Addr, error) {
	if in.UnicastSrc.Is6() {
		return in.UnicastSrc, nil
	}
	if a, err := primaryAddr(in.Interface, true, in.AllVIPs()); err == nil {
		return a, nil
	}
	base, err := net.InterfaceByName(in.Interface)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("vip: interface %s: %w", in.Interface, err)
	}
	if len(base.HardwareAddr) != 6 {
		return netip.Addr{}, fmt.Errorf("vip: %s has no IPv6 link-local address and no MAC to build one from", in.Interface)
	}
	return eui64LinkLocal(base.HardwareAddr), nil
}

// eui64LinkLocal is fe80::/64 with the modified EUI-64 of mac (RFC 4291).
func eui64LinkLocal(mac net.HardwareAddr) netip.Addr {
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	a[8], a[9], a[10], a[11], a[12] = mac[0]^0x02, mac[1], mac[2], 0xff, 0xfe
	a[13], a[14], a[15] = mac[3], mac[4], mac[5]
	return netip.AddrFrom16(a)
}
