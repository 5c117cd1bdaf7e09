package logpipe

import (
	"net/netip"
	"testing"
)

func TestParseAddrBytesMatchesNetip(t *testing.T) {
	for _, s := range []string{
		"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3",
		"::", "::1", "1::", "2001:db8::1", "2001:db8:0:0:0:0:0:1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9",
		"1:2:3:4:5:6:7::", "::ffff:1.2.3.4", "64:ff9b::192.0.2.33", "1:2:3:4:5:6:1.2.3.4", ":::", "1:::2",
		"12345::", "g::", "::1:", ":1", "1:2", "2001:db8::1::2", "1.2.3.4:80", "fe80::1%eth0", "::ffff:1.2.3",
	} {
		want, err := netip.ParseAddr(s)
		got, ok := parseAddrBytes([]byte(s))
		if ok != (err == nil) || (ok && got != want.WithZone("")) {
			t.Errorf("%q: got %v %v, netip says %v %v", s, got, ok, want, err)
		}
	}
}

func FuzzParseAddrBytes(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "::ffff:1.2.3.4", "2001:db8::1", "1::2:3", "fe80::1%x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := netip.ParseAddr(s)
		got, ok := parseAddrBytes([]byte(s))
		if len(s) > 64 {
			return
		}
		if ok != (err == nil) || (ok && got != want.WithZone("")) {
			t.Errorf("%q: got %v %v, netip says %v %v", s, got, ok, want, err)
		}
	})
}

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
