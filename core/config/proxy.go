package config

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/diag"
)

// modernTimeout maps HAProxy 1.4 spellings to the modern keyword.
var modernTimeout = map[string]string{
	"contimeout": "timeout connect",
	"clitimeout": "timeout client",
	"srvtimeout": "timeout server",
}

func (p *parser) proxyLine(l Line) {
	px := p.cur
	words := l.Words
	negated := false
	if words[0].Text == "no" {
		if len(words) < 2 {
			p.d.Errorf(words[0].Pos, "no", "no option NAME", "`no` needs a keyword")
			return
		}
		negated = true
		words = words[1:]
	}
	sec := sectionBit(px.Kind)
	key, ok := p.checkKeyword(l, words, sec, px.Kind)
	if !ok {
		return
	}
	if negated && !strings.HasPrefix(key, "option ") && key != "log" {
		p.d.Errorf(l.Pos, key, "`no` applies to options and log", "`no %s` is not supported", key)
		return
	}
	kwPos := words[0].Pos
	args := words[1:]
	one := func() (Token, bool) {
		if len(args) != 1 {
			p.d.Errorf(kwPos, key, key+" VALUE", "%s expects exactly one argument, got %d", key, len(args))
			return Token{}, false
		}
		return args[0], true
	}
	switch {
	case strings.HasPrefix(key, "option "):
		p.parseOption(l, key, words, negated)
		return
	case strings.HasPrefix(key, "timeout "):
		args = args[1:]
		if t, ok := one(); ok {
			p.setTimeout(key, t)
		}
		return
	case strings.HasPrefix(key, "stats "):
		p.parseStats(l, key, words)
		return
	case strings.HasPrefix(key, "http-check "):
		p.parseHTTPCheck(l, key, words)
		return
	case strings.HasPrefix(key, "tcp-check "):
		p.parseTCPCheck(l, key, words)
		return
	case strings.HasPrefix(key, "http-request "), strings.HasPrefix(key, "http-response "), strings.HasPrefix(key, "http-after-response "):
		p.parseHTTPRule(l, key, words)
		return
	case strings.HasPrefix(key, "capture "):
		p.parseCapture(l, key, words)
		return
	case key == "declare capture":
		p.parseDeclareCapture(l, key, words) // capture_rules.go
		return
	case strings.HasPrefix(key, "tcp-request "):
		p.parseTCPRequest(l, key, words)
		return
	case strings.HasPrefix(key, "compression "), key == "filter compression":
		p.parseCompression(l, key, words) // compression.go
		return
	case strings.HasPrefix(key, "stick "):
		p.parseStick(l, key, words) // stick.go
		return
	}
	switch key {
	case "stick-table":
		p.parseStickTable(l, words)
	case "contimeout", "clitimeout", "srvtimeout":
		modern := modernTimeout[key]
		p.d.Warnf(kwPos, key, "write `"+modern+" VALUE`", "%s is the HAProxy 1.4 spelling of %q; accepted", key, modern)
		if t, ok := one(); ok {
			p.use(modern, kwPos)
			p.setTimeout(modern, t)
		}
	case "mode":
		if t, ok := one(); ok {
			switch t.Text {
			case "http", "tcp":
				px.Mode, px.ModePos = t.Text, t.Pos
			case "health":
				p.d.Errorf(t.Pos, key, "use monitor-uri in an http frontend", "mode health is not supported by varde")
			default:
				p.d.Errorf(t.Pos, key, "http or tcp", "invalid mode %q", t.Text)
			}
		}
	case "maxconn", "fullconn", "retries", "id":
		if t, ok := one(); ok {
			max := int64(1 << 30)
			if key == "retries" {
				max = 100
			}
			min := int64(0)
			if key == "id" {
				min = 1
			}
			if n, ok := p.intVal(t, key, min, max); ok {
				switch key {
				case "maxconn":
					px.MaxConn = n
				case "fullconn":
					px.FullConn = n
				case "retries":
					px.Retries = n
				case "id":
					px.ID = n
				}
			}
		}
	case "retry-on":
		p.parseRetryOn(kwPos, args)
	case "disabled":
		px.Disabled = true
	case "enabled":
		px.Disabled = false
	case "bind-process":
		p.d.Warnf(kwPos, key, "remove the line", "accepted: has no effect, as in HAProxy 2.6 (deprecated there); varde is one process")
	case "description":
		px.Description = strings.Join(Texts(args), " ")
	case "log-tag":
		if t, ok := one(); ok {
			px.LogTag = t.Text
		}
	case "http-send-name-header":
		if len(args) == 0 { // HAProxy 2.6 has no default name either
			p.d.Errorf(kwPos, key, "http-send-name-header X-Server", "'http-send-name-header' requires a header string")
			return
		}
		px.SendNameHeader = args[0].Text
	case "log":
		if negated {
			px.Logs = nil
			return
		}
		if lg := p.parseLog(l, false); lg != nil {
			px.Logs = append(px.Logs, lg)
		}
	case "unique-id-format", "unique-id-header":
		p.parseUniqueID(key, kwPos, args) // uniqueid.go
	case "log-format":
		if len(args) == 0 {
			p.d.Errorf(kwPos, key, "quote the format: log-format \"%ci:%cp [%tr] %ft\"", "log-format needs a format string")
			return
		}
		if len(args) > 1 {
			p.d.Warnf(args[1].Pos, key, "quote the whole format string", "log-format has %d words; joined with single spaces", len(args))
		}
		px.LogFormat = &StringAt{Value: strings.Join(Texts(args), " "), Pos: kwPos}
	case "balance":
		p.parseBalance(l, args)
	case "hash-type":
		p.parseHashType(l, args)
	case "hash-balance-factor":
		if t, ok := one(); ok {
			if n, ok := p.intVal(t, key, 0, 65535); ok {
				if n != 0 && n <= 100 {
					p.d.Errorf(t.Pos, key, "0 (off) or more than 100, e.g. 150", "hash-balance-factor %d must be 0 or above 100", n)
					return
				}
				p.balanceSpec(l.Pos).BalanceFactor = n
			}
		}
	case "cookie":
		p.parseCookie(l, args)
	case "errorfiles":
		p.parseErrorfiles(l, key, args)
	case "errorfile":
		if len(args) != 2 {
			p.d.Errorf(kwPos, key, "errorfile CODE FILE", "errorfile expects a status code and a file")
			return
		}
		code, err := strconv.Atoi(args[0].Text)
		if err != nil || !contains([]string{"200", "400", "401", "403", "404", "405", "407", "408", "410", "413", "425", "429", "500", "501", "502", "503", "504"}, args[0].Text) {
			p.d.Errorf(args[0].Pos, key, "one of 200 400 401 403 404 405 407 408 410 413 425 429 500 501 502 503 504", "status code %q cannot have an errorfile", args[0].Text)
			return
		}
		ef := &ErrorFile{Pos: l.Pos, Code: code, File: args[1].Text}
		// a later errorfile for the same code replaces the inherited one
		out := px.ErrorFiles[:0:0]
		for _, e := range px.ErrorFiles {
			if e.Code != code {
				out = append(out, e)
			}
		}
		px.ErrorFiles = append(out, ef)
	case "acl":
		p.parseACL(l)
	case "bind":
		p.parseBind(l)
	case "default_backend":
		if t, ok := one(); ok {
			px.DefaultBackend = &StringAt{Value: t.Text, Pos: t.Pos}
		}
	case "use_backend":
		rest, cond, ok := p.splitCond(key, args)
		if !ok {
			return
		}
		if len(rest) != 1 {
			p.d.Errorf(kwPos, key, "use_backend NAME if|unless CONDITION", "use_backend expects one backend name")
			return
		}
		px.UseBackends = append(px.UseBackends, &UseBackend{Pos: rest[0].Pos, Backend: rest[0].Text, Cond: cond})
	case "server":
		p.parseServer(l, args)
	case "server-template":
		p.parseServerTemplate(l, args) // serverresolve.go
	case "default-server":
		if px.DefaultServer == nil {
			px.DefaultServer = &ServerOptions{}
		}
		p.parseServerOptions(px.DefaultServer, args, true)
	case "force-persist", "ignore-persist":
		_, cond, ok := p.splitCond(key, args)
		if !ok {
			return
		}
		if cond == nil || len(args) == 0 || (args[0].Text != "if" && args[0].Text != "unless") {
			p.d.Errorf(kwPos, key, key+" if|unless CONDITION", "%s needs a condition", key)
			return
		}
		if key == "force-persist" {
			if cond.Unless {
				p.d.Errorf(kwPos, key, "force-persist if CONDITION", "force-persist only takes `if`")
			}
			px.ForcePersist = append(px.ForcePersist, cond)
		} else {
			px.IgnorePersist = append(px.IgnorePersist, cond)
		}
	case "monitor-uri":
		if t, ok := one(); ok {
			px.MonitorURI = t.Text
		}
	case "http-reuse":
		if t, ok := one(); ok {
			if !contains([]string{"never", "safe", "aggressive", "always"}, t.Text) {
				p.d.Errorf(t.Pos, key, "never, safe, aggressive or always", "invalid http-reuse mode %q", t.Text)
				return
			}
			if t.Text == "never" {
				// varde reuses as `safe`; silently doing so where the user
				// forbade reuse could hand one client's server connection
				// (and a connection-bound login) to another.
				p.d.Errorf(t.Pos, key, "remove the line to get http-reuse safe, or keep HAProxy for this backend", "http-reuse never is not built yet: varde would reuse idle server connections across clients")
				return
			}
			px.HTTPReuse = t.Text
		}
	case "policy":
		p.parsePolicy(px, key, kwPos, args)
	default:
		if p.miscProxyLine(l, key, args) { // misc.go
			return
		}
		p.d.Errorf(kwPos, key, "", "keyword %q is in the table but has no parser (varde bug)", key)
	}
}

