package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads an HAProxy time value: a number with an optional unit
// us, ms, s, m, h or d; without a unit the value is in milliseconds.
func ParseDuration(s string) (time.Duration, error) {
	return parseDurationUnit(s, time.Millisecond)
}

func parseDurationUnit(s string, def time.Duration) (time.Duration, error) {
	d, rest, err := parseDurationPrefix(s, def)
	if err == nil && rest != "" {
		return 0, fmt.Errorf("invalid time unit %q in %q (use us, ms, s, m, h or d)", s[len(s)-len(rest)-1:], s)
	}
	return d, err
}

// parseDurationPrefix reads a time value as HAProxy 2.6's parse_time_err
// does: a number, an optional unit, and then rest, what follows a valid
// unit (HAProxy keeps the value and only warns about it). An unknown unit
// is an error.
func parseDurationPrefix(s string, def time.Duration) (d time.Duration, rest string, err error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, "", fmt.Errorf("invalid time value %q", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("time value %q out of range", s)
	}
	unit, ulen := timeUnit(s[i:], def)
	if ulen < 0 {
		return 0, "", fmt.Errorf("invalid time unit %q in %q (use us, ms, s, m, h or d)", s[i:], s)
	}
	if n > int64((1<<63-1)/unit) {
		return 0, "", fmt.Errorf("time value %q out of range", s)
	}
	return time.Duration(n) * unit, s[i+ulen:], nil
}

// timeUnit reads the unit at the start of u: its length, 0 for none (def
// applies), -1 for an unknown one.
func timeUnit(u string, def time.Duration) (time.Duration, int) {
	for _, c := range [...]struct {
		name string
		unit time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}} {
		if strings.HasPrefix(u, c.name) {
			return c.unit, len(c.name)
		}
	}
	if u == "" {
		return def, 0
	}
	return 0, -1
}

// ParseSize reads a size with an optional k, m or g suffix (powers of 1024,
// as HAProxy reads them).
func ParseSize(s string) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q out of range", s)
	}
	var mul int64 = 1
	switch strings.ToLower(s[i:]) {
	case "":
	case "k", "kb":
		mul = 1 << 10
	case "m", "mb":
		mul = 1 << 20
	case "g", "gb":
		mul = 1 << 30
	default:
		return 0, fmt.Errorf("invalid size unit %q in %q (use k, m or g)", s[i:], s)
	}
	if n > (1<<63-1)/mul {
		return 0, fmt.Errorf("size %q out of range", s)
	}
	return n * mul, nil
}

// ParseInt reads a decimal integer within [min, max].
func ParseInt(s string, min, max int64) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < min || n > max {
		return 0, fmt.Errorf("%d is out of range %d..%d", n, min, max)
	}
	return n, nil
}

// Address is a host and port as written on a bind, server or log line.
type Address struct {
	Raw string `json:"raw"`
	// Addr is set when the host is an IP literal or a wildcard (*, empty,
	// ::) and the port is known.
	Addr netip.AddrPort `json:"addr,omitzero"`
	// Host is set when the host is a name to resolve at start-up.
	Host string `json:"host,omitempty"`
	// Port is 0 when no port was given (HAProxy then uses the client's
	// destination port for servers).
	Port uint16 `json:"port,omitempty"`
	// PortEnd is the end of a port range (bind 10000-10010), else 0.
	PortEnd uint16 `json:"port_end,omitempty"`
	// Wildcard marks "*:80", ":80", ":::80", "0.0.0.0:80".
	Wildcard bool `json:"wildcard,omitempty"`
	// PortMap marks a server address without a fixed port (none, 0, +N,
	// -N): connections go to the client's destination port plus
	// PortOffset (serverresolve.go).
	PortMap    bool `json:"port_map,omitempty"`
	PortOffset int  `json:"port_offset,omitempty"`
}

var errNoPort = errors.New("missing port")

// ParseAddress reads HOST:PORT, [V6]:PORT, V6:PORT (last colon splits, as
// HAProxy does), *:PORT and :PORT. With needPort, a missing port is an error.
// An optional "ipv4@" or "ipv6@" prefix is accepted.
func ParseAddress(s string, needPort bool) (Address, error) {
	a := Address{Raw: s}
	rest := s
	if p, ok := strings.CutPrefix(rest, "ipv4@"); ok {
		rest = p
	} else if p, ok := strings.CutPrefix(rest, "ipv6@"); ok {
		rest = p
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return a, fmt.Errorf("invalid address %q: missing ']'", s)
		}
		host = rest[1:end]
		tail := rest[end+1:]
		if tail != "" {
			if tail[0] != ':' {
				return a, fmt.Errorf("invalid address %q", s)
			}
			port = tail[1:]
		}
	} else if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		host, port = rest[:i], rest[i+1:]
		// "::1" without port: a bare IPv6 literal whose last group is not
		// a port. HAProxy always takes the last colon as the separator, so
		// we do too, except when the whole thing is a valid IPv6 and a
		// port is not required.
		if !needPort {
			if ip, err := netip.ParseAddr(rest); err == nil && ip.Is6() {
				host, port = rest, ""
			}
		}
	}
	if port != "" {
		lo, hi, _ := strings.Cut(port, "-")
		p, err := strconv.ParseUint(lo, 10, 16)
		if err != nil || p == 0 {
			return a, fmt.Errorf("invalid port %q in %q (1..65535)", port, s)
		}
		a.Port = uint16(p)
		if hi != "" {
			q, err := strconv.ParseUint(hi, 10, 16)
			if err != nil || q < p {
				return a, fmt.Errorf("invalid port range %q in %q", port, s)
			}
			a.PortEnd = uint16(q)
		}
	} else if needPort {
		return a, fmt.Errorf("invalid address %q: %w", s, errNoPort)
	}
	switch host {
	case "", "*", "0.0.0.0":
		a.Wildcard = true
		a.Addr = netip.AddrPortFrom(netip.IPv4Unspecified(), a.Port)
		return a, nil
	case "::":
		a.Wildcard = true
		a.Addr = netip.AddrPortFrom(netip.IPv6Unspecified(), a.Port)
		return a, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		a.Addr = netip.AddrPortFrom(ip, a.Port)
		return a, nil
	}
	if !validHostname(host) {
		return a, fmt.Errorf("invalid address %q: %q is neither an IP address nor a host name", s, host)
	}
	a.Host = host
	return a, nil
}

func validHostname(h string) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
			if !ok {
				return false
			}
		}
	}
	// all-numeric dotted strings are malformed IPs, not names
	allNum := true
	for i := 0; i < len(h); i++ {
		if !(h[i] == '.' || (h[i] >= '0' && h[i] <= '9')) {
			allNum = false
		}
	}
	return !allNum
}

// parsePrefixOrAddr reads an IP address or a CIDR network.
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			// HAProxy also accepts a dotted netmask: 10.0.0.0/255.0.0.0
			addr, mask, _ := strings.Cut(s, "/")
			a, err1 := netip.ParseAddr(addr)
			m, err2 := netip.ParseAddr(mask)
			if err1 == nil && err2 == nil && a.Is4() && m.Is4() {
				bits := 0
				mb := m.As4()
				ok := true
				for _, b := range mb {
					for i := 7; i >= 0; i-- {
						if b&(1<<i) != 0 {
							if !ok {
								return netip.Prefix{}, fmt.Errorf("invalid netmask in %q", s)
							}
							bits++
						} else {
							ok = false
						}
					}
				}
				return netip.PrefixFrom(a, bits), nil
			}
			return netip.Prefix{}, fmt.Errorf("invalid network %q", s)
		}
		return pf, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid IP address %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
