package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"net/netip"
	"strings"
	"testing"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestParseV1(t *testing.T) {
	long := "PROXY UNKNOWN " + strings.Repeat("x", MaxV1Len-len("PROXY UNKNOWN ")-2) + "\r\n"
	tests := []struct {
		in       string
		n        int
		err      error
		src, dst string
		local    bool
	}{
		{in: "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET /", n: 45, src: "192.0.2.1:56324", dst: "198.51.100.2:443"},
		{in: "PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n", n: 44, src: "[2001:db8::1]:1", dst: "[2001:db8::2]:65535"},
		{in: "PROXY TCP6 ::ffff:192.0.2.1 2001:db8::2 1 2\r\n", n: 45, src: "192.0.2.1:1", dst: "[2001:db8::2]:2"},
		{in: "PROXY UNKNOWN\r\n", n: 15, local: true},
		{in: "PROXY UNKNOWN 1.2.3.4 whatever\r\nX", n: 32, local: true},
		{in: long, n: MaxV1Len, local: true},
		{in: "PROXY UNKNOWN " + strings.Repeat("x", MaxV1Len), err: ErrInvalid},
		{in: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2", err: ErrIncomplete},
		{in: "PRO", err: ErrIncomplete},
		{in: "", err: ErrIncomplete},
		{in: "GET / HTTP/1.1\r\n", err: ErrNotProxy},
		{in: "PROXX TCP4", err: ErrNotProxy},
		{in: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", err: ErrInvalid},            // LF without CR
		{in: "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", err: ErrInvalid},         // two spaces
		{in: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", err: ErrInvalid},        // a sixth field
		{in: "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", err: ErrInvalid},            // a missing port
		{in: "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", err: ErrInvalid},      // port range
		{in: "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", err: ErrInvalid},         // leading zero
		{in: "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", err: ErrInvalid},         // leading zero
		{in: "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", err: ErrInvalid},        // octet range
		{in: "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", err: ErrInvalid},            // three octets
		{in: "PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n", err: ErrInvalid},      // family mismatch
		{in: "PROXY TCP6 1.2.3.4 2001:db8::1 1 2\r\n", err: ErrInvalid},      // family mismatch
		{in: "PROXY TCP6 fe80::1%eth0 2001:db8::1 1 2\r\n", err: ErrInvalid}, // zone
		{in: "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", err: ErrInvalid},
		{in: "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", err: ErrInvalid},
	}
	for _, tt := range tests {
		var h Header
		n, err := Parse([]byte(tt.in), &h)
		if !errors.Is(err, tt.err) {
			t.Errorf("%q: err %v, want %v", tt.in, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if n != tt.n || h.Version != 1 || h.Local != tt.local {
			t.Errorf("%q: n=%d v=%d local=%v, want n=%d local=%v", tt.in, n, h.Version, h.Local, tt.n, tt.local)
		}
		if !tt.local && (h.Src.String() != tt.src || h.Dst.String() != tt.dst) {
			t.Errorf("%q: src %v dst %v, want %s %s", tt.in, h.Src, h.Dst, tt.src, tt.dst)
		}
	}
}

// v2 builds a version 2 header by hand (independently of AppendV2).
func v2(verCmd, fam byte, body []byte) []byte {
	b := append([]byte{}, v2Sig[:]...)
	b = append(b, verCmd, fam, byte(len(body)>>8), byte(len(body)))
	return append(b, body...)
}

func tlv(typ byte, val []byte) []byte {
	return append([]byte{typ, byte(len(val) >> 8), byte(len(val))}, val...)
}

func inet4() []byte { return []byte{192, 0, 2, 1, 198, 51, 100, 2, 0xdc, 0x04, 0x01, 0xbb} }

func withCRC(b []byte) []byte {
	b = append(b[:len(b):len(b)], tlv(TypeCRC32C, make([]byte, 4))...)
	binary.BigEndian.PutUint16(b[14:16], uint16(len(b)-16))
	c := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
	binary.BigEndian.PutUint32(b[len(b)-4:], c)
	return b
}

func TestParseV2(t *testing.T) {
	in6 := make([]byte, 36)
	in6[0], in6[1], in6[15] = 0x20, 0x01, 1
	in6[16], in6[17], in6[31] = 0x20, 0x01, 2
	in6[33], in6[35] = 80, 81
	ssl := append([]byte{0x07, 0, 0, 0, 0}, tlv(0x21, []byte("TLSv1.3"))...)
	good4 := v2(0x21, 0x11, inet4())
	badCRC := withCRC(good4)
	badCRC[len(badCRC)-1] ^= 1
	tests := []struct {
		name     string
		in       []byte
		err      error
		src, dst string
		local    bool
		check    func(*Header) bool
	}{
		{name: "tcp4", in: good4, src: "192.0.2.1:56324", dst: "198.51.100.2:443"},
		{name: "tcp6", in: v2(0x21, 0x21, in6), src: "[2001::1]:80", dst: "[2001::2]:81"},
		{name: "local", in: v2(0x20, 0x00, nil), local: true},
		{name: "local with bytes", in: v2(0x20, 0x11, inet4()), local: true},
		{name: "unspec", in: v2(0x21, 0x00, nil), local: true},
		{name: "unix", in: v2(0x21, 0x31, make([]byte, 216)), local: true},
		{name: "udp4", in: v2(0x21, 0x12, inet4()), local: true},
		{name: "tlvs", in: v2(0x21, 0x11, bytes.Join([][]byte{inet4(), tlv(TypeAuthority, []byte("a.example")), tlv(TypeUniqueID, []byte("id-1")), tlv(TypeSSL, ssl), tlv(TypeNoop, nil), tlv(0xe0, []byte("custom"))}, nil)),
			src: "192.0.2.1:56324", dst: "198.51.100.2:443",
			check: func(h *Header) bool {
				return string(h.Authority) == "a.example" && string(h.UniqueID) == "id-1" && h.SSL && h.SSLClient == 7
			}},
		{name: "crc ok", in: withCRC(good4), src: "192.0.2.1:56324", dst: "198.51.100.2:443"},
		{name: "crc bad", in: badCRC, err: ErrInvalid},
		{name: "short tcp4", in: v2(0x21, 0x11, inet4()[:11]), err: ErrInvalid},
		{name: "short tcp6", in: v2(0x21, 0x21, in6[:35]), err: ErrInvalid},
		{name: "version 1 nibble", in: v2(0x11, 0x11, inet4()), err: ErrInvalid},
		{name: "command 2", in: v2(0x22, 0x11, inet4()), err: ErrInvalid},
		{name: "family 4", in: v2(0x21, 0x41, inet4()), err: ErrInvalid},
		{name: "transport 3", in: v2(0x21, 0x13, inet4()), err: ErrInvalid},
		{name: "tlv overruns", in: v2(0x21, 0x11, append(inet4(), TypeAuthority, 0, 9, 'a')), err: ErrInvalid},
		{name: "tlv truncated head", in: v2(0x21, 0x11, append(inet4(), TypeAuthority, 0)), err: ErrInvalid},
		{name: "authority too long", in: v2(0x21, 0x11, append(inet4(), tlv(TypeAuthority, make([]byte, 256))...)), err: ErrInvalid},
		{name: "unique-id too long", in: v2(0x21, 0x11, append(inet4(), tlv(TypeUniqueID, make([]byte, 129))...)), err: ErrInvalid},
		{name: "ssl short", in: v2(0x21, 0x11, append(inet4(), tlv(TypeSSL, []byte{1, 0})...)), err: ErrInvalid},
		{name: "ssl sub overrun", in: v2(0x21, 0x11, append(inet4(), tlv(TypeSSL, []byte{1, 0, 0, 0, 0, 0x21, 0, 5, 'x'})...)), err: ErrInvalid},
		{name: "too long", in: v2(0x21, 0x11, make([]byte, MaxV2Len)), err: ErrTooLong},
		{name: "incomplete body", in: good4[:20], err: ErrIncomplete},
		{name: "incomplete head", in: good4[:14], err: ErrIncomplete},
		{name: "incomplete sig", in: good4[:5], err: ErrIncomplete},
		{name: "bad sig", in: append([]byte("\r\n\r\nX"), good4[5:]...), err: ErrNotProxy},
	}
	for _, tt := range tests {
		var h Header
		buf := append(append([]byte{}, tt.in...), "tail"...)
		if tt.err == ErrIncomplete {
			buf = tt.in
		}
		n, err := Parse(buf, &h)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if n != len(tt.in) || h.Version != 2 || h.Local != tt.local {
			t.Errorf("%s: n=%d v=%d local=%v, want n=%d local=%v", tt.name, n, h.Version, h.Local, len(tt.in), tt.local)
		}
		if !tt.local && (h.Src.String() != tt.src || h.Dst.String() != tt.dst) {
			t.Errorf("%s: src %v dst %v, want %s %s", tt.name, h.Src, h.Dst, tt.src, tt.dst)
		}
		if tt.check != nil && !tt.check(&h) {
			t.Errorf("%s: TLVs not read: %+v", tt.name, h)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	pairs := [][2]string{
		{"192.0.2.1:1234", "198.51.100.2:80"},
		{"[2001:db8::1]:1", "[2001:db8::2]:2"},
		{"192.0.2.1:1234", "[2001:db8::2]:2"}, // mixed: mapped
	}
	for _, p := range pairs {
		src, dst := ap(p[0]), ap(p[1])
		for _, b := range [][]byte{AppendV1(nil, src, dst), AppendV2(nil, src, dst, AppendTLV(nil, TypeAuthority, []byte("x.example")))} {
			var h Header
			n, err := Parse(b, &h)
			if err != nil || n != len(b) || h.Local {
				t.Fatalf("%q: n=%d err=%v local=%v", b, n, err, h.Local)
			}
			if h.Src != src || h.Dst != dst {
				t.Errorf("%q: got %v %v, want %v %v", b, h.Src, h.Dst, src, dst)
			}
		}
	}
	for _, b := range [][]byte{AppendV1(nil, netip.AddrPort{}, netip.AddrPort{}), AppendV2(nil, netip.AddrPort{}, netip.AddrPort{}, nil)} {
		var h Header
		if n, err := Parse(b, &h); err != nil || n != len(b) || !h.Local {
			t.Errorf("%q: n=%d err=%v local=%v, want LOCAL/UNKNOWN", b, n, err, h.Local)
		}
	}
}

// TestEveryPrefixIncomplete: a header cut anywhere is ErrIncomplete, never
// an error that would close a connection whose header is still arriving.
func TestEveryPrefixIncomplete(t *testing.T) {
	for _, full := range [][]byte{
		[]byte("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"),
		v2(0x21, 0x11, append(inet4(), tlv(TypeAuthority, []byte("a.example"))...)),
	} {
		for i := 0; i < len(full); i++ {
			var h Header
			if _, err := Parse(full[:i], &h); err != ErrIncomplete {
				t.Errorf("%q[:%d]: %v, want ErrIncomplete", full, i, err)
			}
		}
	}
}

func TestParseAllocs(t *testing.T) {
	v1 := []byte("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n")
	v2b := v2(0x21, 0x11, append(inet4(), tlv(TypeUniqueID, []byte("abc"))...))
	var h Header
	for _, b := range [][]byte{v1, v2b} {
		if a := testing.AllocsPerRun(100, func() { Parse(b, &h) }); a != 0 {
			t.Errorf("%q: %v allocs, want 0", b, a)
		}
	}
}

func BenchmarkParseV2(b *testing.B) {
	in := v2(0x21, 0x11, inet4())
	var h Header
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Parse(in, &h)
	}
}

// FuzzParse: never panics, never reads past its input, a length within the
// input and the bounds, and a parsed header re-encodes to one that parses
// to the same addresses.
func FuzzParse(f *testing.F) {
	f.Add([]byte("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET"))
	f.Add([]byte("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n"))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add(v2(0x21, 0x11, append(inet4(), tlv(TypeSSL, []byte{1, 0, 0, 0, 0, 0x21, 0, 1, 'x'})...)))
	f.Add(v2(0x20, 0x00, nil))
	f.Add(withCRC(v2(0x21, 0x11, inet4())))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Header
		n, err := Parse(b, &h)
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v with n=%d", err, n)
			}
			return
		}
		if n <= 0 || n > len(b) || (h.Version == 1 && n > MaxV1Len) || n > MaxV2Len {
			t.Fatalf("n=%d of %d (v%d)", n, len(b), h.Version)
		}
		if h.Local {
			return
		}
		for _, enc := range [][]byte{AppendV1(nil, h.Src, h.Dst), AppendV2(nil, h.Src, h.Dst, nil)} {
			var g Header
			if _, err := Parse(enc, &g); err != nil || g.Src != h.Src || g.Dst != h.Dst {
				t.Fatalf("re-encoded %q: %v %v %v", enc, err, g.Src, g.Dst)
			}
		}
	})
}