func (p *parser) setTimeout(key string, t Token) {
	v := p.duration(t, key)
	tm := &p.cur.Timeouts
	switch key {
	case "timeout connect":
		tm.Connect = v
	case "timeout client":
		tm.Client = v
	case "timeout server":
		tm.Server = v
	case "timeout http-request":
		tm.HTTPRequest = v
	case "timeout http-keep-alive":
		tm.HTTPKeepAlive = v
	case "timeout queue":
		tm.Queue = v
	case "timeout check":
		tm.Check = v
	case "timeout tunnel":
		tm.Tunnel = v
	case "timeout client-fin":
		tm.ClientFin = v
	case "timeout server-fin":
		tm.ServerFin = v
	case "timeout tarpit":
		tm.Tarpit = v
	}
}

// balanceSpec returns the proxy's balance settings, creating HAProxy's
// defaults (roundrobin, map-based) at pos when hash-type or
// hash-balance-factor come before or without a balance line.
func (p *parser) balanceSpec(pos diag.Pos) *core.BalanceSpec {
	if p.cur.Balance == nil {
		p.cur.Balance = &core.BalanceSpec{Algorithm: "roundrobin", HashType: "map-based"}
		p.cur.BalancePos = pos
	}
	return p.cur.Balance
}

// haproxyOnlyAlgorithms are HAProxy 2.6 algorithms no plugin implements:
// naming one says "not supported by varde yet" rather than "unknown". Every
// algorithm varde has comes from the registry (core.LookupAlgorithm).
var haproxyOnlyAlgorithms = []string{"hash", "rdp-cookie"}

