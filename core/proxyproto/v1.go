package proxyproto

import (
	"bytes"
	"net/netip"
)

// parseV1 parses "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or
// "PROXY UNKNOWN[ anything]\r\n", at most MaxV1Len bytes.
func parseV1(b []byte, h *Header) (int, error) {
	if err := prefixOf(b, v1Prefix); err != nil {
		return 0, err
	}
	lim := b[:min(len(b), MaxV1Len)]
	end := bytes.IndexByte(lim, '\n')
	if end < 0 {
		if len(b) >= MaxV1Len {
			return 0, ErrInvalid
		}
		return 0, ErrIncomplete
	}
	if end == 0 || b[end-1] != '\r' {
		return 0, ErrInvalid
	}
	n := end + 1
	line := b[len(v1Prefix) : end-1]
	h.Version = 1
	proto, rest := cut(line)
	switch string(proto) {
	case "UNKNOWN":
		// The receiver must ignore whatever follows (the spec).
		h.Local = true
		return n, nil
	case "TCP4", "TCP6":
	default:
		return 0, ErrInvalid
	}
	v6 := proto[3] == '6'
	src, rest := cut(rest)
	dst, rest := cut(rest)
	sport, rest := cut(rest)
	dport, rest := cut(rest)
	if rest != nil {
		return 0, ErrInvalid // more fields than the five
	}
	sa, ok1 := parseAddr(src, v6)
	da, ok2 := parseAddr(dst, v6)
	sp, ok3 := parsePort(sport)
	dp, ok4 := parsePort(dport)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, ErrInvalid
	}
	h.Src, h.Dst = netip.AddrPortFrom(sa, sp), netip.AddrPortFrom(da, dp)
	return n, nil
}

// cut splits at the first single space. rest is nil when there is no
// space; an empty field (two spaces) is returned as empty and fails later.
func cut(b []byte) (field, rest []byte) {
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i+1:]
}

// parseAddr parses a dotted-quad IPv4 address without allocating, or an
// IPv6 address (through netip, one allocation: version 1 over IPv6 is not
// the hot path). An IPv4-mapped IPv6 address (what a sender writes when
// the two ends have different families) is taken as the IPv4 address.
func parseAddr(b []byte, v6 bool) (netip.Addr, bool) {
	if !v6 {
		return parseV4(b)
	}
	if len(b) == 0 || len(b) > 45 || bytes.IndexByte(b, ':') < 0 || bytes.IndexByte(b, '%') >= 0 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func parseV4(b []byte) (netip.Addr, bool) {
	var out [4]byte
	part := 0
	val, digits := 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || part > 3 {
				return netip.Addr{}, false
			}
			out[part] = byte(val)
			part++
			val, digits = 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' || (digits == 1 && val == 0) {
			return netip.Addr{}, false // not a digit, or a leading zero
		}
		val = val*10 + int(c-'0')
		digits++
		if val > 255 {
			return netip.Addr{}, false
		}
	}
	if part != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(out), true
}

// parsePort parses a decimal port 0..65535 without leading zeros (the
// spec: "no leading zero").
func parsePort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > 65535 {
		return 0, false
	}
	return uint16(v), true
}
