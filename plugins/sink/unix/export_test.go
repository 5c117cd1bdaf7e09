package unix_test

import (
	"testing"

	"github.com/varde-lb/varde/logpipe"
	"github.com/varde-lb/varde/plugins/sink/unix"
)

func mustSink(t *testing.T, spec logpipe.TargetSpec) *unix.Sink {
	t.Helper()
	return unix.New(spec.Address)
}
