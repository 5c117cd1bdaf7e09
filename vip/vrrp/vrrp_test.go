package vrrp

import (
	"bufio"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	n1  = netip.MustParseAddr("10.99.0.11")
	n2  = netip.MustParseAddr("10.99.0.12")
	vip = netip.MustParseAddr("10.99.0.100")
)

// Annotated byte literals, both directions (keepalived's bytes, vrrp.md §1.2/1.3).
var codecTests = []struct {
	name     string
	a        Advert
	src, dst netip.Addr
	noPseudo bool
	b        []byte
}{
	{
		name: "v2 no auth",
		a:    Advert{Version: 2, VRID: 51, Priority: 200, Interval: 100, Addrs: []netip.Addr{vip}},
		b: []byte{
			0x21,       // version 2, type 1 (advertisement)
			0x33,       // VRID 51
			0xc8,       // priority 200
			0x01,       // one address
			0x00,       // auth type 0
			0x01,       // advert interval 1 s
			0x0c, 0x03, // checksum over the message only
			0x0a, 0x63, 0x00, 0x64, // 10.99.0.100
			0, 0, 0, 0, 0, 0, 0, 0, // auth data, zero
		},
	},
	{
		name: "v2 PASS",
		a: Advert{Version: 2, VRID: 51, Priority: 200, Interval: 100, AuthType: AuthPass,
			AuthData: [8]byte{'s', '3', 'c', 'r', 'e', 't', '1', '2'}, Addrs: []netip.Addr{vip}},
		b: []byte{
			0x21, 0x33, 0xc8, 0x01,
			0x01,       // auth type 1, simple password
			0x01,       // 1 s
			0x9d, 0xb6, // checksum covers the password too
			0x0a, 0x63, 0x00, 0x64,
			's', '3', 'c', 'r', 'e', 't', '1', '2', // clear text, 8 bytes
		},
	},
	{
		name: "v3 ipv4 multicast",
		a:    Advert{Version: 3, VRID: 51, Priority: 200, Interval: 100, Addrs: []netip.Addr{vip}},
		src:  n1, dst: Group4,
		b: []byte{
			0x31, // version 3, type 1
			0x33, 0xc8, 0x01,
			0x00, 0x64, // rsvd 0, max advert int 100 cs
			0x10, 0xa3, // checksum incl. pseudo-header 10.99.0.11 -> 224.0.0.18
			0x0a, 0x63, 0x00, 0x64,
		},
	},
	{
		name: "v3 ipv4 priority 0",
		a:    Advert{Version: 3, VRID: 51, Priority: 0, Interval: 100, Addrs: []netip.Addr{vip}},
		src:  n1, dst: Group4,
		b: []byte{0x31, 0x33, 0x00, 0x01, 0x00, 0x64, 0xd8, 0xa3, 0x0a, 0x63, 0x00, 0x64},
	},
	{
		name: "v3 ipv4 10 cs",
		a:    Advert{Version: 3, VRID: 51, Priority: 200, Interval: 10, Addrs: []netip.Addr{vip}},
		src:  n1, dst: Group4,
		b: []byte{0x31, 0x33, 0xc8, 0x01, 0x00, 0x0a, 0x10, 0xfd, 0x0a, 0x63, 0x00, 0x64},
	},
	{
		name: "v3 ipv6",
		a: Advert{Version: 3, VRID: 51, Priority: 200, Interval: 100,
			Addrs: []netip.Addr{netip.MustParseAddr("fd00:99::100")}},
		src: netip.MustParseAddr("fe80::5eff:fe99:1"), dst: Group6,
		b: append([]byte{0x31, 0x33, 0xc8, 0x01, 0x00, 0x64,
			0xac, 0x14, // IPv6 pseudo-header checksum
		}, netip.MustParseAddr("fd00:99::100").AsSlice()...),
	},
}

