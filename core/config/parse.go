package config

import (
	"sort"
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// Parse reads one haproxy.cfg-syntax file into a new Config. env looks up
// environment variables for ${VAR} (nil: none set). Problems are added to d;
// the returned Config holds everything that could be read.
func Parse(file string, src []byte, env func(string) string, d *diag.List) *Config {
	p := newParser(d)
	p.parseFile(file, src, env)
	p.finish()
	return p.cfg
}

// parser keeps state across files: as in HAProxy, several -f files behave
// like one concatenated file (the last defaults section carries over).
type parser struct {
	cfg *Config
	d   *diag.List

	section   string // global, defaults, frontend, backend, listen, skip
	cur       *Proxy
	ul        *Userlist  // the userlist section being read
	res       *Resolvers // the resolvers section being read
	lastDef   *Proxy
	globalSet bool

	env      func(string) string // of the file being read
	secLabel string              // ${.SECTION}: the section's name, or its kind

	peers *Peers // the peers section being read (peers.go)
	// localPeer is this node's peer name: -L, the global localpeer, or
	// the host name; localPeerCmdline is set for -L.
	localPeer        string
	localPeerCmdline bool

	curFile string      // the file being read
	dp      defaultPath // default-path (defaultpath.go)
}

func newParser(d *diag.List) *parser {
	if d == nil {
		d = &diag.List{}
	}
	return &parser{cfg: &Config{}, d: d}
}

var sectionNames = []string{"global", "defaults", "frontend", "backend", "listen"}

func (p *parser) parseFile(file string, src []byte, env func(string) string) {
	// A new file starts outside any section, as in HAProxy.
	p.section, p.cur, p.secLabel, p.env = "", nil, "", env
	p.curFile = file
	p.defaultPathNextFile(file) // defaultpath.go
	// Each line's lexing diagnostics go through a scratch list: like
	// HAProxy, varde reports lexing errors on every line, even in a
	// skipped .if block, but warnings (an unset "${VAR}") only on lines it
	// uses, so `.if defined(CERT)` does not warn that CERT is unset.
	var lexd diag.List
	lx := &lexer{file: file, env: env, d: &lexd}
	var conds condBlocks
	eachLine(src, func(n int, raw []byte) {
		// Lexed line by line, not up front: ${.SECTION} names the
		// section being read, as in HAProxy.
		l, ok := lx.line(n, raw, p.secLabel)
		used := ok && !conds.masked() && !strings.HasPrefix(l.Keyword(), ".")
		for _, it := range lexd.Items() {
			if used || it.Severity == diag.Error {
				p.d.Add(it)
			}
		}
		lexd.Reset()
		if !ok || p.directive(&conds, l) {
			return
		}
		p.line(l)
	})
	conds.finish(p.d)
}

func (p *parser) use(kw string, pos diag.Pos) {
	p.cfg.Uses = append(p.cfg.Uses, Use{Keyword: kw, Pos: pos})
}

func (p *parser) line(l Line) {
	if !p.wellFormed(l) {
		return
	}
	kw := l.Keyword()
	p.expandAddresses(l)
	switch kw {
	case "global":
		p.section, p.cur = "global", nil
		if !p.globalSet {
			p.cfg.Global.Pos = l.Pos
			p.globalSet = true
		}
		if len(l.Words) > 1 {
			p.d.Errorf(l.Words[1].Pos, "global", "remove the extra words", "global takes no argument")
		}
		return
	case "defaults", "frontend", "backend", "listen":
		p.startProxy(l)
		return
	case "userlist":
		p.startUserlist(l)
		return
	case "resolvers":
		p.startResolvers(l)
		return
	case "peers":
		p.startPeers(l)
		return
	case "http-errors":
		p.startHTTPErrors(l)
		return
	case "cache":
		p.startCache(l) // cache.go
		return
	}
	if hint, ok := UnsupportedSections[kw]; ok {
		p.d.Errorf(l.Pos, kw, hint, "section %q is a HAProxy feature varde does not support", kw)
		p.section, p.cur = "skip", nil
		return
	}
	switch p.section {
	case "":
		p.d.Errorf(l.Pos, kw, "start a section first: "+strings.Join(sectionNames, ", "), "keyword %q outside of any section", kw)
	case "skip":
		// inside an unsupported section: already reported
	case "global":
		p.globalLine(l)
	case "userlist":
		p.userlistLine(l)
	case "resolvers":
		p.resolversLine(l)
	case "peers":
		if p.peers != nil {
			p.peersLine(l)
		}
	case "http-errors":
		p.httpErrorsLine(l)
	case "cache":
		p.cacheLine(l)
	default:
		p.proxyLine(l)
	}
}

func validProxyName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || c == '.' || c == ':' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}

