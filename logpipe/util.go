package logpipe

import (
	"fmt"
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
