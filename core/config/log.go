package config

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

var facilities = []string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}

var levels = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

var logFormats = []string{"raw", "local", "rfc3164", "rfc5424", "short", "priority", "iso", "timed"}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseLog reads a log line (global or proxy). inGlobal refuses `log global`.
func (p *parser) parseLog(l Line, inGlobal bool) *Log {
	w := l.Words
	const key = "log"
	if len(w) < 2 {
		p.d.Errorf(w[0].Pos, key, "log TARGET [options] FACILITY [LEVEL], e.g. log 127.0.0.1:514 local0", "log needs a target")
		return nil
	}
	lg := &Log{Pos: l.Pos}
	t := w[1]
	if t.Text == "global" {
		if inGlobal {
			p.d.Errorf(t.Pos, key, "write a target such as 127.0.0.1:514", "`log global` is only valid in a proxy")
			return nil
		}
		if len(w) > 2 {
			p.d.Errorf(w[2].Pos, key, "remove the extra words", "`log global` takes no further argument")
		}
		lg.Global = true
		return lg
	}
	if !p.parseLogTarget(lg, t) {
		return nil
	}
	args := w[2:]
	i := 0
	need := func(opt Token) (Token, bool) {
		if i+1 >= len(args) {
			p.d.Errorf(opt.Pos, key, opt.Text+" VALUE", "log option %s needs a value", opt.Text)
			i = len(args)
			return Token{}, false
		}
		i++
		return args[i], true
	}
	for ; i < len(args); i++ {
		opt := args[i]
		switch opt.Text {
		case "len":
			p.use("log len", opt.Pos)
			if v, ok := need(opt); ok {
				n, err := ParseInt(v.Text, 80, 65535)
				if err != nil {
					p.d.Errorf(v.Pos, "log len", "a length between 80 and 65535", "%v", err)
				}
				lg.Len = int(n)
			}
		case "format":
			p.use("log format", opt.Pos)
			if v, ok := need(opt); ok {
				if !contains(logFormats, v.Text) {
					p.d.Errorf(v.Pos, "log format", hintNearest(v.Text, logFormats, strings.Join(logFormats, ", ")), "unknown log format %q", v.Text)
				}
				lg.Format = v.Text
			}
		case "sample":
			p.use("log sample", opt.Pos)
			if v, ok := need(opt); ok {
				lg.Sample = v.Text
			}
		case "anonymize":
			p.use("log anonymize", opt.Pos)
			p.parseAnonymize(lg, opt, args, &i)
		case "retention":
			p.use("log retention", opt.Pos)
			if v, ok := need(opt); ok {
				lg.Retention = p.durationUnit(v, "log retention", time.Second)
			}
		case "rotate":
			p.use("log rotate", opt.Pos)
			if v, ok := need(opt); ok {
				lg.RotateSize = p.size(v, "log rotate")
			}
		case "keep":
			p.use("log keep", opt.Pos)
			if v, ok := need(opt); ok {
				n, err := ParseInt(v.Text, 0, 1<<20)
				if err != nil {
					p.d.Errorf(v.Pos, "log keep", "a number of rotated files", "%v", err)
				}
				lg.Keep = int(n)
			}
		case "compress":
			p.use("log compress", opt.Pos)
			lg.Compress = true
		case "rotate-every":
			p.use("log rotate-every", opt.Pos)
			if v, ok := need(opt); ok {
				lg.RotateEvery = p.durationUnit(v, "log rotate-every", time.Second)
			}
		default:
			// facility [level [minlevel]]
			rest := args[i:]
			if !contains(facilities, opt.Text) {
				p.d.Errorf(opt.Pos, key, hintNearest(opt.Text, append(append([]string{}, facilities...), "len", "format", "sample", "anonymize", "retention", "rotate", "keep", "compress", "rotate-every"), "a facility such as local0"), "unknown log facility or option %q", opt.Text)
				return lg
			}
			lg.Facility = opt.Text
			if len(rest) > 1 {
				if !contains(levels, rest[1].Text) {
					p.d.Errorf(rest[1].Pos, key, hintNearest(rest[1].Text, levels, strings.Join(levels, ", ")), "unknown log level %q", rest[1].Text)
				}
				lg.Level = rest[1].Text
			}
			if len(rest) > 2 {
				if !contains(levels, rest[2].Text) {
					p.d.Errorf(rest[2].Pos, key, strings.Join(levels, ", "), "unknown minimum log level %q", rest[2].Text)
				}
				lg.MinLevel = rest[2].Text
			}
			if len(rest) > 3 {
				p.d.Errorf(rest[3].Pos, key, "log TARGET [options] FACILITY [LEVEL [MINLEVEL]]", "unexpected %q after the log level", rest[3].Text)
			}
			i = len(args)
		}
	}
	if lg.Facility == "" {
		p.d.Errorf(l.Pos, key, "add a facility such as local0 at the end of the line", "log line without a facility")
	}
	if lg.Kind == "file" && lg.Anonymize == nil {
		p.d.Warnf(l.Pos, key, "add `anonymize ip 24,48` (or `anonymize hmac KEYFILE`, or `anonymize none` to keep full addresses knowingly)", "file target %s stores raw client IP addresses", lg.Path)
	}
	return lg
}

