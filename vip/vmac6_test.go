package vip

import (
	"net"
	"testing"
)

// TestEUI64LinkLocal: the address keepalived builds from the base's MAC
// when the base has no link-local address (RFC 4291 modified EUI-64).
func TestEUI64LinkLocal(t *testing.T) {
	for mac, want := range map[string]string{
		"52:54:00:12:34:56": "fe80::5054:ff:fe12:3456",
		"02:00:00:00:00:01": "fe80::ff:fe00:1",
	} {
		hw, _ := net.ParseMAC(mac)
		if got := eui64LinkLocal(hw).String(); got != want {
			t.Errorf("%s: %s, want %s", mac, got, want)
		}
	}
}
