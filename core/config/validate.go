package config

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/sample"
)

// finish runs after the last file has been parsed.
func (p *parser) finish() {
	p.resolveErrorSets()  // httperrors.go
	p.finishDefaultPath() // defaultpath.go
	p.finishCaches()      // cache.go
}

// Validate checks names, cross-references and consistency, adding every
// problem to d, and warns once per keyword that is parsed but not yet
// enforced. It never stops at the first problem.
func (c *Config) Validate(d *diag.List) {
	if dir := c.Global.DefaultPathDir; dir != "" { // map and ACL files compiled here are read from there too
		refs := sample.NewPatRefs()
		refs.Dir = dir
		sample.WithPatRefs(refs, func() { c.validate(d) })
		return
	}
	c.validate(d)
}

func (c *Config) validate(d *diag.List) {
	c.reported = map[any]bool{}
	c.validateNames(d)
	c.validateRefs(d)
	c.validateBinds(d)
	c.validateSamples(d)
	c.validateHTTPErrors(d) // httperrors.go
	c.validateCaptureIDs(d) // capture_rules.go
	c.validateIdentity(d)   // global_identity.go
	c.validatePeers(d)      // peers.go
	for _, px := range c.Defaults {
		for _, ef := range px.ErrorFiles {
			if c.once(ef) && ef.Location == "" { // errorloc: no file
				if _, err := os.Stat(ef.File); err != nil {
					d.Errorf(ef.Pos, "errorfile", "create the file or fix the path", "error page %s: %v", ef.File, statErr(err))
				}
			}
		}
	}
	for _, px := range c.Proxies {
		c.validateProxy(px, d)
		if px.IsBackend() {
			c.validateServerTLS(px, d)
		}
		warnUnusedCheckRules(px, d)
		c.validateStick(px, d)
		c.validateStickFetches(px, d)
		c.validateStickRules(px, d)
		c.validateUserlistFetches(px, d)
		c.validateBackendFetches(px, d) // misc.go
	}
	checkUserlists(c, d)
	checkResolvers(c, d)
	c.validateGlobal(d)
	c.validateServerState(d) // serverstate.go
	c.CheckLogTargets(d)
	c.CheckProbes(d)
	if len(c.Proxies) > 0 && len(c.Frontends) == 0 {
		d.Warnf(c.Proxies[0].Pos, c.Proxies[0].Kind, "add a frontend or listen section with a bind line", "no frontend or listen section: varde will not accept any connection")
	}
	c.warnNotEnforced(d)
}

func (c *Config) validateNames(d *diag.List) {
	type seen struct {
		kind string
		pos  diag.Pos
	}
	fe, be := map[string]seen{}, map[string]seen{}
	for _, px := range c.Proxies {
		if px.Name == "" {
			continue
		}
		check := func(m map[string]seen) {
			if prev, dup := m[px.Name]; dup {
				d.Errorf(px.Pos, px.Kind, fmt.Sprintf("rename one of them; the other %s is at %s", prev.kind, prev.pos), "duplicate proxy name %q", px.Name)
				return
			}
			m[px.Name] = seen{px.Kind, px.Pos}
		}
		if px.IsFrontend() {
			check(fe)
		}
		if px.IsBackend() && px.Kind != KindListen {
			check(be)
		} else if px.Kind == KindListen {
			if prev, dup := be[px.Name]; dup {
				d.Errorf(px.Pos, px.Kind, fmt.Sprintf("rename one of them; the other %s is at %s", prev.kind, prev.pos), "duplicate proxy name %q", px.Name)
			} else {
				be[px.Name] = seen{px.Kind, px.Pos}
			}
		}
	}
	defs := map[string]diag.Pos{}
	for _, df := range c.Defaults {
		if df.Name == "" {
			continue
		}
		if prev, dup := defs[df.Name]; dup {
			d.Warnf(df.Pos, "defaults", "rename one of them", "defaults section %q redefined (first at %s); proxies use the latest one", df.Name, prev)
		}
		defs[df.Name] = df.Pos
	}
	for _, px := range c.Proxies {
		names := map[string]*Server{}
		cookies := map[string]*Server{}
		for _, s := range px.Servers {
			if prev := names[s.Name]; prev != nil {
				d.Errorf(s.Pos, "server", "rename one of them; the other is at "+prev.Pos.String(), "duplicate server name %q in backend %q", s.Name, px.Name)
			} else {
				names[s.Name] = s
			}
			if s.Cookie != "" {
				if prev := cookies[s.Cookie]; prev != nil {
					d.Errorf(s.Pos, "server cookie", "give each server its own cookie value; "+prev.Name+" uses it at "+prev.Pos.String(), "duplicate cookie value %q in backend %q", s.Cookie, px.Name)
				} else {
					cookies[s.Cookie] = s
				}
			}
		}
	}
}

