package logpipe

import (
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
)

// TargetSpec is one log target: HAProxy's `log` line plus varde's options.
type TargetSpec struct {
	// Where: Scheme is udp, tcp, unix, file, stdout or stderr; Address is
	// host:port for udp/tcp and a path for unix/file.
	Scheme  string
	Address string
	Raw     string // as written, for messages

	Len      int          // max message length (0 = default: 1024, 64 KiB for files)
	Format   SyslogFormat // header format
	Facility int
	Level    int // highest level sent (traffic logs are info)

	Sample      string // HAProxy's RANGES:SIZE load sharing; "" = every record
	Anon        AnonSpec
	Retention   time.Duration
	RotateSize  int64
	Keep        int
	Compress    bool
	RotateEvery time.Duration
}

// RegisterTarget registers a sink plugin in one call: its target syntax
// and checks with core (so core/config parses and checks `log` lines with
// them) and its factory with the pipeline.
func RegisterTarget(s core.SinkScheme, f SinkFactory) {
	core.RegisterSinkScheme(s)
	RegisterSink(s.Name, f)
}

// ParseLogLine parses the words after `log` (not `log global`) with the
// configuration's own parser, so tools and tests read a line exactly as
// varde check and varde run do.
func ParseLogLine(words []string) (TargetSpec, error) {
	l, err := config.ParseLogLine(words)
	if err != nil {
		return TargetSpec{}, err
	}
	return targetFromConfig(l)
}

// defaultFormat is the sink's registered default format, else rfc3164.
func defaultFormat(scheme string) SyslogFormat {
	if sc, ok := core.LookupSinkScheme(scheme); ok && sc.Format != "" {
		if f, ok := formatNames[sc.Format]; ok {
			return f
		}
	}
	return FormatRFC3164
}
