// Package tcp registers the TCP syslog target (`tcp@HOST:PORT`): RFC 6587
// octet-counted framing, one write per batch, reconnection with backoff.
package tcp

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/logpipe"
)

func init() {
	// No Check: the sink connects (and resolves) lazily and reconnects,
	// so an unreachable server at start is not an error, as in HAProxy.
	logpipe.RegisterTarget(core.SinkScheme{Name: "tcp", Aliases: []string{"tcp4", "tcp6"}, HostPort: true}, func(t logpipe.TargetSpec, env logpipe.SinkEnv) (logpipe.Sink, error) {
		return New(t.Address), nil
	})
}

// Backoff bounds between reconnection attempts.
const (
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 10 * time.Second
	dialTimeout  = 2 * time.Second
	writeTimeout = 5 * time.Second
)

// ErrDisconnected is returned while waiting to reconnect.
var ErrDisconnected = errors.New("tcp sink: disconnected, waiting to reconnect")

// Sink writes octet-counted syslog messages over one TCP connection.
type Sink struct {
	addr    string
	mu      sync.Mutex
	conn    net.Conn
	backoff time.Duration
	retryAt time.Time
}

// New returns a sink that connects lazily to addr.
func New(addr string) *Sink { return &Sink{addr: addr} }

// Framing implements logpipe.Sink.
func (s *Sink) Framing() logpipe.Framing { return logpipe.FrameOctetCount }

// Write sends the batch in one write. A write that fails or times out
// closes the connection (a partial frame would corrupt the stream) and the
// batch is reported failed; the next batch reconnects once the backoff has
// passed.
func (s *Sink) Write(buf []byte, _ []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		if time.Now().Before(s.retryAt) {
			return ErrDisconnected
		}
		c, err := net.DialTimeout("tcp", s.addr, dialTimeout)
		if err != nil {
			s.fail()
			return fmt.Errorf("tcp sink: %w", err)
		}
		s.conn, s.backoff = c, 0
	}
	s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := s.conn.Write(buf); err != nil {
		s.conn.Close()
		s.conn = nil
		s.fail()
		return fmt.Errorf("tcp sink: %w", err)
	}
	return nil
}

func (s *Sink) fail() {
	switch {
	case s.backoff == 0:
		s.backoff = minBackoff
	case s.backoff < maxBackoff:
		s.backoff = min(2*s.backoff, maxBackoff)
	}
	s.retryAt = time.Now().Add(s.backoff)
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
