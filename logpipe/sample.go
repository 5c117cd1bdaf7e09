package logpipe

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// sampler is HAProxy's `log ... sample RANGES:SIZE`: of every SIZE records
// offered to the target, only those whose position (1..SIZE) falls in
// RANGES are sent, e.g. `sample 1:2` and `sample 2:2` on two syslog servers
// split the load between them.
type sampler struct {
	size uint64
	keep []bool // index 0..size-1
	n    atomic.Uint64
}

// ParseSample parses "1-3,5:10".
func ParseSample(s string) (*sampler, error) {
	ranges, sizeStr, ok := strings.Cut(s, ":")
	size, err := strconv.Atoi(sizeStr)
	if !ok || err != nil || size < 1 || size > 1<<16 {
		return nil, fmt.Errorf("sample %q: want RANGES:SIZE, e.g. 1:2 or 1-3,5:10", s)
	}
	sm := &sampler{size: uint64(size), keep: make([]bool, size)}
	for _, r := range strings.Split(ranges, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 1 || b < a || b > size {
			return nil, fmt.Errorf("sample %q: range %q must be within 1..%d", s, r, size)
		}
		for i := a; i <= b; i++ {
			sm.keep[i-1] = true
		}
	}
	return sm, nil
}

// take reports whether the next record goes to this target.
func (s *sampler) take() bool {
	if s == nil {
		return true
	}
	return s.keep[(s.n.Add(1)-1)%s.size]
}
