// Package vrrp is the VRRP advertisement codec: VRRPv2 (RFC 3768, with
// keepalived's auth types 0 and 1/PASS) and VRRPv3 (RFC 5798/9568, IPv4 and
// IPv6). It does no I/O; the receive checks keepalived performs live in
// Check, each failure a typed, countable Reason.
package vrrp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Protocol is the IP protocol / next header number of VRRP.
const Protocol = 112

// Auth types (VRRPv2 only).
const (
	AuthNone = 0
	AuthPass = 1
	AuthAH   = 2
)

// Multicast groups adverts are sent to.
var (
	Group4 = netip.MustParseAddr("224.0.0.18")
	Group6 = netip.MustParseAddr("ff02::12")
)

// Advert is one VRRP advertisement.
type Advert struct {
	Version  uint8 // 2 or 3
	VRID     uint8
	Priority uint8 // 0 = the master is leaving, 255 = address owner
	// Interval is the advertisement interval in centiseconds. VRRPv2 carries
	// whole seconds on the wire, so it must be a multiple of 100 there.
	Interval uint16
	AuthType uint8   // v2 only
	AuthData [8]byte // v2 only; the password for AuthPass
	Addrs    []netip.Addr
	Checksum uint16 // as received, or as computed by Marshal
}

// Header lengths.
const (
	headerLen = 8
	authLen   = 8
)

// Len is the encoded length of a.
func (a *Advert) Len() int {
	n := headerLen
	for _, ip := range a.Addrs {
		n += len(ip.AsSlice())
	}
	if a.Version == 2 {
		n += authLen
	}
	return n
}

// Marshal encodes a, computing the checksum. src and dst are the addresses of
// the enclosing IP header: VRRPv3 covers them in a pseudo-header (keepalived's
// default for IPv4, always for IPv6); noPseudo drops it for IPv4, as RFC 9568
// and keepalived's v3_checksum_as_v2 do.
func (a *Advert) Marshal(src, dst netip.Addr, noPseudo bool) ([]byte, error) {
	return a.AppendMarshal(nil, src, dst, noPseudo)
}

// AppendMarshal is Marshal appending to b.
func (a *Advert) AppendMarshal(b []byte, src, dst netip.Addr, noPseudo bool) ([]byte, error) {
	if err := a.validateForSend(); err != nil {
		return nil, err
	}
	start := len(b)
	b = append(b, a.Version<<4|1, a.VRID, a.Priority, uint8(len(a.Addrs)))
	if a.Version == 2 {
		b = append(b, a.AuthType, uint8(a.Interval/100))
	} else {
		b = binary.BigEndian.AppendUint16(b, a.Interval&0x0fff)
	}
	b = append(b, 0, 0)
	for _, ip := range a.Addrs {
		b = append(b, ip.AsSlice()...)
	}
	if a.Version == 2 {
		b = append(b, a.AuthData[:]...)
	}
	msg := b[start:]
	var sum uint16
	if a.Version == 3 && (a.is6() || !noPseudo) {
		if !src.IsValid() || !dst.IsValid() || src.Is6() != a.is6() || dst.Is6() != a.is6() {
			return nil, errors.New("vrrp: v3 checksum needs the source and destination addresses of the advert's family")
		}
		sum = Checksum(msg, src, dst)
	} else {
		sum = Checksum(msg, netip.Addr{}, netip.Addr{})
	}
	binary.BigEndian.PutUint16(msg[6:], sum)
	a.Checksum = sum
	return b, nil
}

func (a *Advert) is6() bool { return len(a.Addrs) > 0 && a.Addrs[0].Is6() }

func (a *Advert) validateForSend() error {
	switch a.Version {
	case 2:
		if a.Interval == 0 || a.Interval%100 != 0 || a.Interval/100 > 255 {
			return fmt.Errorf("vrrp: v2 interval %d cs is not 1..255 whole seconds", a.Interval)
		}
		if a.is6() {
			return errors.New("vrrp: v2 carries IPv4 addresses only")
		}
	case 3:
		if a.Interval == 0 || a.Interval > 4095 {
			return fmt.Errorf("vrrp: v3 interval %d cs is not 1..4095", a.Interval)
		}
	default:
		return fmt.Errorf("vrrp: version %d not supported", a.Version)
	}
	if len(a.Addrs) > 255 {
		return errors.New("vrrp: more than 255 addresses")
	}
	for _, ip := range a.Addrs {
		if !ip.IsValid() || ip.Is4In6() || ip.Is6() != a.is6() {
			return fmt.Errorf("vrrp: address %v mixes families or is invalid", ip)
		}
	}
	return nil
}