// IsDynamicName reports a use_backend name built from a sample expression.
func IsDynamicName(s string) bool { return strings.Contains(s, "%[") }

func (c *Config) backendNames() []string {
	var out []string
	for _, b := range c.Backends {
		out = append(out, b.Name)
	}
	return out
}

func (c *Config) checkBackendRef(from *Proxy, name string, pos diag.Pos, kw string, d *diag.List) {
	if IsDynamicName(name) {
		return
	}
	be := c.Backend(name)
	if be == nil {
		hint := hintNearest(name, c.backendNames(), "declare `backend "+name+"` or fix the name")
		if f := c.Frontend(name); f != nil {
			hint = name + " is a frontend; declare a backend or listen section"
		}
		d.Errorf(pos, kw, hint, "backend %q not found", name)
		return
	}
	if from.EffectiveMode() == "tcp" && be.EffectiveMode() == "http" {
		return // the connection is upgraded to HTTP, as HAProxy does (core/proxy/modeupgrade.go)
	}
	if from.EffectiveMode() != be.EffectiveMode() {
		d.Errorf(pos, kw, fmt.Sprintf("set `mode %s` in both (frontend %q is %s, backend %q is %s)", from.EffectiveMode(), from.Name, from.EffectiveMode(), be.Name, be.EffectiveMode()),
			"mode mismatch: %s frontend %q cannot use %s backend %q", from.EffectiveMode(), from.Name, be.EffectiveMode(), be.Name)
	}
}

func (c *Config) validateRefs(d *diag.List) {
	for _, px := range c.Frontends {
		if px.DefaultBackend != nil {
			c.checkBackendRef(px, px.DefaultBackend.Value, px.DefaultBackend.Pos, "default_backend", d)
		}
		for _, ub := range px.UseBackends {
			c.checkBackendRef(px, ub.Backend, ub.Pos, "use_backend", d)
		}
	}
	for _, px := range c.Proxies {
		// ACLs must be declared before the rule that uses them, as in HAProxy.
		declared := map[string]diag.Pos{}
		var names []string
		for _, a := range px.ACLs {
			if _, ok := declared[a.Name]; !ok {
				declared[a.Name] = a.Pos
				names = append(names, a.Name)
			}
		}
		checkCond := func(kw string, cond *Condition) {
			condACLs(cond, func(t *Term) {
				if _, ok := acl.Predefined(t.ACL); ok {
					return
				}
				if acl.PredefinedUnsupported(t.ACL) {
					d.Errorf(t.Pos, kw, "declare an equivalent `acl` with a supported criterion", "HAProxy's predefined ACL %q is not supported by varde", t.ACL)
					return
				}
				at, ok := declared[t.ACL]
				if !ok {
					d.Errorf(t.Pos, kw, hintNearest(t.ACL, names, "declare it first: acl "+t.ACL+" CRITERION VALUES"), "unknown ACL %q in proxy %q", t.ACL, px.Name)
					return
				}
				if at.File == t.Pos.File && at.Line > t.Pos.Line {
					d.Errorf(t.Pos, kw, "move `acl "+t.ACL+"` above this line", "ACL %q is used before it is declared (line %d)", t.ACL, at.Line)
				}
			})
		}
		for _, ub := range px.UseBackends {
			checkCond("use_backend", ub.Cond)
		}
		for _, r := range px.HTTPRequest {
			checkCond("http-request "+r.Action, r.Cond)
		}
		for _, r := range px.HTTPResponse {
			checkCond("http-response "+r.Action, r.Cond)
		}
		for _, r := range px.HTTPAfterResponse {
			checkCond("http-after-response "+r.Action, r.Cond)
		}
		if px.Stats != nil {
			for _, cnd := range px.Stats.Admin {
				checkCond("stats admin", cnd)
			}
		}
		for _, cnd := range px.ForcePersist {
			checkCond("force-persist", cnd)
		}
		for _, cnd := range px.IgnorePersist {
			checkCond("ignore-persist", cnd)
		}
		for _, mf := range px.MonitorFail {
			checkCond("monitor fail", mf.Cond)
		}
		for _, r := range px.Redirects {
			checkCond("redirect", r.Cond)
		}
		for _, us := range px.UseServers {
			checkCond("use-server", us.Cond)
		}
	}
}

