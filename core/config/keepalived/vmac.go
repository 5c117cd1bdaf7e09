package keepalived

import (
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// useVMAC reads `use_vmac [NAME]`. keepalived's optional MAC address
// argument (a MAC other than 00:00:5e:00:01:VRID) is refused; the default
// name is keepalived's, vrrp.VRID, completed by Validate once the VRID is
// known.
func (p *parser) useVMAC(in *Instance, c *node) {
	switch len(c.args) {
	case 0:
		in.VMAC = "vrrp." // + VRID in validateVMAC
	case 1:
		if strings.Contains(c.args[0], ":") {
			p.d.Errorf(c.pos, c.keyword, "use_vmac [NAME] (the MAC is always 00:00:5e:00:01:VRID)", "a MAC address for the VMAC is not supported by varde")
			return
		}
		if len(c.args[0]) > 15 || strings.ContainsAny(c.args[0], "/ ") {
			p.d.Errorf(c.pos, c.keyword, "an interface name of at most 15 characters", "bad interface name %q", c.args[0])
			return
		}
		in.VMAC = c.args[0]
	default:
		p.d.Errorf(c.pos, c.keyword, "use_vmac [NAME] (the MAC is always 00:00:5e:00:01:VRID)", "a MAC address for the VMAC is not supported by varde")
	}
}

// validateVMAC completes the default name and refuses what varde does not
// build: VMACs of IPv6 instances, and vmac_xmit_base without use_vmac.
func (c *Config) validateVMAC(in *Instance, d *diag.List) {
	if in.VMAC == "vrrp." {
		in.VMAC += strconv.Itoa(in.VRID)
	}
	if in.VMAC == "" {
		if in.VMACXmitBase {
			d.Errorf(in.at("vmac_xmit_base"), "vmac_xmit_base", "add use_vmac, or remove vmac_xmit_base", "vmac_xmit_base without use_vmac")
		}
		return
	}
	if in.IsIPv6() {
		d.Errorf(in.at("use_vmac"), "use_vmac", "remove use_vmac from the IPv6 instance", "use_vmac on an IPv6 instance is not supported by varde (IPv4 only)")
	}
	if in.VMAC == in.Interface {
		d.Errorf(in.at("use_vmac"), "use_vmac", "name the VMAC differently from the interface", "VMAC %q is the instance's interface", in.VMAC)
	}
}
