package logpipe

import (
	"strconv"
	"time"
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

var formatNames = map[string]SyslogFormat{
	"raw": FormatRaw, "local": FormatLocal, "rfc3164": FormatRFC3164, "rfc5424": FormatRFC5424,
	"short": FormatShort, "priority": FormatPriority, "timed": FormatTimed, "iso": FormatISO,
}

func (f SyslogFormat) String() string {
	for k, v := range formatNames {
		if v == f {
			return k
		}
	}
	return "?"
}

var facilities = []string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

var levels = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// LevelInfo is the level of traffic logs, as in HAProxy.
const LevelInfo = 6

func lookup(table []string, s string) int {
	for i, v := range table {
		if v == s {
			return i
		}
	}
	return -1
}

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