type bindKey struct {
	addr string
	port uint16
}

func (c *Config) validateBinds(d *diag.List) {
	type owner struct {
		px  *Proxy
		pos diag.Pos
	}
	seen := map[bindKey]owner{}
	unix := map[string]owner{}
	for _, px := range c.Frontends {
		if px.Disabled {
			continue
		}
		for _, b := range px.Binds {
			if b.Proto == "h2" && px.EffectiveMode() != "http" {
				d.Errorf(b.Pos, "bind proto", "add mode http to the section, or remove proto h2", "HTTP/2 needs mode http")
			}
			if b.Proto == "h2" && b.SSL {
				// The h2 listener is cleartext: on an ssl bind it would
				// serve without TLS. Over TLS, HTTP/2 comes with alpn h2.
				d.Errorf(b.Pos, "bind proto", "use alpn h2,http/1.1 on TLS binds", "proto h2 on an ssl bind is not supported yet")
			}
			if b.FD != "" {
				if prev, dup := unix["fd@"+b.FD]; dup {
					d.Errorf(b.Pos, "bind", prev.px.Name+" binds it at "+prev.pos.String(), "inherited socket fd@%s is bound twice", b.FD)
				}
				unix["fd@"+b.FD] = owner{px, b.Pos}
				continue
			}
			if b.Unix != "" {
				if prev, dup := unix[b.Unix]; dup {
					d.Errorf(b.Pos, "bind", "use another path; "+prev.px.Name+" binds it at "+prev.pos.String(), "unix socket %s is bound twice", b.Unix)
				}
				unix[b.Unix] = owner{px, b.Pos}
				continue
			}
			for _, a := range b.Addrs {
				end := a.Port
				if a.PortEnd != 0 {
					end = a.PortEnd
				}
				for port := uint32(a.Port); port <= uint32(end); port++ {
					k := bindKey{a.Addr.Addr().String(), uint16(port)}
					if prev, dup := seen[k]; dup {
						what := "frontends"
						if prev.px == px {
							what = "bind lines"
						}
						d.Errorf(b.Pos, "bind", fmt.Sprintf("%q already binds it at %s", prev.px.Name, prev.pos), "two %s bind the same address %s", what, a.Raw)
						break
					}
					seen[k] = owner{px, b.Pos}
				}
			}
		}
	}
}