// MarshalBinary encodes a VRRPv2 advert, or a VRRPv3 one with the checksum
// computed without pseudo-header (only meaningful for IPv4). Use Marshal when
// the IP addresses are known.
func (a *Advert) MarshalBinary() ([]byte, error) {
	return a.Marshal(netip.Addr{}, netip.Addr{}, true)
}

// UnmarshalBinary decodes an IPv4 VRRP message (v2 or v3). The checksum is
// stored, not verified: use VerifyChecksum, which needs the IP addresses.
func (a *Advert) UnmarshalBinary(b []byte) error { return a.unmarshal(b, false) }

// UnmarshalIPv6 decodes a VRRPv3 message received over IPv6.
func (a *Advert) UnmarshalIPv6(b []byte) error { return a.unmarshal(b, true) }

// Unmarshal decodes b; v6 tells the address family of the IP packet it came in.
func (a *Advert) Unmarshal(b []byte, v6 bool) error { return a.unmarshal(b, v6) }

func (a *Advert) unmarshal(b []byte, v6 bool) error {
	if len(b) < headerLen {
		return &Error{Reason: ReasonTooShort, Detail: fmt.Sprintf("VRRP packet too short - %d bytes", len(b))}
	}
	ver, typ := b[0]>>4, b[0]&0x0f
	if ver != 2 && ver != 3 {
		return &Error{Reason: ReasonVersion, Detail: fmt.Sprintf("wrong version. Received %d", ver)}
	}
	if typ != 1 {
		return &Error{Reason: ReasonType, Detail: fmt.Sprintf("Invalid packet type. %d and expect 1", typ)}
	}
	if ver == 2 && v6 {
		return &Error{Reason: ReasonVersion, Detail: "VRRPv2 over IPv6"}
	}
	alen := 4
	if v6 {
		alen = 16
	}
	n := int(b[3])
	want := headerLen + n*alen
	if ver == 2 {
		want += authLen
	}
	if len(b) != want {
		return &Error{Reason: ReasonLength, Detail: fmt.Sprintf("vrrp packet too %s, length %d and expect %d", map[bool]string{true: "long", false: "short"}[len(b) > want], len(b), want)}
	}
	*a = Advert{Version: ver, VRID: b[1], Priority: b[2], Checksum: binary.BigEndian.Uint16(b[6:])}
	if ver == 2 {
		a.AuthType = b[4]
		a.Interval = uint16(b[5]) * 100
	} else {
		a.Interval = binary.BigEndian.Uint16(b[4:]) & 0x0fff
	}
	a.Addrs = make([]netip.Addr, 0, n)
	off := headerLen
	for range n {
		if v6 {
			a.Addrs = append(a.Addrs, netip.AddrFrom16([16]byte(b[off:off+16])))
		} else {
			a.Addrs = append(a.Addrs, netip.AddrFrom4([4]byte(b[off:off+4])))
		}
		off += alen
	}
	if ver == 2 {
		copy(a.AuthData[:], b[off:])
	}
	return nil
}

// VerifyChecksum checks the checksum of the raw message b received from src
// to dst. For VRRPv3 over IPv4 both flavours are accepted (with and without
// pseudo-header) so varde interoperates with keepalived and with RFC 9568
// routers; pseudo reports which one matched.
func VerifyChecksum(b []byte, src, dst netip.Addr) (ok, pseudo bool) {
	if len(b) < headerLen {
		return false, false
	}
	if b[0]>>4 == 2 {
		return Checksum(b, netip.Addr{}, netip.Addr{}) == 0, false
	}
	if src.IsValid() && dst.IsValid() && Checksum(b, src, dst) == 0 {
		return true, true
	}
	if src.Is6() {
		return false, false
	}
	return Checksum(b, netip.Addr{}, netip.Addr{}) == 0, false
}

// Checksum is the Internet checksum (RFC 1071) of msg, preceded by the
// IPv4/IPv6 pseudo-header when src and dst are valid. Computed over a message
// whose checksum field is zero it yields the value to store; over a received
// message it yields 0 when the checksum is right.
func Checksum(msg []byte, src, dst netip.Addr) uint16 {
	var s uint32
	add := func(p []byte) {
		for len(p) >= 2 {
			s += uint32(p[0])<<8 | uint32(p[1])
			p = p[2:]
		}
		if len(p) == 1 {
			s += uint32(p[0]) << 8
		}
	}
	if src.IsValid() && dst.IsValid() {
		s16, d16 := src.AsSlice(), dst.AsSlice()
		add(s16)
		add(d16)
		if src.Is6() {
			s += uint32(len(msg)>>16) + uint32(len(msg)&0xffff) + Protocol
		} else {
			s += Protocol + uint32(len(msg))
		}
	}
	add(msg)
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
