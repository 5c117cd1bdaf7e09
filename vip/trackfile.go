package vip

import (
	"math"
	"os"
	"strings"
)

// trackFileValue reads a track_file as keepalived does: at most the first
// 127 bytes, parsed by strtol with base 0 (leading blanks and sign, 0x
// hex, 0 octal, digits up to the first other character). A missing, empty
// or unreadable file, or one without a number, reads as 0. ok is false for
// a number outside int32 (keepalived ignores it and keeps the last value).
func trackFileValue(path string) (v int64, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, true
	}
	defer f.Close()
	buf := make([]byte, 127)
	n, _ := f.Read(buf)
	return strtol(string(buf[:n]))
}

// strtol is C's strtol(s, NULL, 0) restricted to what keepalived accepts:
// values in [INT32_MIN, INT32_MAX+1]; ok is false beyond (or on overflow).
func strtol(s string) (int64, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := uint64(10)
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hexDigit(s[2]) >= 0:
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base = 8
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d := hexDigit(s[i])
		if d < 0 || uint64(d) >= base {
			break
		}
		v = v*base + uint64(d)
		if v > 1<<40 { // far beyond int32: keepalived rejects it
			return 0, false
		}
	}
	r := int64(v)
	if neg {
		r = -r
	}
	if r < math.MinInt32 || r > math.MaxInt32+1 {
		return 0, false
	}
	return r, true
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// trackFileEffect is what value v of a file tracked with weight w does to
// an instance (keepalived's process_update_vrrp_track_file_status): with
// weight 0, v != 0 is FAULT (reverse: v == 0 is); otherwise v x w (negated
// by reverse), capped at 253, is added to the priority, and -254 or less
// is FAULT.
func trackFileEffect(v int64, w int, reverse bool) (delta int, fault bool) {
	if w == 0 {
		return 0, (v != 0) != reverse
	}
	p := v * int64(w)
	if reverse {
		p = -p
	}
	if p <= -254 {
		return 0, true
	}
	return int(min(p, 253)), false
}
