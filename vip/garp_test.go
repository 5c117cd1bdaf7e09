package vip

import (
	"encoding/hex"
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The frames keepalived 2.2.7 sent in the lab (vrrp.md §5).
func TestGARPFrameGolden(t *testing.T) {
	want, _ := hex.DecodeString("ffffffffffff02005e9900020806000108000604000102005e9900020a630064ffffffffffff0a630064")
	mac, _ := net.ParseMAC("02:00:5e:99:00:02")
	if diff := cmp.Diff(want, garpFrame(mac, netip.MustParseAddr("10.99.0.100"))); diff != "" {
		t.Errorf("(-keepalived +varde):\n%s", diff)
	}
}

func TestNAGolden(t *testing.T) {
	// ICMPv6 part of keepalived's unsolicited NA; the kernel fills the checksum (f8d0).
	want, _ := hex.DecodeString("8800f8d020000000fd000099000000000000000000000100020102005e990002")
	mac, _ := net.ParseMAC("02:00:5e:99:00:02")
	got := naMessage(mac, netip.MustParseAddr("fd00:99::100"))
	want[2], want[3] = 0, 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-keepalived +varde):\n%s", diff)
	}
}
