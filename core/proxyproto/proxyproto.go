// Package proxyproto reads and writes the PROXY protocol header (versions 1
// and 2, https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt) that a
// load balancer puts at the start of a TCP connection to name the client it
// relays.
//
// The parser is written for the accept path: it works on the bytes already
// received (the caller peeks at the socket), returns ErrIncomplete while a
// header could still be completed, allocates nothing for version 2 and
// version 1 over IPv4, and is strict where HAProxy 2.6 is strict: a version 1
// line is at most 107 bytes, a version 2 header is bounded by MaxV2Len, its
// address block must fit its family, and its TLVs must fit the header
// exactly. Anything else is ErrInvalid (or ErrNotProxy when the first bytes
// are not a PROXY header at all).
package proxyproto

import (
	"errors"
	"net/netip"
)

// Errors returned by Parse.
var (
	// ErrIncomplete: the bytes so far are a valid prefix; read more.
	ErrIncomplete = errors.New("proxyproto: incomplete header")
	// ErrNotProxy: the connection does not start with a PROXY header
	// (HAProxy: "Received something which does not look like a PROXY
	// protocol header").
	ErrNotProxy = errors.New("proxyproto: not a PROXY protocol header")
	// ErrInvalid: a PROXY header that breaks the specification.
	ErrInvalid = errors.New("proxyproto: invalid PROXY protocol header")
	// ErrTooLong: a version 2 header longer than MaxV2Len.
	ErrTooLong = errors.New("proxyproto: PROXY protocol header too long")
)

const (
	// MaxV1Len is the longest version 1 line, CRLF included.
	MaxV1Len = 107
	// V2HeaderLen is the fixed part of a version 2 header.
	V2HeaderLen = 16
	// MaxV2Len bounds a version 2 header (fixed part, addresses and
	// TLVs). HAProxy bounds it by its buffer size (16 kB by default); the
	// TLVs varde reads are far shorter.
	MaxV2Len = 4096
	// MaxAuthority and MaxUniqueID are HAProxy's TLV limits.
	MaxAuthority = 255
	MaxUniqueID  = 128
)

// v2Sig is the version 2 signature.
var v2Sig = [12]byte{'\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n'}

const v1Prefix = "PROXY "

// TLV types read by Parse.
const (
	TypeALPN      = 0x01
	TypeAuthority = 0x02
	TypeCRC32C    = 0x03
	TypeNoop      = 0x04
	TypeUniqueID  = 0x05
	TypeSSL       = 0x20
	TypeNetNS     = 0x30
)

// Header is a parsed PROXY header. Its byte slices point into the buffer
// given to Parse; copy them before that buffer is reused.
type Header struct {
	Version uint8
	// Local is true when the header carries no client address: version 2
	// LOCAL command, version 1 UNKNOWN, or a version 2 PROXY command with
	// an UNSPEC or UNIX family or a datagram transport. As HAProxy, the
	// receiver then keeps the connection's own addresses.
	Local    bool
	Src, Dst netip.AddrPort
	// Version 2 TLVs (nil when absent).
	Authority []byte // PP2_TYPE_AUTHORITY: the host name the client asked for (SNI)
	UniqueID  []byte // PP2_TYPE_UNIQUE_ID
	ALPN      []byte // PP2_TYPE_ALPN
	// PP2_TYPE_SSL: the client connected over TLS.
	SSL       bool
	SSLClient uint8  // PP2_CLIENT_* bits
	SSLVerify uint32 // 0 when a client certificate was verified
}

// Parse parses the header at the start of b into h and returns its length.
// h is fully overwritten.
func Parse(b []byte, h *Header) (int, error) {
	*h = Header{}
	if len(b) == 0 {
		return 0, ErrIncomplete
	}
	if b[0] == v2Sig[0] {
		return parseV2(b, h)
	}
	if b[0] == v1Prefix[0] {
		return parseV1(b, h)
	}
	return 0, ErrNotProxy
}

// prefixOf checks b against the start of sig: ErrIncomplete when b is a
// proper prefix, ErrNotProxy on a mismatch, nil when b starts with sig.
func prefixOf(b []byte, sig string) error {
	n := min(len(b), len(sig))
	if string(b[:n]) != sig[:n] {
		return ErrNotProxy
	}
	if n < len(sig) {
		return ErrIncomplete
	}
	return nil
}
