package config

import (
	"slices"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// Everyday HAProxy 2.6 keywords that have no subsystem of their own:
// monitor-uri/monitor fail, default-path, master-worker, strict-limits and
// the tune.* knobs real configurations set. proxyLine and globalLine hand
// them here so this file grows without editing their switches.

// MonitorFail is one `monitor fail if|unless COND` line.
type MonitorFail struct {
	Pos  diag.Pos   `json:"pos"`
	Cond *Condition `json:"cond"`
}

// miscProxyLine parses the proxy keywords of this file; false means the
// key is not one of them.
func (p *parser) miscProxyLine(l Line, key string, args []Token) bool {
	switch key {
	case "monitor fail":
		p.parseMonitorFail(l, args[1:])
	case "redirect":
		p.parseBareRedirect(l)
	case "errorloc", "errorloc302", "errorloc303":
		p.parseErrorloc(l, key, args)
	case "use-server":
		p.parseUseServer(l, args)
	case "dispatch":
		p.parseDispatch(l, args)
	case "rate-limit sessions":
		if len(args) != 2 {
			p.d.Errorf(l.Pos, key, "rate-limit sessions N", "'rate-limit sessions' expects an integer value")
			return true
		}
		if n, ok := p.intVal(args[1], key, 0, 1<<31-1); ok {
			p.cur.RateLimitSessions = int(n)
		}
	default:
		return false
	}
	return true
}

// parseMonitorFail reads `monitor fail if|unless COND`: HAProxy answers
// the monitor-uri with 503 when it matches.
func (p *parser) parseMonitorFail(l Line, args []Token) {
	const key = "monitor fail"
	if len(args) == 0 || (args[0].Text != "if" && args[0].Text != "unless") {
		// HAProxy: "'monitor fail' expects either 'if' or 'unless' followed by a condition."
		p.d.Errorf(l.Pos, key, "monitor fail if|unless CONDITION", "'monitor fail' expects either 'if' or 'unless' followed by a condition")
		return
	}
	_, cond, ok := p.splitCond(key, args)
	if !ok || cond == nil {
		return
	}
	p.cur.MonitorFail = append(p.cur.MonitorFail, &MonitorFail{Pos: l.Pos, Cond: cond})
}

// Dispatch is a backend's `dispatch ADDR:PORT`: with no `balance` (in
// the backend or its defaults), HAProxy sends every request there and
// ignores the server lines; with one, dispatch is ignored with a warning.
type Dispatch struct {
	Pos     diag.Pos `json:"pos"`
	Address Address  `json:"address"`
}

// parseDispatch reads `dispatch ADDR:PORT`.
func (p *parser) parseDispatch(l Line, args []Token) {
	const key = "dispatch"
	if len(args) != 1 {
		p.d.Errorf(l.Pos, key, "dispatch ADDR:PORT", "'dispatch' expects exactly one address")
		return
	}
	a, err := ParseAddress(args[0].Text, true)
	if err != nil {
		p.d.Errorf(args[0].Pos, key, "dispatch ADDR:PORT", "%v", err)
		return
	}
	if !a.Addr.IsValid() || a.Addr.Addr().IsUnspecified() {
		p.d.Errorf(args[0].Pos, key, "write the server's IP address", "dispatch to %q is not built yet: varde dispatches to an IP address only", args[0].Text)
		return
	}
	p.cur.Dispatch = &Dispatch{Pos: l.Pos, Address: a}
}

// UseServer is one `use-server NAME if|unless COND` line.
type UseServer struct {
	Pos    diag.Pos   `json:"pos"`
	Server string     `json:"server"`
	Cond   *Condition `json:"cond"`
}

// parseUseServer reads `use-server NAME if|unless COND`.
func (p *parser) parseUseServer(l Line, args []Token) {
	const key = "use-server"
	if len(args) < 2 || (args[1].Text != "if" && args[1].Text != "unless") {
		p.d.Errorf(l.Pos, key, "use-server NAME if|unless CONDITION", "'use-server' requires either 'if' or 'unless' followed by a condition")
		return
	}
	if strings.Contains(args[0].Text, "%[") {
		p.d.Errorf(args[0].Pos, key, "name the server; route by condition with one use-server line per server", "use-server with a dynamic name is not built yet: the requests would be balanced instead of sent to the named server")
		return
	}
	_, cond, ok := p.splitCond(key, args[1:])
	if !ok || cond == nil {
		return
	}
	p.cur.UseServers = append(p.cur.UseServers, &UseServer{Pos: l.Pos, Server: args[0].Text, Cond: cond})
}

// parseErrorloc reads `errorloc|errorloc302|errorloc303 CODE URL`: the
// proxy answers CODE with a 302 (303) redirect to URL instead of a page,
// as HAProxy 2.6 builds it (http_parse_errorloc). Like errorfile, a later
// line for the same code wins.
func (p *parser) parseErrorloc(l Line, key string, args []Token) {
	if len(args) < 2 {
		p.d.Errorf(l.Pos, key, key+" CODE URL", "%s expects <status_code> and <url> as arguments", key)
		return
	}
	if len(args) > 2 {
		p.d.Warnf(args[2].Pos, key, "remove the extra words", "%s: words after the URL are ignored (as HAProxy does)", key)
	}
	code, err := strconv.Atoi(args[0].Text)
	if err != nil || !contains(errorfileCodes, args[0].Text) {
		p.d.Errorf(args[0].Pos, key, "one of 200 400 401 403 404 405 407 408 410 413 425 429 500 501 502 503 504", "status code '%s' not handled", args[0].Text)
		return
	}
	loc := 302
	if key == "errorloc303" {
		loc = 303
	}
	ef := &ErrorFile{Pos: l.Pos, Code: code, Location: args[1].Text, LocCode: loc}
	p.cur.ErrorFiles = append(dropCode(p.cur.ErrorFiles, code), ef)
}

// parseBareRedirect reads `redirect location|prefix|scheme ...`, which
// HAProxy 2.6 still accepts in frontends and backends with the syntax and
// meaning of `http-request redirect`, but evaluates after the proxy's
// http-request rules (and its stats page), before use_backend. The rule
// is parsed by parseHTTPRule and kept in Proxy.Redirects.
func (p *parser) parseBareRedirect(l Line) {
	const as = "http-request redirect"
	words := append([]Token{{Text: "http-request", Pos: l.Words[0].Pos}, {Text: "redirect", Pos: l.Words[0].Pos}}, l.Words[1:]...)
	saved, scratch := p.d, &diag.List{}
	p.d = scratch
	n := len(p.cur.HTTPRequest)
	p.parseHTTPRule(l, as, words)
	p.d = saved
	for _, it := range scratch.Items() {
		if it.Keyword == as {
			it.Keyword = "redirect"
		}
		p.d.Add(it)
	}
	if len(p.cur.HTTPRequest) > n {
		p.cur.Redirects = append(p.cur.Redirects, p.cur.HTTPRequest[n])
		p.cur.HTTPRequest = p.cur.HTTPRequest[:n]
	}
}

// miscGlobalLine parses the global keywords of this file.
func (p *parser) miscGlobalLine(key string, args []Token, kwPos diag.Pos) {
	g := &p.cfg.Global
	switch key {
	case "default-path":
		p.parseDefaultPath(args, kwPos)
	case "master-worker":
		if len(args) > 0 && args[0].Text != "no-exit-on-failure" {
			p.d.Errorf(args[0].Pos, key, "master-worker [no-exit-on-failure]", "unexpected %q", args[0].Text)
			return
		}
		g.MasterWorker = true
		p.d.Warnf(kwPos, key, "remove the line (-W is accepted too)", "accepted: varde is its own master: SIGUSR2 and SIGHUP reload it in place, keeping its listeners, as HAProxy's master-worker mode does; there is no separate master process")
	case "strict-limits":
		if len(args) > 0 {
			p.d.Errorf(args[0].Pos, key, "strict-limits", "strict-limits takes no argument")
		}
	default:
		if t, ok := tuneKnobs[key]; ok {
			p.parseTune(key, t, args, kwPos)
			return
		}
		if k := LookupKeyword(key); k != nil && !k.Enforced {
			return // refused or not enforced: validate reports it once
		}
		p.d.Errorf(kwPos, key, "", "keyword %q is in the table but has no parser (varde bug)", key)
	}
}

// parseDefaultPath reads `default-path current|config|parent|origin DIR`.
// varde reads relative file names (errorfile, lua-load, map and crt
// files) from the directory it was started in, HAProxy's `current`: the
// other modes would change which file each line names, so they are
// refused until varde resolves every path through them.
func (p *parser) parseDefaultPath(args []Token, kwPos diag.Pos) {
	const key = "default-path"
	const modes = "supported modes include 'current', 'config', 'parent', and 'origin'"
	if len(args) == 0 {
		p.d.Errorf(kwPos, key, "default-path current|config|parent|origin DIR", "'default-path' expects one of 'current', 'config', 'parent', or 'origin'")
		return
	}
	switch m := args[0].Text; m {
	case "current":
		if len(args) > 1 {
			p.d.Errorf(args[1].Pos, key, "default-path current", "unexpected %q", args[1].Text)
		}
	case "origin":
		if len(args) < 2 {
			p.d.Errorf(kwPos, key, "default-path origin DIR", "'default-path origin' expects a directory as an argument")
			return
		}
		fallthrough
	case "config", "parent":
		p.d.Errorf(args[0].Pos, key, "write relative file names from the directory varde starts in, or absolute ones, and remove the line", "default-path %s is not built yet: varde reads relative file names from its current directory (default-path current), so this line would make it read other files than HAProxy", m)
	default:
		p.d.Errorf(args[0].Pos, key, modes, "unsupported default-path mode '%s' for 'default-path', %s", m, modes)
	}
}

// tuneKnob describes a tune.* value: its kind and HAProxy's bounds.
type tuneKnob struct {
	kind     string // "int", "size", "onoff", "none", "time"
	min, max int64
}

// tuneKnobs are the tune.* knobs read here. Which ones varde enforces is
// the keyword table's business (tune.http.maxhdr is; the others are
// listed in the "parsed, not yet enforced" warning, docs/config.md says
// why each is harmless).
var tuneKnobs = map[string]tuneKnob{
	"tune.buffers.limit":             {"int", 0, 1 << 31},
	"tune.buffers.reserve":           {"int", 0, 1 << 31},
	"tune.h2.header-table-size":      {"int", 0, 65535},
	"tune.h2.initial-window-size":    {"int", 0, 1<<31 - 1},
	"tune.h2.max-concurrent-streams": {"int", 0, 1<<31 - 1},
	"tune.h2.max-frame-size":         {"int", 16384, 16777215},
	"tune.http.cookielen":            {"int", 0, 1 << 31},
	"tune.http.logurilen":            {"int", 0, 1 << 31},
	"tune.http.maxhdr":               {"int", 1, 32767},
	"tune.idle-pool.shared":          {"onoff", 0, 0},
	"tune.idletimer":                 {"int", 0, 65535},
	"tune.listener.multi-queue":      {"onoff", 0, 0},
	"tune.maxaccept":                 {"int", -1, 1 << 31},
	"tune.maxpollevents":             {"int", 1, 1 << 31},
	"tune.pattern.cache-size":        {"int", 0, 1 << 31},
	"tune.pipesize":                  {"size", 0, 1 << 31},
	"tune.rcvbuf.client":             {"size", 0, 1 << 31},
	"tune.rcvbuf.server":             {"size", 0, 1 << 31},
	"tune.recv_enough":               {"size", 0, 1 << 31},
	"tune.runqueue-depth":            {"int", 1, 1 << 31},
	"tune.sched.low-latency":         {"onoff", 0, 0},
	"tune.sndbuf.client":             {"size", 0, 1 << 31},
	"tune.sndbuf.server":             {"size", 0, 1 << 31},
	"tune.ssl.cachesize":             {"int", 0, 1 << 31},
	"tune.ssl.capture-buffer-size":   {"int", 0, 65535},
	"tune.ssl.force-private-cache":   {"none", 0, 0},
	"tune.ssl.hard-maxrecord":        {"int", 0, 1 << 31},
	"tune.ssl.keylog":                {"onoff", 0, 0},
	"tune.ssl.lifetime":              {"time", 0, 0},
	"tune.ssl.maxrecord":             {"int", 0, 1 << 31},
	"tune.ssl.ssl-ctx-cache-size":    {"int", 0, 1 << 31},
}

// parseTune validates one tune.* line as HAProxy does and keeps what varde
// enforces.
func (p *parser) parseTune(key string, t tuneKnob, args []Token, kwPos diag.Pos) {
	if t.kind == "none" {
		if len(args) > 0 {
			p.d.Errorf(args[0].Pos, key, key, "'%s' takes no argument", key)
		}
		return
	}
	if len(args) != 1 {
		p.d.Errorf(kwPos, key, key+" VALUE", "%s expects exactly one argument, got %d", key, len(args))
		return
	}
	a := args[0]
	var n int64
	switch t.kind {
	case "onoff":
		if a.Text != "on" && a.Text != "off" {
			p.d.Errorf(a.Pos, key, "on or off", "'%s' expects either 'on' or 'off' but got '%s'", key, a.Text)
		}
		return
	case "time":
		p.duration(a, key)
		return
	case "size":
		n = p.size(a, key)
	default:
		v, err := ParseInt(a.Text, t.min, t.max)
		if err != nil {
			p.d.Errorf(a.Pos, key, "a number between "+itoa(t.min)+" and "+itoa(t.max), "'%s' expects a numeric value between %d and %d", key, t.min, t.max)
			return
		}
		n = v
	}
	p.tuneValue(key, n, a)
}

// tuneValue keeps the values varde acts on, and refuses the ones it
// would honour less strictly than written.
func (p *parser) tuneValue(key string, n int64, a Token) {
	g := &p.cfg.Global
	switch key {
	case "tune.http.maxhdr":
		if n == 1 {
			p.d.Errorf(a.Pos, key, "2 or more", "tune.http.maxhdr 1 is not built yet: it admits no header line at all, varde would take it as its default")
			return
		}
		// HAProxy's header list holds the end-of-headers marker too: N
		// admits N-1 header lines (TestMaxHdrDifferential).
		g.TuneHTTPMaxHdr = int(n) - 1
	case "tune.h2.max-concurrent-streams":
		// Announced and enforced per HTTP/2 connection (h2conn.go);
		// 0 keeps the default, 100.
		g.TuneH2MaxStreams = int(n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// validateBackendFetches refuses, as HAProxy does, nbsrv(NAME) naming no
// backend, and nbsrv without a name where the proxy has no backend side:
// `monitor fail if { nbsrv(be) lt 1 }` would then never fail.
func (c *Config) validateBackendFetches(px *Proxy, d *diag.List) {
	if px.EffectiveMode() == "tcp" && px.IsFrontend() {
		// HAProxy 2.6's own warnings; the engine runs neither in mode tcp.
		if px.MonitorURI != "" {
			d.Warnf(px.Pos, "monitor-uri", "add `mode http` to the proxy or its defaults", "monitor-uri will be ignored for %s '%s' (needs 'mode http').", px.Kind, px.Name)
		}
		if o := px.Option("logasap"); o != nil {
			d.Warnf(o.Pos, "option logasap", "remove the line, or add `mode http`", "option logasap is built for mode http only: varde logs %s '%s' sessions when they end", px.Kind, px.Name)
		}
		if len(px.Redirects) > 0 {
			d.Warnf(px.Redirects[0].Pos, "redirect", "add `mode http` to the proxy or its defaults", "'redirect' rules ignored for %s '%s' as they require HTTP mode.", px.Kind, px.Name)
		}
	}
	if px.Dispatch != nil && px.Balance != nil {
		d.Warnf(px.Dispatch.Pos, "dispatch", "remove the dispatch line, or the balance line", "dispatch address of backend '%s' will be ignored in balance mode.", px.Name)
	}
	refuseDispatchChoice(px, d)
	for _, us := range px.UseServers {
		if !slices.Contains(serverNames(px), us.Server) {
			d.Errorf(us.Pos, "use-server", hintNearest(us.Server, serverNames(px), "declare `server "+us.Server+" ADDR` in this backend"), "backend '%s' : unable to find server '%s' referenced in a 'use-server' rule", px.Name, us.Server)
		}
	}
	check := func(a *ACL) {
		if a == nil || a.Criterion != "nbsrv" {
			return
		}
		switch {
		case a.Arg == "" && px.Kind == KindFrontend:
			d.Errorf(a.Pos, "nbsrv", "nbsrv(BACKEND)", "nbsrv needs a backend name in a frontend")
		case a.Arg != "" && c.Backend(a.Arg) == nil:
			d.Errorf(a.Pos, "nbsrv", hintNearest(a.Arg, c.backendNames(), "declare `backend "+a.Arg+"`"), "nbsrv: no backend %q", a.Arg)
		}
	}
	eachACL(px, check)
}

func serverNames(px *Proxy) []string {
	var names []string
	for _, s := range px.Servers {
		names = append(names, s.Name)
	}
	return names
}

// refuseDispatchChoice refuses `dispatch` (without balance) beside stick
// rules that store (stick on, store-request, store-response). In HAProxy
// 2.6 dispatch stands in for the balancer only: use-server, cookie
// persistence and stick match still send requests to the real servers,
// and varde does the same (core/proxy/dispatch.go). But a request sent to
// the dispatch address has no server, and HAProxy's store rules then write
// a server id read from the proxy (process_store_rules reads the target as
// a server): no meaning to reproduce, so refused.
func refuseDispatchChoice(px *Proxy, d *diag.List) {
	if px.Dispatch == nil || px.Balance != nil {
		return
	}
	for _, r := range px.Stick {
		if r.Kind == "match" {
			continue
		}
		d.Errorf(px.Dispatch.Pos, "dispatch", "use `stick match` with a table another backend stores into, or replace dispatch with a server line for its address",
			"dispatch beside stick %s (line %d): HAProxy stores a meaningless server id for the requests it sends to the dispatch address", r.Kind, r.Pos.Line)
		return
	}
}
