package resolve

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/proxy"
)

func ips(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

// TestPick: HAProxy's scores (family 8, resolve-net 4, free 2, current 1),
// in the records' XXH32 order, and no address another server of the
// backend holds unless allow-dup-ip.
func TestPick(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name    string
		answer  []netip.Addr
		cfg     proxy.ResolveConfig
		current string
		others  []string // addresses other servers of the backend hold
		want    string   // "" for none
	}{
		{"ipv6 preferred by default", ips("10.0.0.1", "fd00::1"), proxy.ResolveConfig{}, "", nil, "fd00::1"},
		{"ipv4 preferred", ips("10.0.0.1", "fd00::1"), proxy.ResolveConfig{PreferV4: true}, "", nil, "10.0.0.1"},
		{"resolve-net", ips("10.0.0.1", "192.168.0.1"), proxy.ResolveConfig{PreferV4: true, Nets: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}}, "", nil, "192.168.0.1"},
		{"current kept", ips("10.0.0.1", "10.0.0.2", "10.0.0.3"), proxy.ResolveConfig{PreferV4: true}, "10.0.0.3", nil, "10.0.0.3"},
		{"held by another", ips("10.0.0.1"), proxy.ResolveConfig{PreferV4: true}, "", []string{"10.0.0.1"}, ""},
		{"held by another, allow-dup-ip", ips("10.0.0.1"), proxy.ResolveConfig{PreferV4: true, AllowDup: true}, "", []string{"10.0.0.1"}, "10.0.0.1"},
		{"a free one first", ips("10.0.0.1", "10.0.0.2"), proxy.ResolveConfig{PreferV4: true, AllowDup: true}, "", []string{"10.0.0.2"}, "10.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &resolution{}
			r.merge(tc.answer, now, 0)
			s := core.NewServer("b", "s", 1, netip.AddrPort{}, 1, 0)
			if tc.current != "" {
				s.SetAddress(netip.AddrPortFrom(netip.MustParseAddr(tc.current), 80))
			}
			m := &member{s: s, cfg: &tc.cfg}
			r.members = append(r.members, m)
			for _, o := range tc.others {
				r.members = append(r.members, &member{attached: netip.MustParseAddr(o)})
			}
			ip, _ := r.pick(m)
			got := ""
			if ip.IsValid() {
				got = ip.String()
			}
			if got != tc.want {
				t.Errorf("picked %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMergeObsolete: an address missing from an answer stays for
// `hold obsolete`, then goes; the records keep HAProxy's key order.
func TestMergeObsolete(t *testing.T) {
	t0 := time.Now()
	r := &resolution{}
	r.merge(ips("10.0.0.1", "10.0.0.2", "10.0.0.3"), t0, time.Second)
	r.merge(ips("10.0.0.1"), t0.Add(500*time.Millisecond), time.Second)
	if len(r.records) != 3 {
		t.Fatalf("obsolete records dropped before hold obsolete: %v", r.records)
	}
	r.merge(ips("10.0.0.1"), t0.Add(1500*time.Millisecond), time.Second)
	if len(r.records) != 1 || r.records[0].ip.String() != "10.0.0.1" {
		t.Fatalf("after hold obsolete: %v", r.records)
	}
	r.merge(ips("10.0.0.9", "10.0.0.8", "10.0.0.7"), t0.Add(3*time.Second), 0)
	keys := []uint32{}
	for _, rec := range r.records {
		keys = append(keys, rec.key)
	}
	if !slices.IsSorted(keys) || len(keys) != 3 {
		t.Fatalf("records not in key order: %v", r.records)
	}
}
