// Package stdout registers the `stdout` and `stderr` log targets: each batch
// is one write(2) to the process's standard output or error.
package stdout

import (
	"io"
	"os"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/logpipe"
)

func init() {
	logpipe.RegisterTarget(core.SinkScheme{Name: "stdout", NoAddress: true}, func(_ logpipe.TargetSpec, env logpipe.SinkEnv) (logpipe.Sink, error) {
		if env.Stdout != nil {
			return &Sink{f: env.Stdout}, nil
		}
		return &Sink{f: os.Stdout}, nil
	})
	logpipe.RegisterTarget(core.SinkScheme{Name: "stderr", NoAddress: true}, func(_ logpipe.TargetSpec, env logpipe.SinkEnv) (logpipe.Sink, error) {
		if env.Stderr != nil {
			return &Sink{f: env.Stderr}, nil
		}
		return &Sink{f: os.Stderr}, nil
	})
}

// Sink writes newline-framed batches to a stream it does not own.
type Sink struct{ f io.Writer }

// Framing implements logpipe.Sink.
func (s *Sink) Framing() logpipe.Framing { return logpipe.FrameNewline }

// Write implements logpipe.Sink.
func (s *Sink) Write(buf []byte, _ []int) error {
	_, err := s.f.Write(buf)
	return err
}

// Close implements logpipe.Sink; the standard streams stay open.
func (s *Sink) Close() error { return nil }