func (p *parser) parseLogTarget(lg *Log, t Token) bool {
	s := t.Text
	lg.Target = s
	addr := func(kind, rest string) bool {
		lg.Kind = kind
		// A missing port means 514 as in HAProxy.
		a, err := ParseAddress(rest, false)
		if err != nil {
			p.d.Errorf(t.Pos, "log", "write HOST:PORT, e.g. 127.0.0.1:514", "%v", err)
			return false
		}
		if a.Port == 0 {
			a.Port = 514
			if a.Addr.IsValid() {
				a.Addr = netip.AddrPortFrom(a.Addr.Addr(), 514)
			}
		}
		lg.Addr = &a
		return true
	}
	switch {
	case s == "stdout" || s == "fd@1":
		lg.Kind = "stdout"
	case s == "stderr" || s == "fd@2":
		lg.Kind = "stderr"
	case strings.HasPrefix(s, "file@"):
		lg.Kind, lg.Path = "file", strings.TrimPrefix(s, "file@")
		if !strings.HasPrefix(lg.Path, "/") {
			p.d.Errorf(t.Pos, "log", "write an absolute path: file@/var/log/varde/access.log", "log file path %q is not absolute", lg.Path)
			return false
		}
	case strings.HasPrefix(s, "unix@"):
		lg.Kind, lg.Path = "unix", strings.TrimPrefix(s, "unix@")
	case strings.HasPrefix(s, "/"):
		lg.Kind, lg.Path = "unix", s
	case strings.HasPrefix(s, "udp@"), strings.HasPrefix(s, "udp4@"), strings.HasPrefix(s, "udp6@"):
		return addr("udp", s[strings.IndexByte(s, '@')+1:])
	case strings.HasPrefix(s, "tcp@"), strings.HasPrefix(s, "tcp4@"), strings.HasPrefix(s, "tcp6@"):
		if !addr("tcp", s[strings.IndexByte(s, '@')+1:]) {
			return false
		}
	case strings.HasPrefix(s, "ipv4@"), strings.HasPrefix(s, "ipv6@"):
		return addr("udp", s[strings.IndexByte(s, '@')+1:])
	case strings.Contains(s, "@"):
		p.d.Errorf(t.Pos, "log", "use udp@, tcp@, unix@, file@, stdout or stderr", "log target type %q is not supported by varde", s[:strings.IndexByte(s, '@')+1])
		return false
	default:
		return addr("udp", s)
	}
	return true
}

// parseAnonymize reads `anonymize ip V4,V6 | hmac KEYFILE [rotate DUR] | none`
// starting at args[*i] == "anonymize".
func (p *parser) parseAnonymize(lg *Log, opt Token, args []Token, i *int) {
	const key = "log anonymize"
	hint := "anonymize ip 24,48 | anonymize hmac KEYFILE [rotate DUR] | anonymize none"
	if *i+1 >= len(args) {
		p.d.Errorf(opt.Pos, key, hint, "anonymize needs a mode")
		return
	}
	*i++
	m := args[*i]
	a := &Anonymize{Mode: m.Text}
	switch m.Text {
	case "none":
	case "ip":
		if *i+1 >= len(args) {
			p.d.Errorf(m.Pos, key, hint, "anonymize ip needs V4BITS,V6BITS")
			return
		}
		*i++
		v := args[*i]
		v4, v6, ok := strings.Cut(v.Text, ",")
		b4, err4 := strconv.Atoi(v4)
		b6, err6 := strconv.Atoi(v6)
		if !ok || err4 != nil || err6 != nil || b4 < 0 || b4 > 32 || b6 < 0 || b6 > 128 {
			p.d.Errorf(v.Pos, key, "prefix bits to keep: IPv4 0..32, IPv6 0..128, e.g. 24,48", "invalid anonymize ip value %q", v.Text)
			return
		}
		a.V4Bits, a.V6Bits = b4, b6
	case "hmac":
		if *i+1 >= len(args) {
			p.d.Errorf(m.Pos, key, hint, "anonymize hmac needs a key file")
			return
		}
		*i++
		a.KeyFile = args[*i].Text
		if *i+2 < len(args) && args[*i+1].Text == "rotate" {
			if hasTimeUnit(args[*i+2].Text) {
				// `rotate DUR` after hmac is the key rotation, not the file size.
				*i += 2
				a.Rotate = p.durationUnit(args[*i], key, time.Second)
			}
		}
	default:
		p.d.Errorf(m.Pos, key, hint, "unknown anonymize mode %q", m.Text)
		return
	}
	lg.Anonymize = a
}

// hasTimeUnit reports whether s ends in a time unit that is not also a size
// unit (s, h, d, ms, us). "rotate 100m" after `anonymize hmac KEY` is read as
// the file's size rotation, since rotating a key every few minutes is not a
// plausible setting; write "rotate 2h" for key rotation.
func hasTimeUnit(s string) bool {
	return strings.HasSuffix(s, "s") || strings.HasSuffix(s, "h") || strings.HasSuffix(s, "d")
}
