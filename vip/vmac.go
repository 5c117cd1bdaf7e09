package vip

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/vishvananda/netlink"

	"github.com/varde-lb/varde/core/config/keepalived"
)

// use_vmac, as keepalived 2.2.7 builds it (checked side by side in
// TestVMACWithKeepalived): a macvlan interface on the instance's interface,
// mode private, MAC 00:00:5e:00:01:VRID (RFC 5798's virtual router MAC)
// or the one use_vmac gives,
// named vrrp.VRID unless the configuration names it, no IPv6 address
// generation, up. The VIPs without a dev go on it, adverts and GARPs leave
// from it (so their source MAC is the virtual one), from the base
// interface's address. The sysctls keepalived sets are set too: on the base
// interface arp_ignore=1 and arp_filter=1 (it must not answer ARP for
// the VIPs with its own MAC), on the VMAC arp_ignore=1, accept_local=1,
// promote_secondaries=1. As keepalived 2.2.7, the base's values are not
// restored when the VMAC goes (TestVMACWithKeepalived compares them after
// a stop).
//
// A VMAC is shared by reference: on a reload, the new generation's
// instance takes it before the old one lets it go. It is removed when its
// instance is released (stop, reload without it) and left for the
// successor on a handover; one left by a crash is taken over as is.

// vmacs counts the instances using each VMAC, by name.
var vmacs = struct {
	sync.Mutex
	refs map[string]int
}{refs: map[string]int{}}

// acquireVMAC makes sure in's VMAC exists (creating it) and counts one
// more user of it.
func acquireVMAC(in *keepalived.Instance) (*net.Interface, error) {
	vmacs.Lock()
	defer vmacs.Unlock()
	if err := ensureVMAC(in); err != nil {
		return nil, err
	}
	if in.IsIPv6() {
		if err := setupVMAC6(in); err != nil { // vmac6.go
			return nil, err
		}
	} else {
		setSysctls(in.Interface, baseSysctls)
		setSysctls(in.VMAC, vmacSysctls)
	}
	ifi, err := net.InterfaceByName(in.VMAC)
	if err != nil {
		return nil, fmt.Errorf("vip: VMAC %s: %w", in.VMAC, err)
	}
	vmacs.refs[in.VMAC]++
	return ifi, nil
}

// releaseVMAC drops one user; the last one removes the interface when
// remove is set (a release), or leaves it (a handover).
func releaseVMAC(name string, remove bool) error {
	vmacs.Lock()
	defer vmacs.Unlock()
	if vmacs.refs[name] == 0 {
		return nil
	}
	if vmacs.refs[name]--; vmacs.refs[name] > 0 {
		return nil
	}
	delete(vmacs.refs, name)
	if !remove {
		return nil
	}
	l, err := netlink.LinkByName(name)
	if err != nil {
		return nil // gone already
	}
	if err := netlink.LinkDel(l); err != nil {
		return capErr("CAP_NET_ADMIN", "removing VMAC "+name, err)
	}
	return nil
}