func (c *Config) validateProxy(px *Proxy, d *diag.List) {
	mode := px.EffectiveMode()
	c.validateCheckcache(px, d) // checkcache.go
	if px.IsFrontend() && len(px.Binds) == 0 && !px.Disabled && !px.badBind {
		hint := "add a bind line, e.g. bind *:80"
		if px.Kind == KindFrontend {
			hint += ", or declare it as a backend if that was intended"
		}
		d.Warnf(px.Pos, px.Kind, hint, "%s %q has no bind line: it accepts no connection", px.Kind, px.Name)
	}
	if px.IsFrontend() && px.Timeouts.Client == 0 && len(px.Binds) > 0 {
		d.Warnf(px.Pos, "timeout client", "set timeout client (e.g. 30s) in the proxy or its defaults", "%s %q has no client timeout: idle clients are never disconnected", px.Kind, px.Name)
	}
	if px.IsBackend() && len(px.Servers) > 0 && (px.Timeouts.Connect == 0 || px.Timeouts.Server == 0) {
		d.Warnf(px.Pos, "timeout server", "set timeout connect (e.g. 5s) and timeout server (e.g. 30s) in the proxy or its defaults", "%s %q lacks a connect or server timeout: stuck servers hold connections forever", px.Kind, px.Name)
	}
	if mode == "tcp" {
		warnHTTP := func(pos diag.Pos, kw string) {
			d.Warnf(pos, kw, "add `mode http` to the proxy or its defaults", "%s needs mode http; ignored in mode tcp (%s %q)", kw, px.Kind, px.Name)
		}
		for _, r := range px.HTTPRequest {
			warnHTTP(r.Pos, "http-request "+r.Action)
		}
		for _, r := range px.HTTPResponse {
			warnHTTP(r.Pos, "http-response "+r.Action)
		}
		for _, r := range px.HTTPAfterResponse {
			warnHTTP(r.Pos, "http-after-response "+r.Action)
		}
		if px.Cookie != nil && px.IsBackend() {
			warnHTTP(px.Cookie.Pos, "cookie")
		}
		for _, cp := range px.Captures {
			warnHTTP(cp.Pos, "capture")
		}
		if px.Stats != nil && px.Stats.Enabled && px.IsFrontend() {
			warnHTTP(px.Stats.Pos, "stats")
		}
		if o := px.Option("httplog"); o != nil && px.IsFrontend() {
			d.Warnf(o.Pos, "option httplog", "use option tcplog in mode tcp", "option httplog needs mode http; tcplog is used for %s %q", px.Kind, px.Name)
		}
		if o := px.Option("forwardfor"); o != nil {
			warnHTTP(o.Pos, "option forwardfor")
		}
		if px.IsBackend() && px.Balance != nil {
			if balanceNeedsHTTP(px.Balance) {
				d.Warnf(px.BalancePos, "balance", "add `mode http`, or use balance source in mode tcp", "balance %s needs mode http; roundrobin is used for %s %q", px.Balance.Algorithm, px.Kind, px.Name)
			}
		}
	}
	for _, ub := range px.UseBackends {
		if ub.Cond == nil && !IsDynamicName(ub.Backend) { // a dynamic name may not resolve
			d.Warnf(ub.Pos, "use_backend", "use default_backend for an unconditional choice", "use_backend without a condition always matches")
		}
	}
	if px.IsBackend() && px.Balance != nil && px.Balance.BalanceFactor != 0 && px.Balance.HashType != "consistent" {
		d.Warnf(px.BalancePos, "hash-balance-factor", "add `hash-type consistent`", "hash-balance-factor only applies to consistent hashing")
	}
	if px.IsBackend() {
		for _, s := range px.Servers {
			if s.Cookie != "" && px.Cookie == nil {
				d.Warnf(s.CookiePos, "server cookie", "add e.g. `cookie SERVERID insert indirect nocache` to the backend", "server %q has a cookie value but backend %q has no cookie directive; ignored", s.Name, px.Name)
			}
			if (s.AgentPort != 0 || s.AgentInter != 0) && !s.AgentCheck {
				d.Warnf(s.Pos, "server agent-port", "add agent-check", "agent settings on server %q have no effect without agent-check", s.Name)
			}
			if s.AgentCheck && s.AgentPort == 0 {
				d.Errorf(s.Pos, "server agent-check", "add agent-port N", "server %q: agent-check needs agent-port", s.Name)
			}
			// A Unix-domain server is checked on its socket, which needs
			// no port (HAProxy: unless `addr` moves the check to an IP).
			unixCheck := s.Address.Unix != "" && s.Addr == ""
			if s.Address.Port == 0 && s.Port == 0 && s.Check && !unixCheck && !px.firstConnectHasPort() {
				d.Errorf(s.Pos, "server check", "give the server a port (ADDR:PORT) or a check port (port N)", "server %q has no port to check", s.Name)
			}
		}
		if px.Option("ssl-hello-chk") != nil && px.Option("httpchk") != nil {
			d.Warnf(px.Option("ssl-hello-chk").Pos, "option ssl-hello-chk", "keep one check type", "option ssl-hello-chk and option httpchk both set; the last one wins in HAProxy")
		}
	}
	if px.Stats != nil && px.Stats.Enabled && px.IsFrontend() && px.Stats.URI == "" {
		px.Stats.URI = "/haproxy?stats"
	}
	for _, lg := range px.Logs {
		if lg.Global && len(c.Global.Logs) == 0 && c.once(lg) {
			d.Warnf(lg.Pos, "log", "add a log line to the global section", "`log global` but the global section has no log target; nothing is logged")
		}
	}
	for _, ef := range px.ErrorFiles {
		// Inherited errorfiles are the defaults section's: report them once.
		// HAProxy refuses to start without the page; so does varde.
		if c.once(ef) && ef.File != "" {
			if _, err := os.Stat(ef.File); err != nil {
				d.Errorf(ef.Pos, "errorfile", "create the file or fix the path", "error page %s: %v", ef.File, statErr(err))
			}
		}
	}
}

func statErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (c *Config) validateGlobal(d *diag.List) {
	g := &c.Global
	seen := map[string]diag.Pos{}
	for _, s := range g.StatsSockets {
		k := s.Path
		if s.Addr != nil {
			k = s.Addr.Addr.String()
		}
		if prev, dup := seen[k]; dup {
			d.Errorf(s.Pos, "stats socket", "use another path; the first is at "+prev.String(), "stats socket %s declared twice", k)
		}
		seen[k] = s.Pos
	}
}

// warnNotEnforced refuses every use of a keyword with a Refused reason
// (one error per line: each must be fixed) and lists the harmless
// not-enforced keywords in one grouped warning at the first such use, each
// with its first place and use count.
func (c *Config) warnNotEnforced(d *diag.List) {
	type agg struct {
		first diag.Pos
		n     int
	}
	uses := map[string]*agg{}
	var order []string
	refused := newRefusals()
	for _, u := range c.Uses {
		k := LookupKeyword(u.Keyword)
		if k == nil || k.Enforced {
			continue
		}
		if k.Refused != "" {
			refused.add(u, k.Refused)
			continue
		}
		a := uses[u.Keyword]
		if a == nil {
			a = &agg{first: u.Pos}
			uses[u.Keyword] = a
			order = append(order, u.Keyword)
		}
		a.n++
	}
	refused.report(d)
	if len(order) == 0 {
		return
	}
	sort.SliceStable(order, func(i, j int) bool { return posLess(uses[order[i]].first, uses[order[j]].first) })
	parts := make([]string, len(order))
	for i, k := range order {
		a := uses[k]
		parts[i] = fmt.Sprintf("%s (%s)", k, a.first)
		if a.n > 1 {
			parts[i] = fmt.Sprintf("%s (%s, %d uses)", k, a.first, a.n)
		}
	}
	d.Warnf(uses[order[0]].first, "", "they are harmless to ignore here; docs/config.md says why for each",
		"%s: %s", NotEnforcedMessage, strings.Join(parts, ", "))
}

// refusals gathers refused keyword uses so that one line gets one error
// per reason: `bind :443 ssl crt a.pem` is one TLS error naming both.
type refusals struct {
	byKey map[string]int // file:line:reason -> index in list
	list  []refusal
}

type refusal struct {
	pos      diag.Pos
	keywords []string
	reason   string
}

func newRefusals() *refusals { return &refusals{byKey: map[string]int{}} }

func (r *refusals) add(u Use, reason string) {
	key := fmt.Sprintf("%s:%d:%s", u.Pos.File, u.Pos.Line, reason)
	if i, ok := r.byKey[key]; ok {
		if !contains(r.list[i].keywords, u.Keyword) {
			r.list[i].keywords = append(r.list[i].keywords, u.Keyword)
		}
		return
	}
	r.byKey[key] = len(r.list)
	r.list = append(r.list, refusal{pos: u.Pos, keywords: []string{u.Keyword}, reason: reason})
}

func (r *refusals) report(d *diag.List) {
	for _, f := range r.list {
		d.Errorf(f.pos, strings.Join(f.keywords, ", "), "remove it until varde supports it; see docs/config.md", "%s", f.reason)
	}
}

// NotEnforcedMessage starts the grouped warning about keywords varde reads
// but does not act on yet.
const NotEnforcedMessage = "parsed, not yet enforced"

func posLess(a, b diag.Pos) bool {
	if a.File != b.File {
		return false
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Col < b.Col
}

// once reports whether x (a pointer shared by a defaults section and the
// proxies inheriting from it) is seen for the first time in this Validate
// run, so inherited settings are reported once, at their own line.
func (c *Config) once(x any) bool {
	if c.reported[x] {
		return false
	}
	c.reported[x] = true
	return true
}

// firstConnectHasPort: the proxy's check rules begin with a `tcp-check
// connect port N`, so a server without a port can still be checked
// (HAProxy accepts it; the rule's port is the one dialled).
func (px *Proxy) firstConnectHasPort() bool {
	if px.Option("tcp-check") == nil || len(px.TCPCheck) == 0 {
		return false
	}
	r := px.TCPCheck[0]
	return r.Action == "connect" && r.Port > 0
}
