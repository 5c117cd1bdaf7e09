package logpipe

import (
	"github.com/varde-lb/varde/core/logrec"
	"strconv"
	"time"

	"github.com/varde-lb/varde/core"
)

// SyslogFormat is the `format` of a log line.
type SyslogFormat uint8

const (
	FormatRaw      SyslogFormat = iota // the message only
	FormatLocal                        // RFC 3164 without hostname (HAProxy's default for network targets)
	FormatRFC3164                      // <PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG
	FormatRFC5424                      // <PRI>1 TIMESTAMP HOST TAG PID - - MSG
	FormatShort                        // <LEVEL>MSG (no facility, for systemd's stdout)
	FormatPriority                     // <PRI>MSG
	FormatTimed                        // <LEVEL>ISO-TIMESTAMP MSG
	FormatISO                          // ISO-TIMESTAMP MSG
)

// formatNames maps core's `format` names to the constants above: core
// lists them in the same order, and is the one table config also reads.
var formatNames = func() map[string]SyslogFormat {
	m := map[string]SyslogFormat{}
	for i, n := range core.LogFormats() {
		m[n] = SyslogFormat(i)
	}
	return m
}()

func (f SyslogFormat) String() string {
	if names := core.LogFormats(); int(f) < len(names) {
		return names[f]
	}
	return "?"
}

// levels is core's level table, for messages.
var levels = core.SyslogLevels()

// LevelInfo is the level of traffic logs, as in HAProxy.
const LevelInfo = 6

// framer writes the syslog header for one target.
type framer struct {
	format SyslogFormat
	pri    int
	host   string
	tag    string
	pid    int
	sec    int64 // cached header timestamp
	ts     [40]byte
	tsn    int
}

func unixUTC(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// appendHeader writes the syslog header exactly as HAProxy 2.6 does for
// each format (checked against haproxy -db with log stdout).
func (f *framer) appendHeader(dst []byte, now time.Time, loc *time.Location) []byte {
	const iso = "2006-01-02T15:04:05.000000-07:00"
	switch f.format {
	case FormatRaw:
		return dst
	case FormatISO:
		dst = now.In(loc).AppendFormat(dst, iso)
		return append(dst, ' ')
	case FormatShort, FormatTimed:
		dst = append(dst, '<')
		dst = strconv.AppendInt(dst, int64(f.pri&7), 10)
		dst = append(dst, '>')
		if f.format == FormatTimed {
			dst = now.In(loc).AppendFormat(dst, iso)
			dst = append(dst, ' ')
		}
		return dst
	}
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(f.pri), 10)
	dst = append(dst, '>')
	switch f.format {
	case FormatPriority:
		return dst
	case FormatRFC5424:
		dst = append(dst, "1 "...)
		dst = now.In(loc).AppendFormat(dst, iso)
		dst = append(dst, ' ')
		dst = append(dst, orDash(f.host)...)
		dst = append(dst, ' ')
		dst = append(dst, f.tag...)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(f.pid), 10)
		return append(dst, " - - "...)
	}
	sec := now.Unix()
	if sec != f.sec || f.tsn == 0 {
		t := now.In(loc)
		b := f.ts[:0]
		b = append(b, months[t.Month()-1]...)
		b = append(b, ' ')
		if t.Day() < 10 {
			b = append(b, ' ', byte('0'+t.Day()))
		} else {
			b = append2(b, t.Day())
		}
		b = append(b, ' ')
		b = append2(b, t.Hour())
		b = append(b, ':')
		b = append2(b, t.Minute())
		b = append(b, ':')
		b = append2(b, t.Second())
		b = append(b, ' ')
		f.sec, f.tsn = sec, len(b)
	}
	dst = append(dst, f.ts[:f.tsn]...)
	if f.format == FormatRFC3164 {
		// HAProxy writes "localhost" unless log-send-hostname is set.
		if f.host == "" {
			dst = append(dst, "localhost"...)
		} else {
			dst = append(dst, f.host...)
		}
		dst = append(dst, ' ')
	}
	dst = append(dst, f.tag...)
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(f.pid), 10)
	return append(dst, "]: "...)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// recordLevel is a traffic line's syslog level: info unless set-log-level
// chose another.
func recordLevel(r *logrec.Record) int {
	if r.LogLevel > 0 {
		return int(r.LogLevel) - 1
	}
	return LevelInfo
}
