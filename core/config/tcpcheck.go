package config

import (
	"encoding/hex"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/health"
)

// TCPCheck is one `tcp-check` line of a proxy.
type TCPCheck struct {
	Pos diag.Pos `json:"pos"`
	health.TCPCheckRule
}

// checkOptions are the options choosing a check type: the last one set
// wins, as in HAProxy (httpchk and ssl-hello-chk keep their own warning
// in validate.go).
var checkOptions = []string{"tcp-check", "redis-check", "smtpchk", "mysql-check", "pgsql-check", "ldap-check"}

func isTCPCheckOption(name string) bool { return contains(checkOptions, name) }

// dropOtherChecks keeps the check option just set, removing the others.
func dropOtherChecks(px *Proxy, name string) {
	mine := isTCPCheckOption(name)
	for _, o := range append(checkOptions, "httpchk", "ssl-hello-chk") {
		if o == name || (!mine && !isTCPCheckOption(o)) {
			continue
		}
		delete(px.Options, o)
	}
}

// parseCheckOptionArgs validates the arguments of the protocol check
// options that take some; the words are kept in Option.Args.
func (p *parser) parseCheckOptionArgs(key, name string, at diag.Pos, args []Token) bool {
	bad := func(at diag.Pos, hint, format string, a ...any) bool {
		p.d.Errorf(at, key, hint, format, a...)
		return false
	}
	switch name {
	case "smtpchk":
		if len(args) > 2 {
			return bad(args[2].Pos, "option smtpchk [HELO|EHLO DOMAIN]", "too many arguments")
		}
	case "pgsql-check":
		if len(args) < 2 || args[0].Text != "user" {
			return bad(at, "option pgsql-check user USERNAME", "option pgsql-check expects 'user <username>'")
		}
		if len(args) > 2 {
			return bad(args[2].Pos, "option pgsql-check user USERNAME", "too many arguments")
		}
	case "mysql-check":
		if len(args) == 0 {
			return true
		}
		if args[0].Text != "user" || len(args) < 2 {
			return bad(args[0].Pos, "option mysql-check [user USERNAME [post-41|pre-41]]", "option mysql-check expects 'user <username>'")
		}
		if len(args) > 3 {
			return bad(args[3].Pos, "option mysql-check [user USERNAME [post-41|pre-41]]", "too many arguments")
		}
		if len(args) == 3 && args[2].Text != "post-41" && args[2].Text != "pre-41" {
			return bad(args[2].Pos, "post-41 or pre-41", "unknown mysql-check protocol %q", args[2].Text)
		}
	default:
		if len(args) > 0 {
			return bad(args[0].Pos, "option "+name+" takes no argument", "unexpected %q", args[0].Text)
		}
	}
	return true
}

// parseTCPCheck reads one `tcp-check ACTION ...` line. The rules a proxy
// writes replace those it inherited from defaults, as HAProxy's per-proxy
// rule sets do.
func (p *parser) parseTCPCheck(l Line, key string, words []Token) {
	px := p.cur
	if !px.ownTCPCheck {
		px.TCPCheck, px.ownTCPCheck = nil, true
	}
	r := &TCPCheck{Pos: l.Pos}
	r.Action, r.Index, r.MinRecv = words[1].Text, len(px.TCPCheck), -1
	args := words[2:]
	var ok bool
	if base := actionBase(r.Action); isVarAction(base) {
		if v, vok := p.parseCheckVar(key, words[1], args); vok { // checkvars.go
			r.Action, r.Var = "set-var", v
			if v.Unset {
				r.Action = "unset-var"
			}
			px.TCPCheck = append(px.TCPCheck, r)
		}
		return
	}
	switch r.Action {
	case "connect":
		ok = p.tcpCheckConnect(key, r, args)
	case "send", "send-binary", "send-lf":
		ok = p.tcpCheckSend(key, r, words[1], args)
	case "expect":
		ok = p.tcpCheckExpect(key, r, words[1], args)
	case "comment":
		if len(args) != 1 {
			p.d.Errorf(words[1].Pos, key, "tcp-check comment TEXT (quote it)", "tcp-check comment expects exactly 1 argument")
			return
		}
		r.Comment, ok = args[0].Text, true
	}
	if ok {
		px.TCPCheck = append(px.TCPCheck, r)
	}
}