func TestCodec(t *testing.T) {
	for _, tc := range codecTests {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.a
			got, err := a.Marshal(tc.src, tc.dst, tc.noPseudo)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.b, got); diff != "" {
				t.Errorf("marshal (-want +got):\n%s", diff)
			}
			var back Advert
			if err := back.Unmarshal(tc.b, tc.src.Is6()); err != nil {
				t.Fatal(err)
			}
			want := tc.a
			want.Checksum = a.Checksum
			if diff := cmp.Diff(want, back, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
				t.Errorf("unmarshal (-want +got):\n%s", diff)
			}
			if ok, _ := VerifyChecksum(tc.b, tc.src, tc.dst); !ok {
				t.Error("checksum does not verify")
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	for _, a := range []Advert{
		{Version: 2, Interval: 50, Addrs: []netip.Addr{vip}},
		{Version: 2, Interval: 100, Addrs: []netip.Addr{netip.MustParseAddr("::1")}},
		{Version: 3, Interval: 4096, Addrs: []netip.Addr{vip}},
		{Version: 4, Interval: 100},
		{Version: 3, Interval: 100, Addrs: []netip.Addr{vip}}, // needs src/dst for the pseudo-header
	} {
		if _, err := a.Marshal(netip.Addr{}, netip.Addr{}, false); err == nil {
			t.Errorf("%+v: no error", a)
		}
	}
}

// TestGoldenKeepalived decodes every VRRP frame captured from keepalived
// 2.2.7, verifies its checksum and re-encodes it byte for byte.
func TestGoldenKeepalived(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.hex")
	n := 0
	for _, f := range files {
		for _, fr := range readFrames(t, f) {
			src, dst, ttl, proto, payload := splitFrame(t, fr)
			if proto != Protocol {
				continue // ARP, NA, AH: covered elsewhere
			}
			n++
			var a Advert
			if err := a.Unmarshal(payload, src.Is6()); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			ok, pseudo := VerifyChecksum(payload, src, dst)
			if !ok {
				t.Fatalf("%s: checksum", f)
			}
			re, err := a.Marshal(src, dst, a.Version == 3 && !pseudo)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(payload, re); diff != "" {
				t.Errorf("%s: re-encode (-keepalived +varde):\n%s", f, diff)
			}
			// And the receive checks accept it as a matching instance would.
			l := Local{Version: a.Version, VRID: 51, Interval: a.Interval, AuthType: a.AuthType, AuthData: a.AuthData,
				Addrs: a.Addrs, Unicast: !dst.IsMulticast()}
			if _, err := l.Check(Received{Payload: payload, Src: src, Dst: dst, TTL: ttl}); err != nil {
				t.Errorf("%s: check: %v", f, err)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d VRRP frames in the golden files", n)
	}
}

func readFrames(t *testing.T, f string) [][]byte {
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out [][]byte
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 {
			continue
		}
		b, err := hex.DecodeString(fs[2])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func splitFrame(t *testing.T, fr []byte) (src, dst netip.Addr, ttl, proto int, payload []byte) {
	switch et := int(fr[12])<<8 | int(fr[13]); et {
	case 0x0800:
		ip := fr[14:]
		ihl := int(ip[0]&0x0f) * 4
		return netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20])), int(ip[8]), int(ip[9]), ip[ihl:]
	case 0x86dd:
		ip := fr[14:]
		return netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40])), int(ip[7]), int(ip[6]), ip[40:]
	default:
		return netip.Addr{}, netip.Addr{}, 0, -1, nil
	}
}