// parseBalance is generic: the algorithm's plugin owns its arguments. Its
// Parse runs here, on the same spec the balancer will get at start, so
// `varde check` refuses exactly what `varde run` would.
func (p *parser) parseBalance(l Line, args []Token) {
	const key = "balance"
	if len(args) == 0 {
		p.d.Errorf(l.Pos, key, "one of "+strings.Join(core.BalancerNames(), ", "), "balance needs an algorithm")
		return
	}
	algo, param, ok := splitParam(args[0].Text)
	if !ok {
		p.d.Errorf(args[0].Pos, key, "write NAME or NAME(PARAM), e.g. hdr(Host)", "malformed algorithm %q", args[0].Text)
		return
	}
	a, ok := core.LookupAlgorithm(algo)
	if !ok {
		p.unknownAlgorithm(args[0], algo)
		return
	}
	b := p.balanceSpec(l.Pos)
	spec := *b
	spec.Algorithm, spec.Param, spec.Args = algo, param, Texts(args[1:])
	if len(spec.Args) == 0 {
		spec.Args = nil
	}
	if _, err := a.Parse(spec); err != nil {
		p.argError(key, args, err, a.Usage)
		return
	}
	*b = spec
	p.cur.BalancePos = l.Pos
}

// splitParam splits "hdr(Host)" into "hdr" and "Host"; a word without
// parentheses has no parameter.
func splitParam(w string) (name, param string, ok bool) {
	i := strings.IndexByte(w, '(')
	if i < 0 {
		return w, "", !strings.Contains(w, ")")
	}
	if i == 0 || !strings.HasSuffix(w, ")") || strings.Count(w, "(") != 1 || strings.Count(w, ")") != 1 {
		return "", "", false
	}
	return w[:i], w[i+1 : len(w)-1], true
}

func (p *parser) unknownAlgorithm(t Token, algo string) {
	names := core.BalancerNames()
	known := "varde has " + strings.Join(names, ", ")
	if contains(haproxyOnlyAlgorithms, algo) {
		p.d.Errorf(t.Pos, "balance", known, "balance %s is a HAProxy algorithm not supported by varde yet", algo)
		return
	}
	p.d.Errorf(t.Pos, "balance", hintNearest(algo, names, known), "unknown balance algorithm %q", algo)
}

// argError reports a plugin's refusal at the word it names (*core.ArgError)
// with its hint, or at the keyword with usage as the hint.
func (p *parser) argError(key string, words []Token, err error, usage string) {
	pos, msg, hint := words[0].Pos, err.Error(), usage
	var ae *core.ArgError
	if errors.As(err, &ae) {
		msg, hint = ae.Msg, ae.Hint
		if i := ae.Arg + 1; i > 0 && i < len(words) {
			pos = words[i].Pos
		}
	}
	p.d.Errorf(pos, key, hint, "%s", msg)
}