func (p *parser) startProxy(l Line) {
	kind := l.Keyword()
	args := l.Args(1)
	px := &Proxy{Kind: kind, Pos: l.Pos}
	var fromTok *Token
	var rest []Token
	for i := 0; i < len(args); i++ {
		if args[i].Text == "from" && i+1 < len(args) && (kind == KindDefaults && i <= 1 || kind != KindDefaults && i == 1) {
			fromTok = &args[i+1]
			rest = append(rest, args[i+2:]...)
			break
		}
		rest = append(rest, args[i])
	}
	if kind != KindDefaults || len(rest) > 0 {
		if len(rest) == 0 {
			p.d.Errorf(l.Pos, kind, kind+" NAME", "%s section needs a name", kind)
		} else {
			px.Name = rest[0].Text
			if !validProxyName(px.Name) {
				p.d.Errorf(rest[0].Pos, kind, "use letters, digits, '-', '_', '.' and ':'", "invalid %s name %q", kind, px.Name)
			}
			rest = rest[1:]
		}
	}
	// Inherit: `from NAME` or the last defaults section seen.
	var base *Proxy
	if fromTok != nil {
		px.From = fromTok.Text
		base = p.cfg.DefaultsNamed(fromTok.Text)
		if base == nil {
			var names []string
			for _, d := range p.cfg.Defaults {
				if d.Name != "" {
					names = append(names, d.Name)
				}
			}
			p.d.Errorf(fromTok.Pos, kind, hintNearest(fromTok.Text, names, "declare `defaults "+fromTok.Text+"` before this section"), "defaults section %q not found", fromTok.Text)
		}
	} else if kind != KindDefaults {
		base = p.lastDef
		if base != nil && base.Name != "" {
			px.From = base.Name
		}
	}
	if base != nil {
		inherit(px, base)
	} else {
		px.Retries = DefaultRetries
	}
	p.cur, p.section = px, kind
	switch kind {
	case KindDefaults:
		p.cfg.Defaults = append(p.cfg.Defaults, px)
		p.lastDef = px
	case KindFrontend:
		p.cfg.Frontends = append(p.cfg.Frontends, px)
		p.cfg.Proxies = append(p.cfg.Proxies, px)
	case KindBackend:
		p.cfg.Backends = append(p.cfg.Backends, px)
		p.cfg.Proxies = append(p.cfg.Proxies, px)
	case KindListen:
		p.cfg.Frontends = append(p.cfg.Frontends, px)
		p.cfg.Backends = append(p.cfg.Backends, px)
		p.cfg.Proxies = append(p.cfg.Proxies, px)
	}
	if len(rest) > 0 {
		if kind == KindListen || kind == KindFrontend {
			// HAProxy 1.x form: `listen NAME ADDR:PORT[,ADDR:PORT]`.
			p.d.Warnf(rest[0].Pos, kind, "write `bind "+rest[0].Text+"` on its own line", "`%s NAME ADDR:PORT` is the HAProxy 1.x form; accepted as a bind line (HAProxy 2.x refuses it)", kind)
			p.use("bind", rest[0].Pos)
			p.parseBind(Line{Pos: rest[0].Pos, Words: append([]Token{{Text: "bind", Pos: rest[0].Pos}}, rest...)})
		} else {
			p.d.Errorf(rest[0].Pos, kind, "remove the extra words", "unexpected %q after the section name", rest[0].Text)
		}
	}
}