func (p *parser) tcpCheckConnect(key string, r *TCPCheck, args []Token) bool {
	usage := key + " [default] [port N] [addr IP] [send-proxy] [via-socks4] [ssl] [sni NAME] [alpn LIST] [linger] [comment TEXT]"
	for i := 0; i < len(args); i++ {
		t := args[i]
		val := func() (Token, bool) {
			if i+1 >= len(args) {
				p.d.Errorf(t.Pos, key, usage, "'%s' expects a value", t.Text)
				return Token{}, false
			}
			i++
			return args[i], true
		}
		switch t.Text {
		case "default":
			r.Default = true
		case "linger":
			r.Linger = true
		case "send-proxy":
			r.SendProxy = true
		case "port":
			v, ok := val()
			if !ok {
				return false
			}
			n, err := strconv.Atoi(v.Text)
			if err != nil || n < 1 || n > 65535 {
				p.d.Errorf(v.Pos, key, "a port number 1-65535 (sample expressions are not supported yet)", "invalid port %q", v.Text)
				return false
			}
			r.Port = n
		case "addr":
			v, ok := val()
			if !ok {
				return false
			}
			if _, err := netip.ParseAddr(v.Text); err != nil {
				p.d.Errorf(v.Pos, key, "an IPv4 or IPv6 address", "invalid address %q", v.Text)
				return false
			}
			r.Addr = v.Text
		case "comment":
			v, ok := val()
			if !ok {
				return false
			}
			r.Comment = v.Text
		case "ssl", "sni", "alpn":
			if key != "tcp-check connect" {
				p.d.Errorf(t.Pos, key, "remove the option", "%s %s is not supported by varde yet", key, t.Text)
				return false
			}
			if t.Text == "ssl" {
				r.SSL = true
				continue
			}
			v, ok := val()
			if !ok {
				return false
			}
			if t.Text == "sni" {
				r.SNI = v.Text
			} else {
				r.ALPN = v.Text
			}
		case "via-socks4":
			r.ViaSOCKS4 = true // without a server socks4, connects directly (HAProxy)
		case "proto":
			p.d.Errorf(t.Pos, key, "remove the option", "%s %s is not supported by varde yet", key, t.Text)
			return false
		default:
			p.d.Errorf(t.Pos, key, usage, "unknown tcp-check connect option %q", t.Text)
			return false
		}
	}
	return true
}

func (p *parser) tcpCheckSend(key string, r *TCPCheck, act Token, args []Token) bool {
	usage := "tcp-check " + act.Text + " DATA [comment TEXT]"
	if len(args) != 1 && !(len(args) == 3 && args[1].Text == "comment") {
		p.d.Errorf(act.Pos, key, usage, "'%s' expects a %s as argument", act.Text, map[bool]string{true: "binary string", false: "string"}[act.Text == "send-binary"])
		return false
	}
	if len(args) == 3 {
		r.Comment = args[2].Text
	}
	r.Action, r.Data = "send", args[0].Text
	if act.Text == "send-lf" {
		r.DataLF = true
		return p.checkSendFmt(key, act, args[0].Text) // checkvars.go
	}
	if act.Text == "send-binary" {
		b, err := hex.DecodeString(args[0].Text)
		if err != nil || len(b) == 0 {
			p.d.Errorf(args[0].Pos, key, "an even number of hexadecimal digits, e.g. 2a310d0a", "invalid binary string %q", args[0].Text)
			return false
		}
		r.Data = string(b)
	}
	return true
}

// statusKinds are the words each expect status option accepts (HAProxy 2.6).
var statusKinds = map[string][]string{
	"ok-status":    {"L7OK", "L7OKC", "L6OK", "L4OK"},
	"error-status": {"L7RSP", "L7STS", "L6RSP", "L4CON"},
	"tout-status":  {"L7TOUT", "L6TOUT", "L4TOUT"},
}

const expectUsage = "tcp-check expect [min-recv N] [comment TEXT] [ok-status|error-status|tout-status ST] [on-success|on-error TEXT] [!] string|rstring|binary|rbinary PATTERN"

// tcpCheckExpect reads `tcp-check expect`: options in any order around
// one match kind and its pattern, as HAProxy's parser.
func (p *parser) tcpCheckExpect(key string, r *TCPCheck, act Token, args []Token) bool {
	for i := 0; i < len(args); i++ {
		t := args[i]
		if t.Text == "!" {
			r.Negate = true
			continue
		}
		if i+1 >= len(args) {
			if _, known := expectOptions[t.Text]; known {
				p.d.Errorf(t.Pos, key, expectUsage, "'%s' expects a value", t.Text)
				return false
			}
		}
		var v Token
		if i+1 < len(args) {
			v = args[i+1]
		}
		if !p.expectOption(key, r, t, v) {
			return false
		}
		i++
	}
	if r.Match == "" {
		p.d.Errorf(act.Pos, key, expectUsage, "tcp-check expect needs a match and a pattern")
		return false
	}
	return true
}

// expectOptions are the words of tcp-check expect that take a value.
var expectOptions = map[string]bool{
	"string": true, "rstring": true, "binary": true, "rbinary": true, "min-recv": true, "comment": true,
	"ok-status": true, "error-status": true, "tout-status": true, "on-success": true, "on-error": true,
}