// ensureVMAC creates the macvlan, or checks that the interface of that
// name is one (a crash's or a predecessor's leftover) on the right base
// with the right MAC.
func ensureVMAC(in *keepalived.Instance) error {
	base, err := netlink.LinkByName(in.Interface)
	if err != nil {
		return fmt.Errorf("vip: interface %s: %w", in.Interface, err)
	}
	mac := in.VMACHardwareAddr() // use_vmac's MAC, or 00:00:5e:00:01:VRID
	if l, err := netlink.LinkByName(in.VMAC); err == nil {
		mv, ok := l.(*netlink.Macvlan)
		if !ok || mv.Attrs().ParentIndex != base.Attrs().Index || !bytes.Equal(mv.Attrs().HardwareAddr, mac) {
			return fmt.Errorf("vip: %s: interface %s exists and is not this instance's VMAC (macvlan on %s with MAC %s)", in.Name, in.VMAC, in.Interface, mac)
		}
		return netlink.LinkSetUp(l)
	}
	mv := &netlink.Macvlan{
		LinkAttrs: netlink.LinkAttrs{Name: in.VMAC, ParentIndex: base.Attrs().Index, HardwareAddr: mac},
		Mode:      netlink.MACVLAN_MODE_PRIVATE,
	}
	if err := netlink.LinkAdd(mv); err != nil {
		return capErr("CAP_NET_ADMIN", "creating VMAC "+in.VMAC, err)
	}
	l, err := netlink.LinkByName(in.VMAC)
	if err == nil {
		// keepalived's VMACs have no IPv6 address of their own.
		err = netlink.LinkSetIP6AddrGenMode(l, 1) // IN6_ADDR_GEN_MODE_NONE
		if err == nil {
			err = netlink.LinkSetUp(l)
		}
	}
	if err != nil {
		if l != nil {
			_ = netlink.LinkDel(l)
		}
		return fmt.Errorf("vip: setting VMAC %s up: %w", in.VMAC, err)
	}
	return nil
}

var (
	baseSysctls = map[string]string{"arp_ignore": "1", "arp_filter": "1"}
	vmacSysctls = map[string]string{"arp_ignore": "1", "accept_local": "1", "promote_secondaries": "1"}
)

// setSysctls writes net.ipv4.conf.IF.*, best effort as keepalived (the
// VMAC works without them; a read-only /proc/sys is logged by nobody).
func setSysctls(ifname string, vals map[string]string) {
	for k, v := range vals {
		_ = os.WriteFile("/proc/sys/net/ipv4/conf/"+ifname+"/"+k, []byte(v), 0o644)
	}
}

// instanceIO is what an instance sends and receives through: the raw
// VRRP transport, the GARP announcer, netlink for its addresses and, with
// virtual_routes/virtual_rules, its routes; with use_vmac, its VMAC.
type instanceIO struct {
	tr   Transport
	ann  *linkAnnouncer
	na   *netlinkAddr
	rt   *netlinkRouter
	vmac string
}

// close releases everything; remove says whether a VMAC no other
// instance uses is deleted (not on a handover).
func (io *instanceIO) close(remove bool) {
	if io.tr != nil {
		io.tr.Close()
	}
	if io.ann != nil {
		io.ann.Close()
	}
	if io.na != nil {
		io.na.Close()
	}
	if io.rt != nil {
		io.rt.Close()
	}
	if io.vmac != "" {
		_ = releaseVMAC(io.vmac, remove)
	}
}

// openInstanceIO opens them on the instance's interface or, with
// use_vmac, on its VMAC (adverts stay on the base with vmac_xmit_base).
func openInstanceIO(in *keepalived.Instance, ifi *net.Interface, unicast bool) (_ *instanceIO, err error) {
	io := &instanceIO{}
	defer func() {
		if err != nil {
			io.close(true)
		}
	}()
	send, announce, addrDev := ifi, ifi, in.Interface
	if in.VMAC != "" {
		v, err := acquireVMAC(in)
		if err != nil {
			return nil, err
		}
		io.vmac, announce, addrDev = in.VMAC, v, in.VMAC
		if !in.VMACXmitBase {
			send = v
		}
	}
	if in.IsIPv6() {
		io.tr, err = openTransport6(send, !unicast)
	} else {
		io.tr, err = openTransport4(send, !unicast)
	}
	if err != nil {
		return nil, err
	}
	if io.ann, err = newAnnouncer(announce); err != nil {
		return nil, err
	}
	if io.na, err = newNetlinkAddr(addrDev); err != nil {
		return nil, err
	}
	if io.vmac != "" {
		io.na.base, io.na.v6 = in.Interface, in.IsIPv6()
	}
	if len(in.Routes)+len(in.Rules) > 0 {
		if io.rt, err = newNetlinkRouter(); err != nil {
			return nil, err
		}
	}
	return io, nil
}
