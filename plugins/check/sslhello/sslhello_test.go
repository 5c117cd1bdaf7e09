package sslhello

import (
	"encoding/binary"
	"testing"
)

// TestClientHelloFraming checks the record and handshake headers and that
// every length field matches what follows, byte by byte.
func TestClientHelloFraming(t *testing.T) {
	b := ClientHello()
	if b[0] != 0x16 || b[1] != 0x03 || b[2] != 0x01 { // handshake record, TLS 1.0 record version
		t.Fatalf("record header % x", b[:3])
	}
	if n := int(binary.BigEndian.Uint16(b[3:5])); n != len(b)-5 {
		t.Fatalf("record length %d, have %d", n, len(b)-5)
	}
	hs := b[5:]
	if hs[0] != 0x01 { // client_hello
		t.Fatalf("handshake type %d", hs[0])
	}
	if n := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3]); n != len(hs)-4 {
		t.Fatalf("handshake length %d, have %d", n, len(hs)-4)
	}
	body := hs[4:]
	if body[0] != 3 || body[1] != 3 { // TLS 1.2
		t.Fatalf("client_version % x", body[:2])
	}
	p := 2 + 32
	p += 1 + int(body[p]) // session id
	suites := int(binary.BigEndian.Uint16(body[p:]))
	if suites == 0 || suites%2 != 0 {
		t.Fatalf("cipher suites length %d", suites)
	}
	p += 2 + suites
	p += 1 + int(body[p]) // compression methods
	ext := int(binary.BigEndian.Uint16(body[p:]))
	if p+2+ext != len(body) {
		t.Fatalf("extensions length %d does not end the message (%d of %d)", ext, p+2+ext, len(body))
	}
}