// expectOption applies one `WORD VALUE` pair of tcp-check expect.
func (p *parser) expectOption(key string, r *TCPCheck, t, v Token) bool {
	bad := func(at diag.Pos, hint, format string, a ...any) bool {
		p.d.Errorf(at, key, hint, format, a...)
		return false
	}
	switch t.Text {
	case "string", "rstring", "binary", "rbinary":
		return p.expectPattern(key, r, t, v)
	case "min-recv":
		n, err := strconv.Atoi(v.Text)
		if err != nil || n < -1 || n > 1<<20 {
			return bad(v.Pos, "a number of bytes", "invalid min-recv %q", v.Text)
		}
		r.MinRecv = n
	case "comment":
		r.Comment = v.Text
	case "ok-status", "error-status", "tout-status":
		if !contains(statusKinds[t.Text], v.Text) {
			return bad(v.Pos, strings.Join(statusKinds[t.Text], ", "), "invalid %s %q", t.Text, v.Text)
		}
		*map[string]*string{"ok-status": &r.OKStatus, "error-status": &r.ErrorStatus, "tout-status": &r.ToutStatus}[t.Text] = v.Text
	case "on-success", "on-error":
		if strings.Contains(v.Text, "%") {
			return bad(v.Pos, "write a literal text", "log-format in tcp-check %s is not supported by varde yet", t.Text)
		}
		*map[string]*string{"on-success": &r.OnSuccess, "on-error": &r.OnError}[t.Text] = v.Text
	case "string-lf", "binary-lf", "status-code", "custom":
		return bad(t.Pos, "use string, rstring, binary or rbinary", "tcp-check expect %s is not supported by varde yet", t.Text)
	default:
		return bad(t.Pos, hintNearest(t.Text, []string{"string", "rstring", "binary", "rbinary", "min-recv", "comment", "ok-status", "error-status", "tout-status", "on-success", "on-error"}, expectUsage), "unknown tcp-check expect option %q", t.Text)
	}
	return true
}

// expectPattern reads the match kind and its pattern, compiled or decoded
// here so that `varde check` refuses what the engine could not run.
func (p *parser) expectPattern(key string, r *TCPCheck, t, v Token) bool {
	if r.Match != "" {
		p.d.Errorf(t.Pos, key, expectUsage, "only one pattern expected")
		return false
	}
	r.Match, r.Pattern = t.Text, v.Text
	switch t.Text {
	case "rstring", "rbinary":
		if _, err := regexp.Compile(v.Text); err != nil {
			p.d.Errorf(v.Pos, key, "a regular expression in Go's RE2 syntax (no backreferences or lookarounds)", "invalid %s %q: %v", t.Text, v.Text, err)
			return false
		}
	case "binary":
		if b, err := hex.DecodeString(v.Text); err != nil || len(b) == 0 {
			p.d.Errorf(v.Pos, key, "an even number of hexadecimal digits", "invalid binary pattern %q", v.Text)
			return false
		}
	}
	return true
}

// parseHTTPCheckConnect reads `http-check connect`: the options of
// tcp-check connect. varde runs one request per check, so the connect must
// come first and once (HAProxy allows several connect/send/expect runs).
func (p *parser) parseHTTPCheckConnect(key string, hc *HTTPCheck, act Token, args []Token) bool {
	for _, prev := range p.cur.HTTPCheck {
		if prev.Action == "connect" || prev.Action == "send" || prev.Action == "expect" {
			p.d.Errorf(act.Pos, key, "write one http-check connect before the http-check send and expect lines", "several http-check connect/send/expect sequences are not supported by varde yet")
			return false
		}
	}
	r := &TCPCheck{}
	r.Action, r.MinRecv = "connect", -1
	if !p.tcpCheckConnect(key, r, args) {
		return false
	}
	hc.Connect = &r.TCPCheckRule
	return true
}

// httpCheckExpectAfterSend refuses an expect right after a connect, as
// HAProxy does ("missing send rule").
func (p *parser) httpCheckExpectAfterSend(key string, act Token) bool {
	if n := len(p.cur.HTTPCheck); n > 0 && p.cur.HTTPCheck[n-1].Action == "connect" {
		p.d.Errorf(act.Pos, key, "write http-check send [meth M] [uri U] between them", "unable to add http-check expect rule right after http-check connect (missing send rule)")
		return false
	}
	return true
}

// warnUnusedCheckRules says, as HAProxy, that tcp-check (http-check) lines
// of a backend without `option tcp-check` (`option httpchk`) are ignored.
func warnUnusedCheckRules(px *Proxy, d *diag.List) {
	if !px.IsBackend() {
		return
	}
	if px.ownTCPCheck && len(px.TCPCheck) > 0 && px.Option("tcp-check") == nil {
		d.Warnf(px.TCPCheck[0].Pos, "tcp-check", "add option tcp-check, or remove the tcp-check lines",
			"%s '%s' uses tcp-check rules without 'option tcp-check', so the rules are ignored", px.Kind, px.Name)
	}
}