// parseHashType reads HAProxy 2.6's `hash-type map-based|consistent
// [FUNCTION [avalanche]]`. The functions are those registered in core; each
// line replaces the previous settings, as in HAProxy.
func (p *parser) parseHashType(l Line, args []Token) {
	const key = "hash-type"
	const usage = "hash-type map-based|consistent [FUNCTION [avalanche]]"
	if len(args) == 0 {
		p.d.Errorf(l.Pos, key, usage, "hash-type needs a method")
		return
	}
	switch m := args[0].Text; m {
	case "map-based", "consistent":
	case "avalanche":
		p.d.Errorf(args[0].Pos, key, "hash-type map-based sdbm avalanche", "hash-type avalanche is not supported anymore by HAProxy")
		return
	default:
		p.d.Errorf(args[0].Pos, key, hintNearest(m, []string{"map-based", "consistent"}, "map-based or consistent"), "unknown hash-type %q", m)
		return
	}
	fn, aval, ok := p.hashFunction(args[1:])
	if !ok {
		return
	}
	b := p.balanceSpec(l.Pos)
	spec := *b
	spec.HashType, spec.HashFunc, spec.HashAvalanche = args[0].Text, fn, aval
	// The algorithm judges its hash settings too (random ignores them).
	if a, ok := core.LookupAlgorithm(spec.Algorithm); ok {
		if _, err := a.Parse(spec); err != nil {
			p.d.Errorf(l.Pos, key, usage, "balance %s refuses these hash settings: %v", spec.Algorithm, err)
			return
		}
	}
	*b = spec
}

// hashFunction reads `[FUNCTION [avalanche]]` after the hash-type method.
func (p *parser) hashFunction(args []Token) (fn string, aval, ok bool) {
	const key = "hash-type"
	if len(args) == 0 {
		return "", false, true
	}
	names := core.HashFuncNames()
	if _, found := core.LookupHashFunc(args[0].Text); !found {
		hint := hintNearest(args[0].Text, names, "one of "+strings.Join(names, ", "))
		if args[0].Text == "avalanche" {
			hint = "name the function first: hash-type consistent sdbm avalanche"
		}
		p.d.Errorf(args[0].Pos, key, hint, "unknown hash function %q", args[0].Text)
		return "", false, false
	}
	if len(args) > 1 && args[1].Text != "avalanche" {
		p.d.Errorf(args[1].Pos, key, "avalanche", "only 'avalanche' is a modifier for hash functions (got %q)", args[1].Text)
		return "", false, false
	}
	if len(args) > 2 {
		p.d.Errorf(args[2].Pos, key, "hash-type map-based|consistent [FUNCTION [avalanche]]", "unexpected %q after the modifier", args[2].Text)
		return "", false, false
	}
	return args[0].Text, len(args) > 1, true
}

func (p *parser) parseCookie(l Line, args []Token) {
	const key = "cookie"
	if len(args) == 0 {
		p.d.Errorf(l.Pos, key, "cookie SERVERID insert indirect nocache", "cookie needs a name")
		return
	}
	c := &Cookie{Pos: l.Pos, Name: args[0].Text}
	for i := 1; i < len(args); i++ {
		t := args[i]
		need := func() (Token, bool) {
			if i+1 >= len(args) {
				p.d.Errorf(t.Pos, key, t.Text+" VALUE", "cookie option %s needs a value", t.Text)
				return Token{}, false
			}
			i++
			return args[i], true
		}
		switch t.Text {
		case "insert", "rewrite", "prefix":
			if c.Mode != "" && c.Mode != t.Text {
				p.d.Errorf(t.Pos, key, "choose one of insert, rewrite, prefix", "cookie modes %s and %s are exclusive", c.Mode, t.Text)
			}
			c.Mode = t.Text
		case "indirect":
			c.Indirect = true
		case "nocache":
			c.NoCache = true
		case "postonly":
			c.PostOnly = true
		case "preserve":
			c.Preserve = true
		case "httponly":
			c.HTTPOnly = true
		case "secure":
			c.Secure = true
		case "dynamic":
			c.Dynamic = true
			p.d.Errorf(t.Pos, key, "give each server a static cookie value", "dynamic cookies are not supported by varde")
		case "domain":
			if v, ok := need(); ok {
				c.Domains = append(c.Domains, v.Text)
			}
		case "attr":
			if v, ok := need(); ok {
				c.Attr = append(c.Attr, v.Text)
			}
		case "maxidle", "maxlife":
			if v, ok := need(); ok {
				d := p.durationUnit(v, key, 1e9) // HAProxy reads these in seconds by default
				if t.Text == "maxidle" {
					c.MaxIdle = d
				} else {
					c.MaxLife = d
				}
			}
		default:
			p.d.Errorf(t.Pos, key, hintNearest(t.Text, []string{"insert", "rewrite", "prefix", "indirect", "nocache", "postonly", "preserve", "httponly", "secure", "domain", "maxidle", "maxlife", "attr"}, "see docs/config.md"), "unknown cookie option %q", t.Text)
		}
	}
	if c.Preserve && c.Mode != "insert" && !c.Indirect {
		p.d.Errorf(l.Pos, key, "add insert or indirect", "cookie preserve requires insert or indirect (as in HAProxy)")
	}
	if c.Mode != "insert" && (c.NoCache || c.PostOnly) {
		p.d.Warnf(l.Pos, key, "add insert, or remove them", "cookie nocache and postonly have no effect without insert")
	}
	p.cur.Cookie = c
}