func TestCheck(t *testing.T) {
	pw := [8]byte{'s', 'e', 'c', 'r', 'e', 't', '1', '2'}
	v2 := func(mod func(*Advert)) []byte {
		a := Advert{Version: 2, VRID: 51, Priority: 150, Interval: 100, AuthType: AuthPass, AuthData: pw, Addrs: []netip.Addr{vip}}
		if mod != nil {
			mod(&a)
		}
		b, err := a.Marshal(netip.Addr{}, netip.Addr{}, false)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	local := Local{Version: 2, VRID: 51, Interval: 100, AuthType: AuthPass, AuthData: pw, Addrs: []netip.Addr{vip}}
	badSum := v2(nil)
	badSum[6] ^= 0xff
	for _, tc := range []struct {
		name    string
		payload []byte
		ttl     int
		dst     netip.Addr
		want    Reason
		detail  string
	}{
		{"ok", v2(nil), 255, Group4, ReasonNone, ""},
		{"short", []byte{0x21, 0x33}, 255, Group4, ReasonTooShort, "VRRP packet too short - 2 bytes"},
		{"other vrid", v2(func(a *Advert) { a.VRID = 52 }), 255, Group4, ReasonUnknownVRID, "Unknown VRID(52) received"},
		{"ttl", v2(nil), 64, Group4, ReasonTTL, "invalid TTL/HL. Received 64 and expect 255"},
		{"version", []byte{0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0, 0, 10, 99, 0, 100}, 255, Group4, ReasonVersion, "wrong version. Received 3 and expect 2"},
		{"auth type", v2(func(a *Advert) { a.AuthType = 0; a.AuthData = [8]byte{} }), 255, Group4, ReasonAuthMismatch, "received a 0 auth, expecting 1!"},
		{"password", v2(func(a *Advert) { a.AuthData[0] = 'S' }), 255, Group4, ReasonPassword, "received an invalid passwd!"},
		{"interval", v2(func(a *Advert) { a.Interval = 200 }), 255, Group4, ReasonInterval, "advertisement interval mismatch mine=1 sec rcv'd=2 sec"},
		{"count", v2(func(a *Advert) { a.Addrs = append(a.Addrs, n1) }), 255, Group4, ReasonAddrCount, "received an unexpected ip number count 2, expected 1!"},
		{"checksum", badSum, 255, Group4, ReasonChecksum, "Invalid VRRPv2 checksum"},
		{"unicast", v2(nil), 255, n1, ReasonMulticast, "Expected multicast packet but received unicast packet"},
		{"addr list", v2(func(a *Advert) { a.Addrs = []netip.Addr{n2} }), 255, Group4, ReasonAddrList, "ip address associated with VRID 51 not present in MASTER advert: 10.99.0.100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := local.Check(Received{Payload: tc.payload, Src: n2, Dst: tc.dst, TTL: tc.ttl})
			if tc.want == ReasonNone {
				if err != nil || a.Priority != 150 {
					t.Fatalf("got %v %v", a, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Reason != tc.want || e.Detail != tc.detail {
				t.Fatalf("got %#v, want %v %q", err, tc.want, tc.detail)
			}
		})
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, tc := range codecTests {
		f.Add(tc.b, tc.src.Is6())
	}
	f.Add([]byte{0x21, 0x33, 0xc8, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		var a Advert
		if err := a.Unmarshal(b, v6); err != nil {
			return
		}
		src, dst := n1, Group4
		if v6 {
			src, dst = netip.MustParseAddr("fe80::1"), Group6
		}
		// Round trip: what decoded must encode to the same bytes, apart
		// from the checksum (recomputed) and the v3 reserved bits.
		re, err := a.Marshal(src, dst, false)
		if err != nil {
			return // e.g. v2 interval 0 or v3 interval 0: decodable, not sendable
		}
		want := append([]byte(nil), b...)
		want[6], want[7] = re[6], re[7]
		if a.Version == 3 {
			want[4] &= 0x0f
		}
		if diff := cmp.Diff(want, re); diff != "" {
			t.Fatalf("round trip (-in +out):\n%s", diff)
		}
		var back Advert
		if err := back.Unmarshal(re, v6); err != nil {
			t.Fatal(err)
		}
		if ok, _ := VerifyChecksum(re, src, dst); !ok {
			t.Fatal("re-encoded checksum does not verify")
		}
	})
}
