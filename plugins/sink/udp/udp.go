// Package udp registers the UDP syslog target (`log HOST:PORT` or
// `udp@HOST:PORT`): one datagram per message, never blocking, as HAProxy.
package udp

import (
	"errors"
	"fmt"
	"net"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/logpipe"
)

func init() {
	logpipe.RegisterTarget(core.SinkScheme{
		Name:     "udp",
		Aliases:  []string{"udp4", "udp6", "ipv4", "ipv6"},
		HostPort: true,
		Check:    check,
	}, func(t logpipe.TargetSpec, _ logpipe.SinkEnv) (logpipe.Sink, error) {
		return Dial(t.Address)
	})
}

// check resolves the address as Dial will at start, so that a host name
// that does not resolve is a configuration error, not a failed start.
func check(t core.LogTarget) error {
	if _, err := net.ResolveUDPAddr("udp", t.Address); err != nil {
		return core.ArgErrorf(-1, "use an address or a name that resolves", "cannot resolve %s: %v", t.Address, err)
	}
	return nil
}

// Sink sends each message as one datagram.
type Sink struct{ conn net.Conn }

// Dial resolves addr once and connects a UDP socket to it.
func Dial(addr string) (*Sink, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("udp sink: %w", err)
	}
	return &Sink{conn: c}, nil
}

// Framing implements logpipe.Sink.
func (s *Sink) Framing() logpipe.Framing { return logpipe.FrameDatagram }

// Write sends every message; a refused or failed datagram does not stop the
// others (syslog over UDP has no delivery guarantee anyway).
func (s *Sink) Write(buf []byte, ends []int) error {
	var errs []error
	start := 0
	for _, e := range ends {
		if _, err := s.conn.Write(buf[start:e]); err != nil && len(errs) < 1 {
			errs = append(errs, err)
		}
		start = e
	}
	return errors.Join(errs...)
}

// Close implements logpipe.Sink.
func (s *Sink) Close() error { return s.conn.Close() }