func (p *parser) parseOption(l Line, key string, words []Token, negated bool) {
	px := p.cur
	name := words[1].Text
	args := words[2:]
	o := &Option{Name: name, Pos: l.Pos, Negated: negated}
	if negated && len(args) > 0 {
		p.d.Errorf(args[0].Pos, key, "no option "+name, "`no option` takes no argument")
		return
	}
	switch {
	case negated:
	case isTCPCheckOption(name):
		if !p.parseCheckOptionArgs(key, name, words[1].Pos, args) {
			return
		}
		o.Args = Texts(args)
	case name == "forwardfor":
		ff := &ForwardFor{Header: "X-Forwarded-For"}
		for i := 0; i < len(args); i++ {
			t := args[i]
			switch t.Text {
			case "if-none":
				ff.IfNone = true
			case "except", "header":
				if i+1 >= len(args) {
					p.d.Errorf(t.Pos, key, "option forwardfor "+t.Text+" VALUE", "%s needs a value", t.Text)
					return
				}
				i++
				if t.Text == "except" {
					if _, err := parsePrefixOrAddr(args[i].Text); err != nil {
						p.d.Errorf(args[i].Pos, key, "a network such as 127.0.0.0/8", "%v", err)
						return
					}
					ff.Except = args[i].Text
				} else {
					ff.Header = args[i].Text
				}
			default:
				p.d.Errorf(t.Pos, key, "option forwardfor [except NET] [header NAME] [if-none]", "unexpected %q", t.Text)
				return
			}
		}
		o.ForwardFor = ff
	case name == "originalto":
		if o.OriginalTo = p.parseOriginalTo(key, args); o.OriginalTo == nil { // setsrc.go
			return
		}
	case name == "httpchk":
		hc := &HTTPChk{Method: "OPTIONS", URI: "/", Version: "HTTP/1.0"}
		switch len(args) {
		case 0:
		case 1:
			hc.URI = args[0].Text
		case 2, 3:
			hc.Method, hc.URI = args[0].Text, args[1].Text
			if len(args) == 3 {
				// 2010-era configs append headers to the version with \r\n.
				parts := strings.Split(args[2].Text, "\r\n")
				hc.Version = parts[0]
				for _, h := range parts[1:] {
					if h != "" {
						hc.Headers = append(hc.Headers, h)
					}
				}
			}
		default:
			p.d.Errorf(args[3].Pos, key, "option httpchk [METHOD] [URI] [VERSION]; use http-check send for headers", "too many arguments")
			return
		}
		if !strings.HasPrefix(hc.URI, "/") && hc.URI != "*" {
			p.d.Errorf(l.Pos, key, "the URI must start with '/'", "invalid check URI %q", hc.URI)
		}
		o.HTTPChk = hc
	default:
		if len(args) > 0 {
			if name == "httplog" && len(args) == 1 && args[0].Text == "clf" {
				o.Args = Texts(args) // the CLF format (logpipe.CLFLogFormat)
				break
			}
			if name == "redispatch" && len(args) == 1 {
				if _, err := strconv.Atoi(args[0].Text); err == nil {
					o.Args = Texts(args)
					break
				}
			}
			p.d.Errorf(args[0].Pos, key, "option "+name+" takes no argument", "unexpected %q", args[0].Text)
			return
		}
	}
	if px.Options == nil {
		px.Options = map[string]*Option{}
	}
	// HAProxy: the three HTTP connection modes exclude one another; the last wins.
	switch name {
	case "http-server-close", "httpclose", "http-keep-alive":
		if !negated {
			for _, other := range []string{"http-server-close", "httpclose", "http-keep-alive"} {
				if other != name {
					delete(px.Options, other)
				}
			}
		}
	case "tcp-check", "redis-check", "smtpchk", "mysql-check", "pgsql-check", "ldap-check", "httpchk", "ssl-hello-chk":
		if !negated {
			dropOtherChecks(px, name)
		}
	case "httplog", "tcplog", "jsonlog":
		if !negated {
			for _, other := range []string{"httplog", "tcplog", "jsonlog"} {
				if other != name {
					delete(px.Options, other)
				}
			}
		}
	}
	px.Options[name] = o
}

