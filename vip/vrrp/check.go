package vrrp

import (
	"crypto/subtle"
	"fmt"
	"net/netip"
)

// Reason is why a received advert was dropped; each has its own counter.
type Reason int

// Drop reasons, in the order keepalived 2.2.7 checks them (vrrp_check_packet).
const (
	ReasonNone Reason = iota
	ReasonTooShort
	ReasonTTL
	ReasonVersion
	ReasonAuthType
	ReasonAuthMismatch
	ReasonPassword
	ReasonInterval
	ReasonType
	ReasonAddrCount
	ReasonLength
	ReasonChecksum
	ReasonMulticast
	ReasonAddrList
	ReasonUnknownVRID
	NumReasons
)

var reasonNames = [...]string{"none", "too_short", "ttl", "version", "auth_type", "auth_mismatch", "password", "interval", "type", "addr_count", "length", "checksum", "multicast", "addr_list", "unknown_vrid"}

// String is the reason's metric label.
func (r Reason) String() string {
	if r < 0 || int(r) >= len(reasonNames) {
		return "unknown"
	}
	return reasonNames[r]
}

// Error is a rejected advert: the reason to count and keepalived's wording
// of it, to log after the instance name.
type Error struct {
	Reason Reason
	Detail string
}

func (e *Error) Error() string { return e.Detail }

func drop(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// Local is what an instance expects of the adverts it receives.
type Local struct {
	Version  uint8
	VRID     uint8
	Interval uint16 // centiseconds
	AuthType uint8
	AuthData [8]byte
	Addrs    []netip.Addr
	Unicast  bool // instance configured with unicast_peer
}

// Received is one packet as read from the socket.
type Received struct {
	Payload []byte // the VRRP message, IP header stripped
	Src     netip.Addr
	Dst     netip.Addr
	TTL     int // TTL / hop limit; < 0 when unknown
}

// Check decodes r and applies keepalived's receive checks in its order. An
// advert for another VRID returns ReasonUnknownVRID (silently ignored by
// keepalived; count it, do not log it).
func (l *Local) Check(r Received) (*Advert, error) {
	b := r.Payload
	v6 := r.Src.Is6()
	if len(b) < headerLen {
		return nil, drop(ReasonTooShort, "VRRP packet too short - %d bytes", len(b))
	}
	if b[1] != l.VRID {
		return nil, drop(ReasonUnknownVRID, "Unknown VRID(%d) received", b[1])
	}
	multicast := r.Dst.IsMulticast()
	if !l.Unicast && r.TTL >= 0 && r.TTL != 255 {
		return nil, drop(ReasonTTL, "invalid TTL/HL. Received %d and expect 255", r.TTL)
	}
	if ver := b[0] >> 4; ver != l.Version {
		return nil, drop(ReasonVersion, "wrong version. Received %d and expect %d", ver, l.Version)
	}
	if l.Version == 2 {
		at := b[4]
		if at > AuthAH {
			return nil, drop(ReasonAuthType, "Invalid auth type: %d", at)
		}
		if at != l.AuthType {
			return nil, drop(ReasonAuthMismatch, "received a %d auth, expecting %d!", at, l.AuthType)
		}
		if at == AuthPass {
			if len(b) < headerLen+authLen {
				return nil, drop(ReasonTooShort, "VRRP packet too short - %d bytes", len(b))
			}
			pw := b[len(b)-authLen:]
			if subtle.ConstantTimeCompare(pw, l.AuthData[:]) != 1 {
				return nil, drop(ReasonPassword, "received an invalid passwd!")
			}
		}
		if int(b[5])*100 != int(l.Interval) {
			return nil, drop(ReasonInterval, "advertisement interval mismatch mine=%d sec rcv'd=%d sec", l.Interval/100, b[5])
		}
	}
	if typ := b[0] & 0x0f; typ != 1 {
		return nil, drop(ReasonType, "Invalid packet type. %d and expect 1", typ)
	}
	if n := int(b[3]); n != len(l.Addrs) {
		return nil, drop(ReasonAddrCount, "received an unexpected ip number count %d, expected %d!", n, len(l.Addrs))
	}
	var a Advert
	if err := a.Unmarshal(b, v6); err != nil {
		return nil, err
	}
	// The kernel verifies IPv6 checksums (IPV6_CHECKSUM); a raw payload
	// without addresses is still checked when both are known.
	if ok, _ := VerifyChecksum(b, r.Src, r.Dst); !ok && (!v6 || r.Dst.IsValid()) {
		return nil, drop(ReasonChecksum, "Invalid VRRPv%d checksum", a.Version)
	}
	if r.Dst.IsValid() && multicast == l.Unicast {
		if l.Unicast {
			return nil, drop(ReasonMulticast, "Expected unicast packet but received multicast packet")
		}
		return nil, drop(ReasonMulticast, "Expected multicast packet but received unicast packet")
	}
	for _, want := range l.Addrs {
		found := false
		for _, got := range a.Addrs {
			if got == want {
				found = true
				break
			}
		}
		if !found {
			return nil, drop(ReasonAddrList, "ip address associated with VRID %d not present in MASTER advert: %s", l.VRID, want)
		}
	}
	return &a, nil
}
