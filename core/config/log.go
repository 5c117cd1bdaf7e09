package config

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/diag"
)

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
		if !p.sinkOption(lg, opt) {
			return nil
		}
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
				if core.LogFormat(v.Text) < 0 {
					p.d.Errorf(v.Pos, "log format", hintNearest(v.Text, core.LogFormats(), strings.Join(core.LogFormats(), ", ")), "unknown log format %q", v.Text)
				}
				lg.Format = v.Text
			}
		case "sample":
			p.use("log sample", opt.Pos)
			if v, ok := need(opt); ok {
				if _, err := core.ParseLogSample(v.Text); err != nil {
					p.argError("log sample", []Token{v}, err, "sample RANGES:SIZE")
				}
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
			if core.SyslogFacility(opt.Text) < 0 {
				p.d.Errorf(opt.Pos, key, hintNearest(opt.Text, append(core.SyslogFacilities(), logOptions...), "a facility such as local0"), "unknown log facility or option %q", opt.Text)
				return lg
			}
			lg.Facility = opt.Text
			if len(rest) > 1 {
				if core.SyslogLevel(rest[1].Text) < 0 {
					p.d.Errorf(rest[1].Pos, key, hintNearest(rest[1].Text, core.SyslogLevels(), strings.Join(core.SyslogLevels(), ", ")), "unknown log level %q", rest[1].Text)
				}
				lg.Level = rest[1].Text
			}
			if len(rest) > 2 {
				if core.SyslogLevel(rest[2].Text) < 0 {
					p.d.Errorf(rest[2].Pos, key, strings.Join(core.SyslogLevels(), ", "), "unknown minimum log level %q", rest[2].Text)
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
	p.checkAnonymize(lg, l.Pos)
	if sc, _ := core.LookupSinkScheme(lg.Kind); sc.Stores && (lg.Anonymize == nil || lg.Anonymize.Mode == "") {
		p.d.Warnf(l.Pos, key, "add `anonymize ip 24,48` (or `anonymize hmac KEYFILE`, or `anonymize none` to keep full addresses knowingly)", "%s target %s stores raw client IP addresses", lg.Kind, lg.Path)
	}
	return lg
}

// logOptions are the option words of a log line, for did-you-mean hints.
var logOptions = []string{"len", "format", "sample", "anonymize", "retention", "rotate", "keep", "compress", "rotate-every"}

// sinkOptions are the options a sink must list in its SinkScheme.Options
// to accept: they configure the sink itself (file rotation), unlike len,
// format, sample and anonymize, which the pipeline applies to any target.
var sinkOptions = []string{"retention", "rotate", "keep", "compress", "rotate-every"}

// parseLogTarget reads the target word with core's single parser; the
// sink's registration says whether the address is HOST[:PORT] (read here
// as every address in the file is, port 514 by default) or a path.
func (p *parser) parseLogTarget(lg *Log, t Token) bool {
	lt, err := core.ParseLogTarget(t.Text)
	if err != nil {
		p.argError("log", []Token{t}, err, "log TARGET [options] FACILITY [LEVEL]")
		return false
	}
	lg.Target, lg.Kind = t.Text, lt.Scheme
	sc, _ := core.LookupSinkScheme(lt.Scheme)
	if !sc.HostPort {
		lg.Path = lt.Address
		return true
	}
	a, err := ParseAddress(lt.Address, false)
	if err != nil {
		p.d.Errorf(t.Pos, "log", "write HOST:PORT, e.g. 127.0.0.1:514", "%v", err)
		return false
	}
	if a.Port == 0 {
		a.Port = 514 // as in HAProxy
		if a.Addr.IsValid() {
			a.Addr = netip.AddrPortFrom(a.Addr.Addr(), 514)
		}
	}
	lg.Addr = &a
	return true
}

// sinkOption refuses an option the target's sink does not list.
func (p *parser) sinkOption(lg *Log, opt Token) bool {
	if !contains(sinkOptions, opt.Text) {
		return true
	}
	sc, _ := core.LookupSinkScheme(lg.Kind)
	if contains(sc.Options, opt.Text) {
		return true
	}
	var owners []string
	for _, n := range core.SinkSchemeNames() {
		if o, _ := core.LookupSinkScheme(n); contains(o.Options, opt.Text) {
			owners = append(owners, n+"@")
		}
	}
	p.d.Errorf(opt.Pos, "log "+opt.Text, "only "+strings.Join(owners, ", ")+" targets take it", "log target %s does not support %s", lg.Target, opt.Text)
	return false
}

// ParseLogLine parses the words after `log` (not `log global`) as a
// configuration file line would be, for tools and tests outside the
// package (logpipe.ParseLogLine). It returns the first error.
func ParseLogLine(words []string) (*Log, error) {
	l := Line{Pos: diag.Pos{File: "log", Line: 1}, Words: []Token{{Text: "log", Pos: diag.Pos{File: "log", Line: 1}}}}
	for _, w := range words {
		l.Words = append(l.Words, Token{Text: w, Pos: l.Pos})
	}
	p := newParser(nil)
	lg := p.parseLog(l, false)
	if err := p.d.Err(); err != nil {
		return nil, err
	}
	return lg, nil
}

// CheckLogTargets runs each log target's configuration-time check (a
// file@ target's directory must exist): what the sink would refuse when
// it opens, refused by `varde check` at the line of the target.
func (c *Config) CheckLogTargets(d *diag.List) {
	seen := map[*Log]bool{}
	check := func(lg *Log) {
		if lg.Global || seen[lg] {
			return
		}
		seen[lg] = true
		addr := lg.Path
		if a := lg.Addr; a != nil { // the address the sink will get
			host := a.Host
			if a.Addr.IsValid() {
				host = a.Addr.Addr().String()
			}
			addr = net.JoinHostPort(host, strconv.Itoa(int(a.Port)))
		}
		if a := lg.Anonymize; a != nil && a.Mode == "hmac" {
			// The key file is created at start when missing: its directory must exist.
			if dir := filepath.Dir(a.KeyFile); !isDir(dir) {
				d.Errorf(lg.Pos, "log anonymize", "create "+dir+" (writable by varde) or fix the key file path", "anonymize hmac key file %s: directory %s does not exist", a.KeyFile, dir)
			}
		}
		if err := core.CheckLogTarget(core.LogTarget{Scheme: lg.Kind, Address: addr, Raw: lg.Target}); err != nil {
			hint := "fix the target before `varde run`"
			var ae *core.ArgError
			if errors.As(err, &ae) {
				err, hint = errors.New(ae.Msg), ae.Hint
			}
			d.Errorf(lg.Pos, "log", hint, "log %s: %v", lg.Target, err)
		}
	}
	for _, lg := range c.Global.Logs {
		check(lg)
	}
	for _, px := range c.Proxies {
		for _, lg := range px.Logs {
			check(lg)
		}
	}
}

// parseAnonymize reads `anonymize ip V4,V6 | hmac KEYFILE [rotate DUR] | none`
// starting at args[*i] == "anonymize".
func (p *parser) parseAnonymize(lg *Log, opt Token, args []Token, i *int) {
	const key = "log anonymize"
	hint := "anonymize ip 24,48 | anonymize hmac KEYFILE [rotate DUR] | anonymize none | anonymize pii CLASSES | anonymize params NAMES | anonymize mask MASKS"
	if *i+1 >= len(args) {
		p.d.Errorf(opt.Pos, key, hint, "anonymize needs a mode")
		return
	}
	*i++
	m := args[*i]
	a := lg.Anonymize
	if a == nil {
		a = &Anonymize{}
	}
	switch m.Text {
	case "pii", "params", "mask":
		p.parseAnonymizePII(a, m, args, i)
		lg.Anonymize = a
		return
	}
	if a.Mode != "" {
		p.d.Errorf(m.Pos, key, "one address mode per log line", "anonymize %s after anonymize %s", m.Text, a.Mode)
		return
	}
	a.Mode = m.Text
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

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