func (p *parser) parseStats(l Line, key string, words []Token) {
	px := p.cur
	if px.Stats == nil {
		px.Stats = &Stats{Pos: l.Pos}
	}
	st := px.Stats
	args := words[2:]
	kwPos := words[1].Pos
	one := func() (Token, bool) {
		if len(args) != 1 {
			p.d.Errorf(kwPos, key, key+" VALUE", "%s expects exactly one argument, got %d", key, len(args))
			return Token{}, false
		}
		return args[0], true
	}
	switch key {
	case "stats enable":
		st.Enabled = true
	case "stats uri":
		if t, ok := one(); ok {
			if !strings.HasPrefix(t.Text, "/") {
				p.d.Errorf(t.Pos, key, "e.g. /haproxy?stats", "stats uri %q must start with '/'", t.Text)
			}
			st.URI = t.Text
			st.Enabled = true
		}
	case "stats realm":
		if len(args) == 0 {
			p.d.Errorf(kwPos, key, `stats realm "HAProxy Statistics"`, "stats realm needs a value")
			return
		}
		if len(args) > 1 {
			p.d.Warnf(args[1].Pos, key, `escape spaces (Haproxy\ Statistics) or quote the realm`, "stats realm has %d words; joined with single spaces", len(args))
		}
		st.Realm = strings.Join(Texts(args), " ")
		st.Enabled = true
	case "stats auth":
		if t, ok := one(); ok {
			user, pass, found := strings.Cut(t.Text, ":")
			if !found || user == "" {
				p.d.Errorf(t.Pos, key, "stats auth USER:PASSWORD", "stats auth %q needs USER:PASSWORD", t.Text)
				return
			}
			st.Auth = append(st.Auth, StatsAuth{User: user, Password: pass})
			st.Enabled = true
		}
	case "stats refresh":
		if t, ok := one(); ok {
			st.Refresh = p.durationUnit(t, key, 1e9) // seconds by default, as in HAProxy
			st.Enabled = true
		}
	case "stats hide-version":
		st.HideVersion = true
		st.Enabled = true
	case "stats show-legends", "stats show-modules", "stats show-node", "stats show-desc":
		p.parseStatsShow(st, key, kwPos, args)
	case "stats scope":
		if t, ok := one(); ok {
			st.Scope = append(st.Scope, t.Text)
		}
	case "stats admin":
		_, cond, ok := p.splitCond(key, args)
		if !ok {
			return
		}
		if cond == nil {
			p.d.Errorf(kwPos, key, "stats admin if TRUE (or a condition such as LOCALHOST)", "stats admin needs a condition")
			return
		}
		st.Admin = append(st.Admin, cond)
	case "stats socket", "stats timeout":
		p.d.Errorf(kwPos, key, "move it to the global section", "%s is only valid in the global section", key)
	}
}

// parseStatsShow reads the `stats show-*` lines. As in HAProxy, each one
// enables the page (it creates the proxy's stats settings) except
// `stats show-desc` without text: HAProxy would show the global
// description, which varde's global section does not take, so it warns and
// ignores the line as HAProxy does without one.
func (p *parser) parseStatsShow(st *Stats, key string, kwPos diag.Pos, args []Token) {
	switch key {
	case "stats show-legends":
		st.ShowLegends = true
	case "stats show-modules":
		st.ShowModules = true
	case "stats show-node":
		st.ShowNode = "-" // the host name, HAProxy's default global node
		if len(args) > 0 {
			if !validNodeName(args[0].Text) {
				p.d.Errorf(args[0].Pos, key, "letters, digits, '-', '_' and '.'", "invalid node name %q", args[0].Text)
				return
			}
			st.ShowNode = args[0].Text
		}
	case "stats show-desc":
		if len(args) == 0 {
			p.d.Warnf(kwPos, key, "give the text: stats show-desc TEXT", "stats show-desc without text shows the global description, which is not set; ignored")
			return
		}
		st.ShowDesc = strings.Join(Texts(args), " ")
	}
	st.Enabled = true
}

// validNodeName is HAProxy's check of a node name: letters, digits, '-',
// '_' and '.'.
func validNodeName(s string) bool {
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return s != ""
}

