package logpipe_test

// logpipe reads log targets through core's registry, which the sink
// plugins fill: link them, as the varde binary does. (An external test
// package, since the sinks import logpipe.)
import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/logpipe"
	_ "github.com/varde-lb/varde/plugins/all"
)

// TestParseLogLineDefaults: the tools' parser is the configuration's, with
// each sink's registered default format and port 514.
func TestParseLogLineDefaults(t *testing.T) {
	for line, want := range map[string]logpipe.TargetSpec{
		"127.0.0.1 local0":            {Scheme: "udp", Address: "127.0.0.1:514", Format: logpipe.FormatRFC3164, Facility: 16, Level: 7},
		"udp6@[::1]:1514 user err":    {Scheme: "udp", Address: "[::1]:1514", Format: logpipe.FormatRFC3164, Facility: 1, Level: 3},
		"tcp@10.0.0.1 daemon":         {Scheme: "tcp", Address: "10.0.0.1:514", Format: logpipe.FormatRFC3164, Facility: 3, Level: 7},
		"/dev/log local7 notice":      {Scheme: "unix", Address: "/dev/log", Format: logpipe.FormatRFC3164, Facility: 23, Level: 5},
		"stdout format raw daemon":    {Scheme: "stdout", Format: logpipe.FormatRaw, Facility: 3, Level: 7},
		"fd@2 format short daemon":    {Scheme: "stderr", Format: logpipe.FormatShort, Facility: 3, Level: 7},
		"file@/var/x.log local0 info": {Scheme: "file", Address: "/var/x.log", Format: logpipe.FormatRaw, Facility: 16, Level: 6},
	} {
		got, err := logpipe.ParseLogLine(strings.Fields(line))
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		got.Raw = ""
		if got.Scheme != want.Scheme || got.Address != want.Address || got.Format != want.Format || got.Facility != want.Facility || got.Level != want.Level {
			t.Errorf("%s:\n got %+v\nwant %+v", line, got, want)
		}
	}
}
