package logpipe

import (
	"fmt"
	"strconv"
	"strings"
	"time"

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

// ParseTarget splits a target as written on a `log` line: "udp@h:p",
// "h:p", "tcp@h:p", "unix@/dev/log", "/dev/log", "file@/path", "stdout",
// "stderr", "fd@1", "fd@2".
func ParseTarget(s string) (scheme, addr string, err error) {
	switch s {
	case "stdout", "fd@1":
		return "stdout", "", nil
	case "stderr", "fd@2":
		return "stderr", "", nil
	}
	if i := strings.Index(s, "@"); i > 0 {
		scheme, addr = s[:i], s[i+1:]
		switch scheme {
		case "udp", "udp4", "udp6", "ipv4", "ipv6":
			scheme = "udp"
		case "tcp", "tcp4", "tcp6":
			scheme = "tcp"
		case "unix", "uxdg":
			scheme = "unix"
		case "file":
		default:
			return "", "", fmt.Errorf("log target %q: unknown scheme %q (udp@, tcp@, unix@, file@, stdout, stderr)", s, scheme)
		}
	} else if strings.HasPrefix(s, "/") {
		scheme, addr = "unix", s
	} else {
		scheme, addr = "udp", s
	}
	if addr == "" {
		return "", "", fmt.Errorf("log target %q: missing address", s)
	}
	if scheme == "udp" || scheme == "tcp" {
		if !strings.Contains(addr, ":") || strings.HasSuffix(addr, "]") {
			addr += ":514"
		}
	}
	return scheme, addr, nil
}

// ParseLogLine parses the words after `log` (not `log global`):
// TARGET [len N] [format F] [anonymize ...] [retention DUR] [rotate SIZE]
// [keep N] [compress] [rotate-every DUR] FACILITY [LEVEL [MINLEVEL]].
// It serves tests and tools; the server reads the same facts from
// core/config.
func ParseLogLine(words []string) (TargetSpec, error) {
	var t TargetSpec
	if len(words) == 0 {
		return t, fmt.Errorf("log: missing target")
	}
	var err error
	t.Raw = words[0]
	if t.Scheme, t.Address, err = ParseTarget(words[0]); err != nil {
		return t, err
	}
	t.Format = defaultFormat(t.Scheme)
	t.Level = 7
	t.Facility = -1
	rest := words[1:]
	levelSeen := false
	for len(rest) > 0 {
		w := rest[0]
		need := func() (string, error) {
			if len(rest) < 2 {
				return "", fmt.Errorf("log %s: %s needs a value", t.Raw, w)
			}
			return rest[1], nil
		}
		switch w {
		case "len":
			v, err := need()
			if err != nil {
				return t, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 80 || n > 65535 {
				return t, fmt.Errorf("log %s: len %q: want 80..65535", t.Raw, v)
			}
			t.Len, rest = n, rest[2:]
		case "format":
			v, err := need()
			if err != nil {
				return t, err
			}
			f, ok := formatNames[v]
			if !ok {
				return t, fmt.Errorf("log %s: format %q: want raw, local, rfc3164, rfc5424, short, priority, timed or iso", t.Raw, v)
			}
			t.Format, rest = f, rest[2:]
		case "anonymize":
			a, n, err := ParseAnon(rest[1:])
			if err != nil {
				return t, fmt.Errorf("log %s: %w", t.Raw, err)
			}
			t.Anon, rest = a, rest[1+n:]
		case "retention", "rotate-every":
			v, err := need()
			if err != nil {
				return t, err
			}
			d, err := config.ParseDuration(v)
			if err != nil || d <= 0 {
				return t, fmt.Errorf("log %s: %s %q: want a duration (e.g. 7d)", t.Raw, w, v)
			}
			if w == "retention" {
				t.Retention = d
			} else {
				t.RotateEvery = d
			}
			rest = rest[2:]
		case "rotate":
			v, err := need()
			if err != nil {
				return t, err
			}
			n, err := config.ParseSize(v)
			if err != nil || n <= 0 {
				return t, fmt.Errorf("log %s: rotate %q: want a size (e.g. 100M)", t.Raw, v)
			}
			t.RotateSize, rest = n, rest[2:]
		case "keep":
			v, err := need()
			if err != nil {
				return t, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return t, fmt.Errorf("log %s: keep %q: want a count", t.Raw, v)
			}
			t.Keep, rest = n, rest[2:]
		case "compress":
			t.Compress, rest = true, rest[1:]
		case "sample":
			v, err := need()
			if err != nil {
				return t, err
			}
			if _, err := ParseSample(v); err != nil {
				return t, fmt.Errorf("log %s: %w", t.Raw, err)
			}
			t.Sample, rest = v, rest[2:]
		default:
			if t.Facility >= 0 {
				lv := lookup(levels, w)
				if lv < 0 {
					return t, fmt.Errorf("log %s: unknown level %q", t.Raw, w)
				}
				if !levelSeen { // a second level is MINLEVEL: ignored, traffic logs are info
					t.Level, levelSeen = lv, true
				}
				rest = rest[1:]
				continue
			}
			f := lookup(facilities, w)
			if f < 0 {
				return t, fmt.Errorf("log %s: unknown facility or option %q", t.Raw, w)
			}
			t.Facility, rest = f, rest[1:]
		}
	}
	if t.Facility < 0 {
		return t, fmt.Errorf("log %s: missing facility (e.g. local0)", t.Raw)
	}
	return t, nil
}

func defaultFormat(scheme string) SyslogFormat {
	if scheme == "file" {
		return FormatRaw
	}
	return FormatRFC3164
}