func (p *parser) parseHTTPCheck(l Line, key string, words []Token) {
	hc := &HTTPCheck{Pos: l.Pos, Action: words[1].Text}
	args := words[2:]
	switch hc.Action {
	case "expect":
		if !p.httpCheckExpectAfterSend(key, words[1]) {
			return
		}
		i := 0
		for i < len(args) && (args[i].Text == "min-recv" || args[i].Text == "comment" || args[i].Text == "ok-status" || args[i].Text == "error-status" || args[i].Text == "tout-status" || args[i].Text == "on-success" || args[i].Text == "on-error" || args[i].Text == "status-code") {
			hc.Args = append(hc.Args, args[i].Text)
			if i+1 < len(args) {
				hc.Args = append(hc.Args, args[i+1].Text)
			}
			i += 2
		}
		if i < len(args) && args[i].Text == "!" {
			hc.Negate = true
			i++
		}
		if i+1 >= len(args) {
			p.d.Errorf(l.Pos, key, "http-check expect [!] status|rstatus|string|rstring VALUE", "http-check expect needs a match and a pattern")
			return
		}
		hc.Match = args[i].Text
		switch hc.Match {
		case "status", "rstatus", "string", "rstring":
		default:
			p.d.Errorf(args[i].Pos, key, hintNearest(hc.Match, []string{"status", "rstatus", "string", "rstring"}, "status, rstatus, string or rstring"), "unknown http-check expect match %q", hc.Match)
			return
		}
		hc.Pattern = strings.Join(Texts(args[i+1:]), " ")
		if len(args[i+1:]) > 1 {
			p.d.Warnf(args[i+2].Pos, key, "quote the pattern", "pattern has several words; joined with single spaces")
		}
		if hc.Match == "status" {
			for _, part := range strings.Split(hc.Pattern, ",") {
				lo, hi, _ := strings.Cut(part, "-")
				if _, err := ParseInt(lo, 100, 599); err != nil {
					p.d.Errorf(args[i+1].Pos, key, "a status code such as 200, a list 200,301 or a range 200-399", "invalid status %q", hc.Pattern)
					return
				}
				if hi != "" {
					if _, err := ParseInt(hi, 100, 599); err != nil {
						p.d.Errorf(args[i+1].Pos, key, "a range such as 200-399", "invalid status %q", hc.Pattern)
						return
					}
				}
			}
		}
	case "send":
		for i := 0; i < len(args); i++ {
			t := args[i]
			need := func() (string, bool) {
				if i+1 >= len(args) {
					p.d.Errorf(t.Pos, key, "http-check send [meth M] [uri U] [ver V] [hdr NAME VALUE]* [body STRING]", "%s needs a value", t.Text)
					return "", false
				}
				i++
				return args[i].Text, true
			}
			var ok bool
			switch t.Text {
			case "meth":
				hc.Method, ok = need()
			case "uri":
				hc.URI, ok = need()
			case "ver":
				hc.Version, ok = need()
			case "body":
				hc.Body, ok = need()
			case "hdr":
				var n, v string
				if n, ok = need(); ok {
					if v, ok = need(); ok {
						hc.Headers = append(hc.Headers, Header{Name: n, Value: v})
					}
				}
			default:
				p.d.Errorf(t.Pos, key, hintNearest(t.Text, []string{"meth", "uri", "ver", "hdr", "body"}, "meth, uri, ver, hdr, body"), "unknown http-check send option %q", t.Text)
				return
			}
			if !ok {
				return
			}
		}
	case "connect":
		if !p.parseHTTPCheckConnect(key, hc, words[1], args) {
			return
		}
	case "disable-on-404", "send-state", "comment":
		hc.Args = Texts(args)
	}
	p.cur.HTTPCheck = append(p.cur.HTTPCheck, hc)
}

func (p *parser) parseHTTPRule(l Line, key string, words []Token) {
	px := p.cur
	action := words[1].Text
	args, cond, ok := p.splitCond(key, words[2:])
	if !ok {
		return
	}
	r := &HTTPRule{Pos: l.Pos, Action: action, Cond: cond}
	if name, ok := strings.CutPrefix(action, "lua."); ok {
		if !validLuaName(name) {
			p.d.Errorf(words[1].Pos, key, "lua.NAME where NAME was registered with core.register_action", "bad lua action name %q", action)
			return
		}
		r.Action, r.Name, r.Args = "lua", name, Texts(args)
	}
	needN := func(n int, usage string) bool {
		if len(args) != n {
			p.d.Errorf(words[1].Pos, key, usage, "%s expects %d argument(s), got %d", key, n, len(args))
			return false
		}
		return true
	}
	switch action {
	case "set-header", "add-header":
		if len(args) < 2 {
			p.d.Errorf(words[1].Pos, key, key+" NAME VALUE", "%s needs a header name and a value", key)
			return
		}
		r.Name = args[0].Text
		r.Value = strings.Join(Texts(args[1:]), " ")
		if len(args) > 2 {
			p.d.Warnf(args[2].Pos, key, "quote the value", "header value has several words; joined with single spaces")
		}
	case "del-header":
		if len(args) == 3 && args[1].Text == "-m" {
			if !parseDelHeaderMatch(p, key, args, r) { // rewrite.go
				return
			}
		} else if !needN(1, key+" NAME [-m str|beg|end|sub|reg]") {
			return
		}
		r.Name = args[0].Text
	case "auth":
		if !p.parseAuthRule(key, args, r) {
			return
		}
	case "allow":
		if !needN(0, key+" [if|unless COND]") {
			return
		}
	case "deny":
		r.Status = 403
		if strings.HasPrefix(key, "http-response ") {
			r.Status, r.Response = 502, true // HAProxy 2.6: a denied response is a 502
		}
		if !p.parseReturn(key, args, r, true) {
			return
		}
	case "return":
		r.Status = 200
		r.Response = strings.HasPrefix(key, "http-response ")
		if !p.parseReturn(key, args, r, false) {
			return
		}
		if r.Return == nil {
			r.Return = &Return{}
		}
	case "redirect":
		if key != "http-request redirect" {
			p.d.Errorf(words[1].Pos, key, "use http-request redirect", "redirect is only an http-request action")
			return
		}
		rd, ok := p.parseRedirect(key, words[1], args)
		if !ok {
			return
		}
		r.Redirect = rd
	case "track-sc0", "track-sc1", "track-sc2":
		if r.Track, ok = p.parseTrack(key, action, words[1].Pos, args); !ok {
			return
		}
	case "sc-inc-gpc0(0)", "sc-inc-gpc0(1)", "sc-inc-gpc0(2)", "sc-set-gpt0(0)", "sc-set-gpt0(1)", "sc-set-gpt0(2)":
		if r.Track, ok = p.parseSCAction(key, action, words[1].Pos, args); !ok {
			return
		}
	case "use-service":
		if !needN(1, "http-request use-service prometheus-exporter") {
			return
		}
		if name, ok := strings.CutPrefix(args[0].Text, "lua."); ok && validLuaName(name) {
			r.Service = args[0].Text // checked against the scripts' registrations at prepare
		} else if args[0].Text != "prometheus-exporter" {
			p.d.Errorf(args[0].Pos, key, "prometheus-exporter", "service %q is not supported by varde", args[0].Text)
			return
		}
		r.Service = args[0].Text
	default:
		if fn := ruleParsers[actionBase(action)]; fn != nil && !fn(p, key, words[1], args, r) {
			return
		}
	}
	if strings.HasPrefix(key, "http-request") {
		px.HTTPRequest = append(px.HTTPRequest, r)
	} else if strings.HasPrefix(key, "http-after-response") {
		px.HTTPAfterResponse = append(px.HTTPAfterResponse, r)
	} else {
		px.HTTPResponse = append(px.HTTPResponse, r)
	}
}