// inherit copies what a defaults section may set into a new proxy.
func inherit(px, def *Proxy) {
	px.Mode, px.ModePos = def.Mode, def.ModePos
	px.Disabled = def.Disabled
	px.MaxConn, px.FullConn, px.Retries = def.MaxConn, def.FullConn, def.Retries
	px.LoadServerState, px.LoadServerStatePos = def.LoadServerState, def.LoadServerStatePos // not server-state-file-name, as HAProxy
	px.RetryOn = append([]string(nil), def.RetryOn...)
	px.Timeouts = def.Timeouts
	if def.Options != nil {
		px.Options = make(map[string]*Option, len(def.Options))
		for k, v := range def.Options {
			px.Options[k] = v
		}
	}
	if def.Balance != nil {
		b := *def.Balance
		b.Args = append([]string(nil), b.Args...)
		px.Balance, px.BalancePos = &b, def.BalancePos
	}
	if def.Cookie != nil {
		c := *def.Cookie
		px.Cookie = &c
	}
	px.HTTPCheck = append([]*HTTPCheck(nil), def.HTTPCheck...)
	px.TCPCheck = append([]*TCPCheck(nil), def.TCPCheck...)
	px.ErrorFiles = append([]*ErrorFile(nil), def.ErrorFiles...)
	px.Logs = append([]*Log(nil), def.Logs...)
	px.LogFormat = def.LogFormat
	px.UniqueIDFormat, px.UniqueIDHeader = def.UniqueIDFormat, def.UniqueIDHeader
	if def.Stats != nil {
		s := *def.Stats
		s.Auth = append([]StatsAuth(nil), s.Auth...)
		px.Stats = &s
	}
	if def.DefaultServer != nil {
		o := *def.DefaultServer
		px.DefaultServer = &o
	}
	px.DefaultBackend = def.DefaultBackend
	px.HTTPRequest = append([]*HTTPRule(nil), def.HTTPRequest...)
	px.HTTPResponse = append([]*HTTPRule(nil), def.HTTPResponse...)
	px.HTTPAfterResponse = append([]*HTTPRule(nil), def.HTTPAfterResponse...)
	px.MonitorURI = def.MonitorURI
	px.RateLimitSessions = def.RateLimitSessions
	px.Source = def.Source
	px.HTTPReuse = def.HTTPReuse
	px.LogTag = def.LogTag
	px.SendNameHeader = def.SendNameHeader
	px.Compression = inheritCompression(def.Compression)
	if len(px.HTTPCheck) == 0 {
		px.HTTPCheck = nil
	}
	if len(px.TCPCheck) == 0 {
		px.TCPCheck = nil
	}
	if len(px.ErrorFiles) == 0 {
		px.ErrorFiles = nil
	}
	if len(px.Logs) == 0 {
		px.Logs = nil
	}
	if len(px.HTTPRequest) == 0 {
		px.HTTPRequest = nil
	}
	if len(px.HTTPResponse) == 0 {
		px.HTTPResponse = nil
	}
	if len(px.HTTPAfterResponse) == 0 {
		px.HTTPAfterResponse = nil
	}
}

// hintNearest suggests the nearest candidate, or returns fallback.
func hintNearest(word string, candidates []string, fallback string) string {
	if n := nearest(word, candidates); n != "" {
		return "did you mean " + quoteKw(n) + "?"
	}
	return fallback
}

func quoteKw(s string) string { return "`" + s + "`" }

// sectionsOf names the sections the keyword is valid in, for hints.
func sectionsOf(kw string) string {
	var sec Section
	for _, k := range Keywords {
		if k.Name == kw || strings.HasPrefix(k.Name, kw+" ") {
			sec |= k.Sections
		}
	}
	var names []string
	for _, s := range []struct {
		bit  Section
		name string
	}{{SecGlobal, "global"}, {SecDefaults, "defaults"}, {SecFrontend, "frontend"}, {SecBackend, "backend"}, {SecResolvers, "resolvers"}, {SecPeers, "peers"}, {SecCache, "cache"}} {
		if sec&s.bit != 0 {
			names = append(names, s.name)
		}
	}
	if sec&(SecFrontend|SecBackend) != 0 {
		names = append(names, "listen")
	}
	return strings.Join(names, ", ") + " sections"
}

