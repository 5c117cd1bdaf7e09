package keepalived

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// useVMAC reads `use_vmac [NAME] [MAC]` (either order, as keepalived
// 2.2.7: an argument with a ':' is the MAC). The default name is
// keepalived's, vrrp.VRID, completed by Validate once the VRID is known,
// as is a MAC of five octets (keepalived puts the VRID in the sixth).
// keepalived logs a bad MAC and goes on with the default one; varde
// refuses it, so the VMAC never has another MAC than the one written.
func (p *parser) useVMAC(in *Instance, c *node) {
	in.VMAC = "vrrp." // + VRID in validateVMAC
	if len(c.args) > 2 {
		p.d.Errorf(c.pos, c.keyword, "use_vmac [NAME] [MAC]", "expects at most a name and a MAC address")
		return
	}
	named := false
	for _, a := range c.args {
		if strings.Contains(a, ":") {
			if in.VMACAddr != "" {
				p.d.Errorf(c.pos, c.keyword, "use_vmac [NAME] [MAC]", "VMAC address given twice")
				return
			}
			mac, err := parseVMACAddr(a)
			if err != nil {
				p.d.Errorf(c.pos, c.keyword, "a unicast MAC such as 02:00:00:00:00:01, or five octets followed by the VRID", "%v", err)
				return
			}
			in.VMACAddr = mac
			continue
		}
		if named {
			p.d.Errorf(c.pos, c.keyword, "use_vmac [NAME] [MAC]", "VMAC interface name given twice")
			return
		}
		if len(a) > 15 || strings.ContainsAny(a, "/ ") {
			p.d.Errorf(c.pos, c.keyword, "an interface name of at most 15 characters", "bad interface name %q", a)
			return
		}
		in.VMAC, named = a, true
	}
}

// parseVMACAddr checks a use_vmac MAC as keepalived does: hexadecimal
// octets of one or two digits separated by ':', six of them or five (a
// trailing ':' allowed: the VRID completes it), not multicast, not one of
// RFC 5798's 00:00:5e:00:01:xx / 00:00:5e:00:02:xx. Five octets come back
// with a trailing ':'.
func parseVMACAddr(s string) (string, error) {
	parts := strings.Split(strings.TrimSuffix(s, ":"), ":")
	if len(parts) != 5 && len(parts) != 6 || strings.HasSuffix(s, ":") && len(parts) != 5 {
		return "", fmt.Errorf("bad VMAC address %q: want 6 octets, or 5 and the VRID", s)
	}
	var mac [6]byte
	for i, x := range parts {
		v, err := strconv.ParseUint(x, 16, 8)
		if err != nil || len(x) == 0 || len(x) > 2 {
			return "", fmt.Errorf("bad VMAC address %q: octet %q", s, x)
		}
		mac[i] = byte(v)
	}
	switch {
	case mac[0]&1 != 0:
		return "", fmt.Errorf("VMAC address %s is multicast", s)
	case mac[0] == 0 && mac[1] == 0 && mac[2] == 0x5e && mac[3] == 0 && (mac[4] == 1 || mac[4] == 2):
		return "", fmt.Errorf("VMAC address %s is an RFC 5798 virtual router address (leave it out: that is the default)", s)
	}
	out := net.HardwareAddr(mac[:len(parts)]).String()
	if len(parts) == 5 {
		out += ":"
	}
	return out, nil
}

// VMACHardwareAddr is the VMAC's MAC: use_vmac's, or keepalived's
// 00:00:5e:00:01:VRID (IPv4) / 00:00:5e:00:02:VRID (IPv6).
func (in *Instance) VMACHardwareAddr() net.HardwareAddr {
	if in.VMACAddr != "" {
		mac, err := net.ParseMAC(in.VMACAddr)
		if err == nil {
			return mac
		}
	}
	kind := byte(1)
	if in.IsIPv6() {
		kind = 2
	}
	return net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, kind, byte(in.VRID)}
}

// validateVMAC completes the default name and a five-octet MAC, and
// refuses vmac_xmit_base without use_vmac and a VMAC named as the base.
func (c *Config) validateVMAC(in *Instance, d *diag.List) {
	if in.VMAC == "vrrp." {
		in.VMAC += strconv.Itoa(in.VRID)
	}
	if strings.HasSuffix(in.VMACAddr, ":") {
		in.VMACAddr += fmt.Sprintf("%02x", in.VRID)
	}
	if in.VMAC == "" {
		if in.VMACXmitBase {
			d.Errorf(in.at("vmac_xmit_base"), "vmac_xmit_base", "add use_vmac, or remove vmac_xmit_base", "vmac_xmit_base without use_vmac")
		}
		return
	}
	if in.VMAC == in.Interface {
		d.Errorf(in.at("use_vmac"), "use_vmac", "name the VMAC differently from the interface", "VMAC %q is the instance's interface", in.VMAC)
	}
}
