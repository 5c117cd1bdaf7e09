//go:build !linux

package proxy

import (
	"net"
	"sync/atomic"
	"time"
)

// Off Linux nothing splices: bodies and tunnels are copied in user space.

func (s *session) trySplice(_, _ net.Conn, _, _ time.Duration, _ int64) (read, written int64, res copyResult, ok bool) {
	return 0, 0, copyDone, false
}

func pipeSpliced(_, _ net.Conn, _ time.Duration, _ *atomic.Int64, _ *atomic.Bool, _ time.Duration, _, _ byte) (int64, byte, bool) {
	return 0, 0, false
}

const spliceMin = 16 << 10
