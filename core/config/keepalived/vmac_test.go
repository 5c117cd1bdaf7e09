package keepalived

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// TestUseVMAC: keepalived's default name vrrp.VRID, a given name,
// vmac_xmit_base, a MAC (six octets, or five and the VRID, as keepalived
// 2.2.7); refused: bad, multicast and RFC 5798 MACs, IPv6 instances,
// xmit_base alone, the base interface's own name.
func TestUseVMAC(t *testing.T) {
	const inst = "vrrp_instance V {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        %s\n    }\n%s}\n"
	tests := []struct {
		name, vip, body string
		vmac            string // "" = refused
		errLine         int
	}{
		{"default name", "198.18.0.10", "    use_vmac\n", "vrrp.51", 0},
		{"named", "198.18.0.10", "    use_vmac vm1\n    vmac_xmit_base\n", "vm1", 0},
		{"MAC argument", "198.18.0.10", "    use_vmac vm1 02:11:22:33:44:55\n", "vm1 02:11:22:33:44:55", 0},
		{"MAC first", "198.18.0.10", "    use_vmac 2:11:22:33:44:5 vm1\n", "vm1 02:11:22:33:44:05", 0},
		{"MAC alone", "198.18.0.10", "    use_vmac 02:11:22:33:44:55\n", "vrrp.51 02:11:22:33:44:55", 0},
		{"MAC with the VRID", "198.18.0.10", "    use_vmac 02:11:22:33:44\n", "vrrp.51 02:11:22:33:44:33", 0},
		{"MAC with the VRID, colon", "198.18.0.10", "    use_vmac vm1 02:11:22:33:44:\n", "vm1 02:11:22:33:44:33", 0},
		{"RFC 5798 MAC", "198.18.0.10", "    use_vmac vm1 00:00:5e:00:01:99\n", "", 7},
		{"RFC 5798 IPv6 MAC", "198.18.0.10", "    use_vmac vm1 00:00:5e:00:02:99\n", "", 7},
		{"multicast MAC", "198.18.0.10", "    use_vmac 01:11:22:33:44:55\n", "", 7},
		{"short MAC", "198.18.0.10", "    use_vmac 02:11:22:33\n", "", 7},
		{"bad octet", "198.18.0.10", "    use_vmac 02:11:22:33:44:5g\n", "", 7},
		{"long octet", "198.18.0.10", "    use_vmac 02:11:22:33:44:555\n", "", 7},
		{"two MACs", "198.18.0.10", "    use_vmac 02:11:22:33:44:55 02:11:22:33:44:56\n", "", 7},
		{"two names", "198.18.0.10", "    use_vmac vm1 vm2\n", "", 7},
		{"IPv6", "2001:db8::10", "    use_vmac\n", "vrrp.51", 0},
		{"IPv6 MAC", "2001:db8::10", "    use_vmac 02:11:22:33:44\n", "vrrp.51 02:11:22:33:44:33", 0},
		{"xmit_base alone", "198.18.0.10", "    vmac_xmit_base\n", "", 7},
		{"base name", "198.18.0.10", "    use_vmac eth0\n", "", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d diag.List
			c := Parse("v.conf", []byte(strings.Replace(strings.Replace(inst, "%s", tt.vip, 1), "%s", tt.body, 1)), &d)
			c.Validate(&d)
			if tt.vmac == "" {
				if !d.HasErrors() || !strings.Contains(d.Err().Error(), "v.conf:7:") {
					t.Fatalf("want an error at v.conf:7, got %v", d.Err())
				}
				return
			}
			if d.HasErrors() {
				t.Fatalf("refused: %v", d.Err())
			}
			in := c.Instances[0]
			got := in.VMAC
			if in.VMACAddr != "" {
				got += " " + in.VMACHardwareAddr().String()
			}
			if got != tt.vmac {
				t.Fatalf("VMAC %q, want %q", got, tt.vmac)
			}
		})
	}
}

// TestVMACHardwareAddr: keepalived's default VMAC MACs per family and a
// given MAC.
func TestVMACHardwareAddr(t *testing.T) {
	tests := []struct {
		in   Instance
		want string
	}{
		{Instance{VRID: 51, VIPs: []VIP{{Prefix: netip.MustParsePrefix("198.18.0.10/32")}}}, "00:00:5e:00:01:33"},
		{Instance{VRID: 61, VIPs: []VIP{{Prefix: netip.MustParsePrefix("fd00::1/128")}}}, "00:00:5e:00:02:3d"},
		{Instance{VRID: 61, VMACAddr: "02:aa:bb:cc:dd:ee"}, "02:aa:bb:cc:dd:ee"},
	}
	for _, tt := range tests {
		if got := tt.in.VMACHardwareAddr().String(); got != tt.want {
			t.Errorf("VRID %d: %s, want %s", tt.in.VRID, got, tt.want)
		}
	}
}
