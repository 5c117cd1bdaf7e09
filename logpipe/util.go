package logpipe

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/varde-lb/varde/core/config"
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// unsafeString views b as a string for a call that does not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// ParseDuration reads HAProxy-style durations (no unit = milliseconds). It
// is core/config's parser, so a log option reads exactly as the rest of the
// configuration.
func ParseDuration(s string) (time.Duration, error) { return config.ParseDuration(s) }

// ParseSize reads sizes like 100, 64k, 10M, 1G (bytes, powers of 1024), with
// core/config's parser.
func ParseSize(s string) (int64, error) { return config.ParseSize(s) }