func (p *parser) parseCapture(l Line, key string, words []Token) {
	c := &Capture{Pos: l.Pos}
	var rest []Token
	if key == "capture cookie" {
		c.What = "cookie"
		rest = words[2:]
	} else {
		c.What = words[1].Text
		rest = words[3:]
	}
	if len(rest) != 3 || rest[1].Text != "len" {
		p.d.Errorf(l.Pos, key, key+" NAME len N", "malformed capture")
		return
	}
	c.Name = rest[0].Text
	n, ok := p.intVal(rest[2], key, 1, 65535)
	if !ok {
		return
	}
	c.Len = n
	p.cur.Captures = append(p.cur.Captures, c)
}

// posOf is a helper for callers that need a Pos from an optional token.
func posOf(ts []Token, i int, def diag.Pos) diag.Pos {
	if i < len(ts) {
		return ts[i].Pos
	}
	return def
}

const policyUsage = "policy FILE.lua|FILE.wasm [timeout DURATION] [fallback ALGO]"

// parsePolicy reads `policy FILE [timeout DURATION] [fallback ALGO]`. The
// file is compiled later, at preparation (core/proxy), where its script
// errors are located at this line.
func (p *parser) parsePolicy(px *Proxy, key string, kwPos diag.Pos, args []Token) {
	if len(args) == 0 {
		p.d.Errorf(kwPos, key, policyUsage, "policy expects a file")
		return
	}
	t := args[0]
	if !strings.HasSuffix(t.Text, ".lua") && !strings.HasSuffix(t.Text, ".wasm") {
		p.d.Errorf(t.Pos, key, "a Lua (.lua) or WebAssembly (.wasm) file", "policy file %q has an unknown type", t.Text)
		return
	}
	pl := &PolicyLine{File: t.Text, Path: t.Text, Pos: kwPos}
	if !filepath.IsAbs(pl.Path) {
		pl.Path = filepath.Join(filepath.Dir(kwPos.File), pl.Path)
	}
	if abs, err := filepath.Abs(pl.Path); err == nil {
		pl.Path = abs
	}
	for i := 1; i < len(args); i += 2 {
		if i+1 >= len(args) {
			p.d.Errorf(args[i].Pos, key, policyUsage, "%s expects a value", args[i].Text)
			return
		}
		v := args[i+1]
		switch args[i].Text {
		case "timeout":
			if pl.Timeout = p.duration(v, key); pl.Timeout <= 0 {
				p.d.Errorf(v.Pos, key, "e.g. timeout 2ms", "policy timeout must be positive")
				return
			}
		case "fallback":
			if !px.IsBackend() {
				p.d.Errorf(args[i].Pos, key, "a frontend falls back to its use_backend rules and default_backend; put fallback on a backend's policy", "fallback applies to server choice, in a backend or listen")
				return
			}
			if _, err := core.ParseBalance(core.BalanceSpec{Algorithm: v.Text}); err != nil {
				p.d.Errorf(v.Pos, key, "", "fallback: %v", err)
				return
			}
			pl.Fallback = v.Text
		default:
			p.d.Errorf(args[i].Pos, key, policyUsage, "unknown policy option %q", args[i].Text)
			return
		}
	}
	px.Policies = append(px.Policies, pl)
}

// validLuaName reports whether name can be a registered Lua action,
// service, fetch or converter name (HAProxy keyword characters).
func validLuaName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
