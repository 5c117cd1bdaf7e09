// Package unix registers the UNIX datagram socket target (`log /dev/log`,
// `unix@/path`): one datagram per message.
package unix

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/logpipe"
)

func init() {
	// A bare path on a log line is this target too (core.ParseLogTarget).
	// No Check: the socket is connected lazily, as the syslog daemon may
	// start after varde.
	logpipe.RegisterTarget(core.SinkScheme{Name: "unix", Aliases: []string{"uxdg"}}, func(t logpipe.TargetSpec, _ logpipe.SinkEnv) (logpipe.Sink, error) {
		return New(t.Address), nil
	})
}

// New returns a sink for the datagram socket at path; it connects lazily.
func New(path string) *Sink { return &Sink{path: path} }

// Sink sends datagrams to a UNIX socket, reconnecting after errors (the
// syslog daemon may restart and recreate its socket).
type Sink struct {
	path string
	mu   sync.Mutex
	conn net.Conn
}

// Framing implements logpipe.Sink.
func (s *Sink) Framing() logpipe.Framing { return logpipe.FrameDatagram }

// Write implements logpipe.Sink.
func (s *Sink) Write(buf []byte, ends []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		c, err := net.Dial("unixgram", s.path)
		if err != nil {
			return fmt.Errorf("unix sink: %w", err)
		}
		s.conn = c
	}
	var errs []error
	start := 0
	for _, e := range ends {
		if _, err := s.conn.Write(buf[start:e]); err != nil && len(errs) == 0 {
			errs = append(errs, err)
		}
		start = e
	}
	if len(errs) > 0 {
		s.conn.Close()
		s.conn = nil
	}
	return errors.Join(errs...)
}

// Close implements logpipe.Sink.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
