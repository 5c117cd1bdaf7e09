package stats

import (
	"net/netip"
	"testing"

	"github.com/varde-lb/varde/core"
)

// TestServerAddrColumn: the addr column as HAProxy 2.6 fills it: IP:PORT,
// "unix" for a Unix-domain server, nothing while there is no address.
func TestServerAddrColumn(t *testing.T) {
	unix := core.NewServer("b", "u", 1, netip.AddrPort{}, 1, 0)
	unix.Via = &core.Via{Unix: "/run/php.sock"}
	moved := core.NewServer("b", "m", 2, netip.AddrPort{}, 1, 0)
	moved.Via = &core.Via{Unix: "/run/php.sock"}
	moved.SetAddress(netip.MustParseAddrPort("10.0.0.9:9000")) // set server addr: TCP from now on
	for _, tc := range []struct {
		s    *core.Server
		want string
	}{
		{core.NewServer("b", "s", 3, netip.MustParseAddrPort("10.0.0.1:80"), 1, 0), "10.0.0.1:80"},
		{unix, "unix"},
		{moved, "10.0.0.9:9000"},
		{core.NewServer("b", "n", 4, netip.AddrPort{}, 1, 0), ""},
	} {
		if got := serverAddr(tc.s); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.s.Name, got, tc.want)
		}
	}
}