// keywordsFor lists table keywords usable in section sec with the given
// family prefix ("option ", "timeout ", ... or "" for first words).
func keywordsFor(sec Section, prefix string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range Keywords {
		if k.Sections&sec == 0 {
			continue
		}
		name := k.Name
		if prefix == "" {
			if strings.HasPrefix(name, "server ") || strings.HasPrefix(name, "bind ") || strings.HasPrefix(name, "log ") {
				name = strings.Fields(name)[0]
			}
			name = strings.Fields(name)[0]
		} else {
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			name = strings.TrimPrefix(name, prefix)
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func sectionBit(kind string) Section {
	switch kind {
	case "global":
		return SecGlobal
	case KindDefaults:
		return SecDefaults
	case KindFrontend:
		return SecFrontend
	case KindBackend:
		return SecBackend
	case KindListen:
		return SecFrontend | SecBackend
	}
	return 0
}

// checkKeyword resolves the table key of a line and reports unknown,
// unsupported or misplaced keywords. ok is false when the line must be skipped.
func (p *parser) checkKeyword(l Line, words []Token, sec Section, secName string) (key string, ok bool) {
	kw := words[0].Text
	key = kw
	family := ""
	switch kw {
	case "option", "timeout", "stats", "http-check", "tcp-check", "http-request", "http-response", "http-after-response", "compression", "monitor", "rate-limit":
		family = kw + " "
		if len(words) < 2 {
			p.d.Errorf(words[0].Pos, kw, kw+" "+strings.Join(keywordsFor(sec, family), "|"), "%s needs an argument", kw)
			return "", false
		}
		key = kw + " " + words[1].Text
		if (kw == "http-request" || kw == "http-response" || kw == "http-after-response") && strings.HasPrefix(words[1].Text, "lua.") {
			key = kw + " lua" // lua.NAME: names are checked once the scripts ran
		}
		if a, _, ok := strings.Cut(words[1].Text, "("); ok && (kw == "http-request" || kw == "http-response" || kw == "http-after-response" || kw == "http-check" || kw == "tcp-check") && LookupKeyword(kw+" "+a) != nil {
			key = kw + " " + a // set-var(txn.x), sc-inc-gpc0(N): one keyword for every argument
		}
	case "filter":
		if len(words) >= 2 && words[1].Text == "compression" {
			key, family = "filter compression", "filter " // any other filter stays refused
		}
	case "stick":
		family = "stick "
		if len(words) < 2 {
			p.d.Errorf(words[0].Pos, kw, "stick on|match|store-request EXPR [table NAME]", "stick needs an argument")
			return "", false
		}
		key = kw + " " + words[1].Text
	case "tcp-request":
		family = "tcp-request "
		var ok bool
		if key, ok = p.tcpRequestKey(words); !ok {
			return "", false
		}
	case "tcp-response":
		family = "tcp-response "
		var ok bool
		if key, ok = p.tcpResponseKey(words); !ok { // tcpresponse.go
			return "", false
		}
	case "declare":
		family = "declare "
		if len(words) < 2 {
			p.d.Errorf(words[0].Pos, kw, "declare capture request|response len N", "declare needs arguments")
			return "", false
		}
		key = kw + " " + words[1].Text
	case "capture":
		family = "capture "
		if len(words) >= 2 && words[1].Text == "cookie" {
			key = "capture cookie"
		} else if len(words) >= 3 {
			key = "capture " + words[1].Text + " " + words[2].Text
		} else {
			p.d.Errorf(words[0].Pos, kw, "capture request header NAME len N", "capture needs arguments")
			return "", false
		}
	}
	if p.legacyRefused(words, key) { // legacy.go: HAProxy 2.6's own refusal
		return "", false
	}
	if hint, bad := Unsupported[key]; bad {
		p.d.Errorf(words[0].Pos, key, hint, "%q is a HAProxy keyword varde does not support", key)
		return "", false
	}
	if hint, bad := Unsupported[kw]; bad && family == "" {
		p.d.Errorf(words[0].Pos, kw, hint, "%q is a HAProxy keyword varde does not support", kw)
		return "", false
	}
	info := LookupKeyword(key)
	if info == nil {
		if !p.notYet(words, key, family != "") {
			p.unknownKeyword(words, key, family, sec, secName)
		}
		return "", false
	}
	if info.Sections&sec == 0 {
		// As HAProxy: a frontend keyword in a backend (or the reverse) is
		// ignored with a warning, except server lines; anything else
		// misplaced (defaults, global) is an error. HAProxy's retry-on
		// parser refuses a frontend itself.
		if (sec == SecFrontend || sec == SecBackend) && info.Sections&(SecFrontend|SecBackend) != 0 && key != "server" && key != "default-server" && key != "retry-on" {
			other := "backend"
			if sec == SecBackend {
				other = "frontend"
			}
			p.d.Warnf(words[0].Pos, key, "move it to a "+other+" or listen section, or remove it", "%q ignored: %s %q has no %s capability (as in HAProxy)", key, secName, p.cur.Name, other)
			return "", false
		}
		where := []string{}
		for _, s := range []struct {
			b Section
			n string
		}{{SecGlobal, "global"}, {SecDefaults, "defaults"}, {SecFrontend, "frontend"}, {SecBackend, "backend"}, {SecResolvers, "resolvers"}} {
			if info.Sections&s.b != 0 {
				where = append(where, s.n)
			}
		}
		if info.Sections&(SecFrontend|SecBackend) != 0 {
			where = append(where, "listen")
		}
		p.d.Errorf(words[0].Pos, key, "allowed in: "+strings.Join(where, ", "), "%q is not allowed in a %s section", key, secName)
		return "", false
	}
	p.use(key, words[0].Pos)
	return key, true
}

// notYet reports a real HAProxy 2.6 keyword varde lacks: the user's
// configuration is right for HAProxy, so "unknown keyword" would mislead.
func (p *parser) notYet(words []Token, key string, isFamily bool) bool {
	base := key
	if i := strings.IndexByte(base, '('); i > 0 {
		base = base[:i] // http-request set-var(txn.x)
	}
	all := SecGlobal | SecDefaults | SecFrontend | SecBackend
	if !isHAProxyKeyword(base, SecGlobal) && !isHAProxyKeyword(base, all&^SecGlobal) {
		return false
	}
	at := words[0].Pos
	hint := "see docs/config.md for what varde supports"
	if isFamily {
		at = words[1].Pos
		fam, word, _ := strings.Cut(base, " ")
		if h, ok := unsupportedHTTPActions[word]; ok && (fam == "http-request" || fam == "http-response") && !strings.HasPrefix(h, "not available") {
			hint = h // an alternative varde has
		}
	}
	// Named without its argument (set-var, not set-var(txn.a)), so the
	// same missing keyword on many lines groups into one report.
	p.d.Errorf(at, base, hint, "%q is a HAProxy keyword not supported by varde yet", base)
	return true
}

// unknownKeyword reports a keyword neither varde nor HAProxy 2.6 knows,
// with a did-you-mean when a known keyword is a plausible typo.
func (p *parser) unknownKeyword(words []Token, key, family string, sec Section, secName string) {
	kw := words[0].Text
	if family != "" {
		word := strings.TrimPrefix(key, family)
		if i := strings.IndexByte(word, '('); i > 0 && (family == "http-request " || family == "http-response ") {
			word = word[:i]
		}
		if hint, bad := unsupportedHTTPActions[word]; bad && (family == "http-request " || family == "http-response ") {
			p.d.Errorf(words[1].Pos, key, hint, "%q is a HAProxy action varde does not support", key)
			return
		}
		p.d.Errorf(words[1].Pos, key, hintNearest(word, keywordsFor(SecGlobal|SecDefaults|SecFrontend|SecBackend, family), "see docs/config.md for the supported keywords"), "unknown keyword %q", key)
		return
	}
	cands := keywordsFor(sec, "")
	if sec != SecGlobal {
		cands = append(cands, "no", "frontend", "backend", "listen", "defaults", "global")
	}
	hint := hintNearest(kw, cands, "")
	if hint == "" {
		// A typo of a keyword that belongs to another section (e.g.
		// `balanse` in a frontend): name it and where it is valid.
		if n := nearest(kw, keywordsFor(SecGlobal|SecDefaults|SecFrontend|SecBackend, "")); n != "" {
			hint = "did you mean " + quoteKw(n) + "? it is valid in " + sectionsOf(n)
		} else {
			hint = "see docs/config.md for the supported keywords"
		}
	}
	p.d.Errorf(words[0].Pos, kw, hint, "unknown keyword %q in %s section", kw, secName)
}

// unsupportedHTTPActions are HAProxy http-request/response actions varde refuses.
var unsupportedHTTPActions = map[string]string{
	"set-nice": "not available in varde",
	"set-tos":  "not available in varde", "set-mark": "not available in varde",
	"early-hint":  "not available in varde",
	"silent-drop": "use deny", "reject": "use deny", "wait-for-body": "not available in varde",
	"do-resolve": "not available in varde", "disable-l7-retry": "not available in varde",
	"strict-mode": "not available in varde", "send-spoe-group": "not available in varde",
	"set-timeout": "not available in varde", "set-bandc-limit": "not available in varde",
}
