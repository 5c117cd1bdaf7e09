package core

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

// rw is a fake connection: what the proxy answers, what was written.
type rw struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *rw) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *rw) Write(p []byte) (int, error) { return c.out.Write(p) }

func TestSOCKS4Handshake(t *testing.T) {
	dst := netip.MustParseAddrPort("192.0.2.7:8080")
	wantReq := []byte{4, 1, 0x1f, 0x90, 192, 0, 2, 7, 'H', 'A', 'P', 'r', 'o', 'x', 'y', 0}
	for _, tc := range []struct {
		name  string
		dst   netip.AddrPort
		reply []byte
		ok    bool
		deny  bool
	}{
		{"granted", dst, []byte{0, 90, 0, 0, 0, 0, 0, 0}, true, false},
		{"granted, data follows", dst, []byte{0, 90, 0, 0, 0, 0, 0, 0, 'H'}, true, false},
		{"rejected", dst, []byte{0, 91, 0, 0, 0, 0, 0, 0}, false, true},
		{"identd", dst, []byte{0, 92, 0, 0, 0, 0, 0, 0}, false, true},
		{"short reply", dst, []byte{0, 90, 0}, false, false},
		{"no reply", dst, nil, false, false},
		{"IPv6 destination", netip.MustParseAddrPort("[2001:db8::1]:80"), []byte{0, 90, 0, 0, 0, 0, 0, 0}, false, false},
		{"IPv4-mapped destination", netip.MustParseAddrPort("[::ffff:192.0.2.7]:8080"), []byte{0, 90, 0, 0, 0, 0, 0, 0}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &rw{in: bytes.NewReader(tc.reply)}
			err := SOCKS4Handshake(c, tc.dst)
			if (err == nil) != tc.ok || errors.Is(err, ErrSOCKS4Denied) != tc.deny {
				t.Fatalf("err %v, want ok %v denied %v", err, tc.ok, tc.deny)
			}
			if tc.ok && !bytes.Equal(c.out.Bytes(), wantReq) {
				t.Errorf("request % x, want % x", c.out.Bytes(), wantReq)
			}
			if tc.ok && c.in.Len() != len(tc.reply)-8 {
				t.Errorf("read %d bytes past the reply", len(tc.reply)-8-c.in.Len())
			}
		})
	}
}

// FuzzSOCKS4Handshake: any reply is either accepted (8 bytes, code 90)
// or an error, never a panic, and nothing past the 8 bytes is read.
func FuzzSOCKS4Handshake(f *testing.F) {
	f.Add([]byte{0, 90, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 91})
	f.Fuzz(func(t *testing.T, reply []byte) {
		c := &rw{in: bytes.NewReader(reply)}
		err := SOCKS4Handshake(c, netip.MustParseAddrPort("10.0.0.1:80"))
		want := len(reply) >= 8 && reply[1] == 90
		if (err == nil) != want {
			t.Fatalf("reply % x: err %v", reply, err)
		}
		if len(reply) >= 8 && c.in.Len() != len(reply)-8 {
			t.Fatalf("read past the reply")
		}
	})
}
