package logpipe

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// unsafeString views b as a string for a call that does not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// ParseDuration reads HAProxy-style durations: a number with an optional
// unit us, ms, s, m, h, d (no unit = milliseconds, as in HAProxy).
func ParseDuration(s string) (time.Duration, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, errors.New("duration must start with a number")
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, err
	}
	unit := time.Millisecond
	switch strings.ToLower(s[i:]) {
	case "", "ms":
	case "us":
		unit = time.Microsecond
	case "s":
		unit = time.Second
	case "m":
		unit = time.Minute
	case "h":
		unit = time.Hour
	case "d":
		unit = 24 * time.Hour
	default:
		return 0, fmt.Errorf("unknown unit %q (us, ms, s, m, h, d)", s[i:])
	}
	return time.Duration(n) * unit, nil
}

// ParseSize reads sizes like 100, 64k, 10M, 1G (bytes, powers of 1024).
func ParseSize(s string) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, errors.New("size must start with a number")
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, err
	}
	switch strings.ToLower(strings.TrimSuffix(strings.ToLower(s[i:]), "b")) {
	case "":
	case "k":
		n <<= 10
	case "m":
		n <<= 20
	case "g":
		n <<= 30
	default:
		return 0, fmt.Errorf("unknown size unit %q (k, m, g)", s[i:])
	}
	return n, nil
}
