package logpipe

import (
	"sync/atomic"

	"github.com/varde-lb/varde/core"
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

// ParseSample parses "1-3,5:10" with core's parser, the one core/config
// judges the option with.
func ParseSample(s string) (*sampler, error) {
	keep, err := core.ParseLogSample(s)
	if err != nil {
		return nil, err
	}
	return &sampler{size: uint64(len(keep)), keep: keep}, nil
}

// take reports whether the next record goes to this target.
func (s *sampler) take() bool {
	if s == nil {
		return true
	}
	return s.keep[(s.n.Add(1)-1)%s.size]
}
