package proxy

import (
	"fmt"
	"github.com/varde-lb/varde/core/listen"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/route"
)

// Enforced lists the haproxy.cfg keywords this engine gives behaviour, for
// the configuration layer's "parsed, not yet enforced" warnings.
var Enforced = []string{
	"maxconn", "tune.bufsize", "tune.maxrewrite", "mode", "bind", "default_backend", "use_backend", "acl",
	"balance", "server", "server weight", "server maxconn", "server maxqueue", "server backup", "server disabled",
	"retries", "retry-on", "option redispatch", "option abortonclose", "server on-marked-down", "server on-marked-up", "option http-buffer-request", "option allbackups", "option forwardfor", "option http-keep-alive",
	"option http-server-close", "option httpclose", "errorfile",
	"http-request set-header", "http-request add-header", "http-request del-header", "http-request deny",
	"http-request redirect", "http-request allow", "http-response set-header", "http-response add-header",
	"http-response del-header", "timeout connect", "timeout client", "timeout server", "timeout http-request",
	"timeout http-keep-alive", "timeout queue", "timeout tunnel", "timeout client-fin", "timeout server-fin",
	"capture request header", "capture response header",
}

// FromConfig adapts a parsed haproxy.cfg into the engine's runtime
// configuration: ACLs and conditions are compiled with core/acl, use_backend
// rules with core/route, errorfiles are read. It does not start anything.
func FromConfig(c *config.Config) (*Config, error) {
	out := &Config{
		MaxConn:    c.Global.MaxConn,
		Threads:    c.Global.NbThread,
		NoSplice:   c.Global.NoSplice,
		BufSize:    int(c.Global.TuneBufSize),
		MaxRewrite: int(c.Global.TuneMaxRewrite),
		CompLevel:  c.Global.TuneCompMaxLevel, CompRateLimit: c.Global.MaxCompRate * 1024,
		CompMinIdle: c.Global.CompMinIdle,
		MaxHeaders:  c.Global.TuneHTTPMaxHdr, H2MaxStreams: c.Global.TuneH2MaxStreams,
		VarLimits: varLimitsOf(c),
		ProcVars:  c.Global.SetVars,
	}
	for _, p := range c.Backends {
		if p.Disabled {
			continue
		}
		bc, err := BackendFromConfig(p)
		if err != nil {
			return nil, err
		}
		bc.FullConn = fullConnOf(c, p)
		out.Backends = append(out.Backends, bc)
	}
	known := map[string]Mode{}
	for _, b := range out.Backends {
		known[b.Name] = b.Mode
	}
	for _, p := range c.Frontends {
		if p.Disabled {
			continue
		}
		fc, err := FrontendFromConfig(p, known)
		if err != nil {
			return nil, err
		}
		if errs := addTLS(out, c, p, fc); len(errs) > 0 {
			return nil, errs[0]
		}
		out.Frontends = append(out.Frontends, fc)
	}
	if err := bindStickTables(out, c); err != nil {
		return nil, err
	}
	out.Userlists = userlistsOf(c)
	out.Caches = cachesOf(c) // cache_store.go
	if err := bindCaches(out); err != nil {
		return nil, err
	}
	return out, nil
}

func modeOf(p *config.Proxy) Mode {
	if p.EffectiveMode() == "http" {
		return ModeHTTP
	}
	return ModeTCP
}

func timeoutsOf(p *config.Proxy) Timeouts {
	t := p.Timeouts
	return Timeouts{
		Connect: t.Connect, Client: t.Client, Server: t.Server, HTTPRequest: t.HTTPRequest,
		HTTPKeepAlive: t.HTTPKeepAlive, Queue: t.Queue, Tunnel: t.Tunnel, ClientFin: t.ClientFin, ServerFin: t.ServerFin,
		Tarpit: t.Tarpit,
	}
}

func connModeOf(p *config.Proxy) ConnMode {
	switch {
	case p.Option("httpclose") != nil:
		return HTTPClose
	case p.Option("http-server-close") != nil:
		return ServerClose
	}
	return KeepAlive
}

func forwardForOf(p *config.Proxy) (*ForwardFor, error) {
	o := p.Option("forwardfor")
	if o == nil {
		return nil, nil
	}
	ff := &ForwardFor{Header: "X-Forwarded-For"}
	if o.ForwardFor != nil {
		if o.ForwardFor.Header != "" {
			ff.Header = o.ForwardFor.Header
		}
		ff.IfNone = o.ForwardFor.IfNone
		if ex := o.ForwardFor.Except; ex != "" {
			pfx, err := netip.ParsePrefix(ex)
			if err != nil {
				a, aerr := netip.ParseAddr(ex)
				if aerr != nil {
					return nil, fmt.Errorf("proxy %s: option forwardfor except %q: %w", p.Name, ex, err)
				}
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
			ff.Except = pfx.Masked()
		}
	}
	return ff, nil
}

func errorFilesOf(p *config.Proxy) (map[int][]byte, error) {
	if len(p.ErrorFiles) == 0 {
		return nil, nil
	}
	m := map[int][]byte{}
	for _, ef := range p.ErrorFiles {
		if ef.Location != "" {
			m[ef.Code] = errorlocPage(ef) // monitor.go
			continue
		}
		b, err := os.ReadFile(ef.File)
		if err != nil {
			return nil, diag.At(ef.Pos, "errorfile", "create the file or fix the path", fmt.Errorf("errorfile %d: %w", ef.Code, err))
		}
		m[ef.Code] = rawPage(b) // as HAProxy sends it (retaction.go)
	}
	return m, nil
}

// BackendFromConfig adapts one backend or listen section.
func BackendFromConfig(p *config.Proxy) (*BackendConfig, error) {
	bc := &BackendConfig{
		Name: p.Name, Mode: modeOf(p), Timeouts: timeoutsOf(p), Retries: p.Retries,
		Redispatch: p.Option("redispatch") != nil, AllBackups: p.Option("allbackups") != nil,
		TCPKeepAlive: p.Option("srvtcpka") != nil || p.Option("tcpka") != nil,
		CheckCache:   p.Option("checkcache") != nil,
		ConnMode:     connModeOf(p), Listen: p.Kind == config.KindListen,
		comp:   compFromConfig(p.Compression),
		Splice: spliceSetOf(p),
		// The backend's `source`, for servers added at runtime (dial_via.go).
		Via: viaOf(p, &config.Server{}),
	}
	if bc.Retries < 0 {
		bc.Retries = -1 // HAProxy's default, 3 (core/config already fills it in)
	}
	if err := retriesOf(p, bc); err != nil {
		return nil, err
	}
	if p.Balance != nil {
		bc.Balance = *p.Balance
	}
	var err error
	bc.SendName = p.SendNameHeader
	if bc.ForwardFor, err = forwardForOf(p); err != nil {
		return nil, err
	}
	if bc.OriginalTo, err = originalToOf(p); err != nil {
		return nil, err
	}
	if bc.ErrorFiles, err = errorFilesOf(p); err != nil {
		return nil, err
	}
	set, err := CompileACLs(p)
	if err != nil {
		return nil, err
	}
	if bc.HTTPRequest, err = rulesOf(p.HTTPRequest, set); err != nil {
		return nil, err
	}
	setAuthRealm(bc.HTTPRequest, p.Name)
	if bc.HTTPResponse, err = rulesOf(p.HTTPResponse, set); err != nil {
		return nil, err
	}
	if bc.HTTPAfterResponse, err = rulesOf(p.HTTPAfterResponse, set); err != nil {
		return nil, err
	}
	if bc.Redirects, err = rulesOf(p.Redirects, set); err != nil {
		return nil, err
	}
	if bc.UseServer, err = useServersOf(p, set); err != nil {
		return nil, err
	}
	if bc.Stick, err = stickRulesOf(p, set); err != nil {
		return nil, err
	}
	if err = stickPersistOf(bc, p, set); err != nil {
		return nil, err
	}
	if err = tcpResponseOf(bc, p, set); err != nil { // tcpresponse.go
		return nil, err
	}
	if err = backContentOf(bc, p, set); err != nil {
		return nil, err
	}
	for _, s := range p.Servers {
		addr := s.Address.Raw
		switch {
		case s.Address.Addr.IsValid():
			addr = s.Address.Addr.String()
		case s.Address.Host != "":
			addr = net.JoinHostPort(s.Address.Host, strconv.Itoa(int(s.Address.Port)))
		}
		w := s.EffectiveWeight()
		if w == 0 {
			w = -1 // explicit weight 0: never picked
		}
		tc, sni, err := ServerTLS(s)
		if err != nil {
			return nil, err
		}
		maxConn, minConn := serverLimits(s) // fullconn.go
		bc.Servers = append(bc.Servers, ServerConfig{
			Name: s.Name, Addr: addr, Weight: w, MaxConn: maxConn, MinConn: minConn, MaxQueue: int64(s.MaxQueue),
			Backup: s.Backup, Disabled: s.Disabled, Cookie: s.Cookie, TLS: tc, SNI: sni, SendProxy: sendProxyOf(&s.ServerOptions),
			ShutdownOnDown: s.OnMarkedDown == "shutdown-sessions", ShutdownBackupsOnUp: s.OnMarkedUp == "shutdown-backup-sessions",
			PortMap: s.Address.PortMap, PortOffset: s.Address.PortOffset, Resolve: resolveConfigOf(s),
			Redir: s.Redir, Via: viaOf(p, s),
		})
	}
	dispatchOf(bc, p) // dispatch.go
	preferLastOf(bc, p)
	return bc, nil
}

// FrontendFromConfig adapts one frontend or listen section; known holds the
// backends it may route to, with their modes.
func FrontendFromConfig(p *config.Proxy, known map[string]Mode) (*FrontendConfig, error) {
	fc := &FrontendConfig{
		Name: p.Name, Mode: modeOf(p), MaxConn: p.MaxConn, Timeouts: timeoutsOf(p), ConnMode: connModeOf(p),
		BufferRequest:  p.Option("http-buffer-request") != nil,
		UseProxyHeader: p.Option("http-use-proxy-header") != nil,
		IgnoreProbes:   p.Option("http-ignore-probes") != nil,
		TCPKeepAlive:   p.Option("clitcpka") != nil || p.Option("tcpka") != nil,
		comp:           compFromConfig(p.Compression),
		Splice:         spliceSetOf(p),
	}
	if err := frontendBinds(fc, p); err != nil {
		return nil, err
	}
	set, err := CompileACLs(p)
	if err != nil {
		return nil, err
	}
	if err := frontendRules(fc, p, set); err != nil {
		return nil, err
	}
	if err := frontendChooser(fc, p, set, known); err != nil {
		return nil, err
	}
	fc.LogHeaders = p.LogHeaders()
	fc.LogBackendSrc = p.LogUses("bi", "bp")
	fc.LogVars = logReadsVars(p) // vars.go
	frontendCaptures(fc, p)
	return fc, nil
}

// frontendBinds adapts the frontend's bind lines: HTTP/1 and HTTP/2
// listeners with their options.
func frontendBinds(fc *FrontendConfig, p *config.Proxy) error {
	for _, b := range p.Binds {
		if b.Unix != "" {
			return fmt.Errorf("%s: bind %s: unix sockets are not supported by the engine yet", b.Pos, b.Unix)
		}
		if b.Proto == "h2" && fc.Mode == ModeTCP {
			return fmt.Errorf("%s: bind proto h2: HTTP/2 needs mode http", b.Pos)
		}
		if b.Proto == "h2" && b.SSL {
			return fmt.Errorf("%s: bind proto h2: not supported on an ssl bind yet (the h2 listener is cleartext)", b.Pos)
		}
		opts := listen.Opts{V6Only: b.V6Only, Device: b.Interface, Transparent: b.Transparent}
		if b.Proto == "h2" && b.MaxConn > 0 {
			return fmt.Errorf("%s: bind maxconn: not built on HTTP/2 (proto h2) binds yet", b.Pos)
		}
		if b.Proto == "h2" && !opts.Zero() {
			return fmt.Errorf("%s: bind proto h2: v6only, interface and transparent are not built on HTTP/2 binds yet", b.Pos)
		}
		for _, addr := range bindAddrs(b) {
			if b.Proto == "h2" {
				fc.H2Binds = append(fc.H2Binds, addr)
				fc.H2AcceptProxy = append(fc.H2AcceptProxy, b.AcceptProxy)
			} else {
				fc.Binds = append(fc.Binds, addr)
				fc.AcceptProxy = append(fc.AcceptProxy, b.AcceptProxy)
				fc.BindOpts = append(fc.BindOpts, opts)
				fc.BindMaxConn = append(fc.BindMaxConn, b.MaxConn)
				fc.BindNames = append(fc.BindNames, b.Name)
			}
		}
	}
	return nil
}

// frontendRules compiles the frontend's headers, error files and rules.
func frontendRules(fc *FrontendConfig, p *config.Proxy, set *acl.Set) error {
	var err error
	if fc.ForwardFor, err = forwardForOf(p); err != nil {
		return err
	}
	if fc.OriginalTo, err = originalToOf(p); err != nil {
		return err
	}
	if fc.UniqueID, fc.UniqueIDHeader, err = uniqueIDOf(p); err != nil {
		return err
	}
	if fc.ErrorFiles, err = errorFilesOf(p); err != nil {
		return err
	}
	if fc.HTTPRequest, err = rulesOf(p.HTTPRequest, set); err != nil {
		return err
	}
	setAuthRealm(fc.HTTPRequest, p.Name)
	fc.LogASAP = logASAPOf(p)
	fc.SessRate = newSessLimiter(p.RateLimitSessions)
	if fc.Monitor, err = monitorOf(p, set); err != nil {
		return err
	}
	if fc.Redirects, err = rulesOf(p.Redirects, set); err != nil {
		return err
	}
	if err := tcpRulesOf(fc, p, set); err != nil {
		return err
	}
	if fc.HTTPResponse, err = rulesOf(p.HTTPResponse, set); err != nil {
		return err
	}
	fc.HTTPAfterResponse, err = rulesOf(p.HTTPAfterResponse, set)
	return err
}

// frontendChooser compiles use_backend and default_backend into the
// frontend's backend chooser.
func frontendChooser(fc *FrontendConfig, p *config.Proxy, set *acl.Set, known map[string]Mode) error {
	def := ""
	if p.DefaultBackend != nil {
		def = p.DefaultBackend.Value
	} else if _, ok := known[p.Name]; ok && p.Kind == config.KindListen {
		def = p.Name
	}
	var rules []route.Rule
	for _, ub := range p.UseBackends {
		cond, err := CompileCondition(ub.Cond, set)
		if err != nil {
			return fmt.Errorf("%s: use_backend %s: %w", ub.Pos, ub.Backend, err)
		}
		r, err := route.NewRule(ub.Backend, cond)
		if err != nil {
			return fmt.Errorf("%s: use_backend: %w", ub.Pos, err)
		}
		if _, ok := known[ub.Backend]; r.Name == nil && !ok {
			return fmt.Errorf("%s: use_backend: no backend named %q", ub.Pos, ub.Backend)
		}
		rules = append(rules, r)
	}
	if _, ok := known[def]; def != "" && !ok {
		return fmt.Errorf("proxy %s: default_backend: no backend named %q", p.Name, def)
	}
	// A dynamic name may only resolve to a backend of the frontend's mode
	// (the static rules are checked at config time): any other is treated
	// as unknown, so default_backend answers.
	sameMode := make(map[string]bool, len(known))
	for name, m := range known {
		sameMode[name] = m == fc.Mode
	}
	fc.Chooser = route.New(rules, def).WithBackends(sameMode, p.Name)
	fc.DefaultBackend = def
	return nil
}

// frontendCaptures reads the frontend's `capture` lines.
func frontendCaptures(fc *FrontendConfig, p *config.Proxy) {
	for _, cp := range p.Captures {
		switch cp.What {
		case "request":
			fc.CaptureRequest = append(fc.CaptureRequest, Capture{Name: strings.ToLower(cp.Name), Len: cp.Len})
		case "response":
			fc.CaptureResponse = append(fc.CaptureResponse, Capture{Name: strings.ToLower(cp.Name), Len: cp.Len})
		case "cookie":
			// Cookie names are case-sensitive: the name is kept as written.
			// A proxy has a single cookie capture; a repeated line replaces it.
			fc.CaptureCookie = Capture{Name: cp.Name, Len: cp.Len}
		}
	}
}

// CompileACLs compiles a proxy's `acl` lines with core/acl. The admin
// package uses it too, so `stats admin if COND` evaluates like the engine.
func CompileACLs(p *config.Proxy) (*acl.Set, error) {
	set := acl.NewSet()
	for _, a := range p.ACLs {
		if err := set.Add(a.Name, aclWords(a)); err != nil {
			return nil, fmt.Errorf("%s: acl %s: %w", a.Pos, a.Name, err)
		}
	}
	return set, nil
}

func aclWords(a *config.ACL) []string {
	crit := a.Criterion
	if a.Arg != "" {
		crit += "(" + a.Arg + ")"
	}
	words := []string{crit}
	words = append(words, a.Flags...)
	for _, v := range a.Values {
		words = append(words, v.Text)
	}
	return words
}

// CompileCondition rebuilds a condition's words and compiles them with
// core/acl against the proxy's ACLs; a nil condition compiles to nil.
func CompileCondition(c *config.Condition, set *acl.Set) (*acl.Condition, error) {
	if c == nil {
		return nil, nil
	}
	words := []string{"if"}
	if c.Unless {
		words[0] = "unless"
	}
	for i, and := range c.Or {
		if i > 0 {
			words = append(words, "||")
		}
		for _, t := range and {
			neg := ""
			if t.Negate {
				neg = "!"
			}
			if t.Anon != nil {
				if neg != "" {
					words = append(words, neg)
				}
				words = append(words, "{")
				words = append(words, aclWords(t.Anon)...)
				words = append(words, "}")
				continue
			}
			words = append(words, neg+t.ACL)
		}
	}
	return acl.ParseCondition(words, set.Lookup)
}

// rulesOf converts http-request/http-response lines; actions the engine
// does not implement are skipped (the configuration layer warns about them).
func rulesOf(in []*config.HTTPRule, set *acl.Set) ([]*HTTPRule, error) {
	var out []*HTTPRule
	for _, r := range in {
		var rule HTTPRule
		switch r.Action {
		case "set-header":
			rule = HTTPRule{Action: ActSetHeader, Name: r.Name, Value: r.Value}
		case "add-header":
			rule = HTTPRule{Action: ActAddHeader, Name: r.Name, Value: r.Value}
		case "del-header":
			rule = HTTPRule{Action: ActDelHeader, Name: r.Name}
			if r.Match != "" { // -m beg|end|sub|reg (rewrite.go)
				a, err := buildDelHeader(r)
				if err != nil {
					return nil, fmt.Errorf("%s: http-%s: %w", r.Pos, r.Action, err)
				}
				rule = HTTPRule{Action: ActActor, Actor: a}
			}
		case "deny", "return":
			rule = HTTPRule{Action: ActDeny, Status: r.Status}
			if r.Action == "return" {
				rule.Action = ActReturn
			}
			rp, err := replyOf(r)
			if err != nil {
				return nil, err
			}
			rule.Reply = rp
		case "allow":
			rule = HTTPRule{Action: ActAllow}
		case "auth":
			rule = HTTPRule{Action: ActAuth, Value: r.Value}
		case "redirect":
			if r.Redirect == nil {
				continue
			}
			rd := r.Redirect
			rule = HTTPRule{Action: ActRedirect, RedirectKind: rd.Type, Target: rd.Target, Status: rd.Code,
				DropQuery: rd.DropQuery, AppendSlash: rd.AppendSlash, SetCookie: rd.SetCookie}
		case "use-service":
			rule = HTTPRule{Action: ActService, Service: r.Service}
			if name, ok := strings.CutPrefix(r.Service, "lua."); ok {
				rule.ScriptName = name
			}
		case "lua":
			rule = HTTPRule{Action: ActScript, ScriptName: r.Name, ScriptArgs: r.Args}
		default:
			if build := actorBuilders[actionBase(r.Action)]; build != nil {
				a, err := build(r)
				if err != nil {
					return nil, fmt.Errorf("%s: http-%s: %w", r.Pos, r.Action, err)
				}
				rule = HTTPRule{Action: ActActor, Actor: a}
				break
			}
			if r.Track != nil {
				tr, err := trackRuleOf(r.Action, r.Track)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", r.Pos, err)
				}
				rule = HTTPRule{Action: ActTrack, Track: tr}
				break
			}
			continue
		}
		cond, err := CompileCondition(r.Cond, set)
		if err != nil {
			return nil, fmt.Errorf("%s: http-%s: %w", r.Pos, r.Action, err)
		}
		if cond != nil {
			rule.Cond = cond
		}
		if err := rule.compile(); err != nil {
			return nil, fmt.Errorf("%s: %w", r.Pos, err)
		}
		out = append(out, &rule)
	}
	return out, nil
}

// sendProxyOf is the PROXY protocol version a server line asks for: 2 for
// send-proxy-v2 (it wins when both are set, as in HAProxy), 1 for
// send-proxy, 0 for none.
func sendProxyOf(o *config.ServerOptions) uint8 {
	switch {
	case o.SendProxyV2:
		return 2
	case o.SendProxy:
		return 1
	}
	return 0
}

// tcpTrackCondOf sets rule's track-sc action from r and compiles r's
// condition: the part tcp-request (tcpRulesOf) and tcp-response
// (tcpResponseOf, tcpresponse.go) rules share. Each caller then checks the
// condition's fetches against what its layer has.
func tcpTrackCondOf(rule *TCPRule, r *config.TCPRule, set *acl.Set) (*acl.Condition, error) {
	if r.Track != nil {
		tr, err := trackRuleOf(r.Action, r.Track)
		if err != nil {
			return nil, err
		}
		rule.Track = tr
	}
	return CompileCondition(r.Cond, set)
}

// tcpRulesOf converts the tcp-request lines (core/config refused the forms
// the engine does not run).
func tcpRulesOf(fc *FrontendConfig, p *config.Proxy, set *acl.Set) error {
	fc.InspectDelay = p.InspectDelay
	for _, r := range p.TCPRequest {
		rule := TCPRule{Reject: r.Action == "reject"}
		kw := "tcp-request " + r.Layer + " " + actionBase(r.Action)
		if err := tcpVarRuleOf(&rule, r); err != nil { // vars.go
			return diag.At(r.Pos, kw, "", err)
		}
		if err := l4RuleOf(&rule, r); err != nil { // tcpl4.go
			return diag.At(r.Pos, kw, "use src, dst, src_port, dst_port, var() and stick counters there; see docs/proxy-protocol.md", err)
		}
		cond, err := tcpTrackCondOf(&rule, r, set)
		if err != nil {
			return diag.At(r.Pos, kw, "", err)
		}
		if cond != nil {
			layer := r.Layer
			if p.EffectiveMode() == "http" || layer == "session" {
				layer = "connection" // no payload to inspect: the head is parsed (stick_content.go)
			}
			if err := tcpFetchesOnly(cond, layer); err != nil {
				return diag.At(r.Pos, kw, "use src, dst (and in content rules req.len, req.payload, req_ssl_hello_type, req_ssl_sni); see docs/proxy-protocol.md", err)
			}
			rule.Cond = cond
		}
		if r.Layer == "connection" {
			fc.TCPConnection = append(fc.TCPConnection, rule)
		} else if r.Layer == "session" {
			fc.TCPSession = append(fc.TCPSession, rule)
		} else {
			fc.TCPContent = append(fc.TCPContent, rule)
		}
	}
	return nil
}

// backContentOf compiles the tcp-request content rules a stream entering
// the backend runs (stick_content.go): the same forms and checks as a
// frontend's (core/config refuses connection and session rules in a
// backend, as HAProxy does).
func backContentOf(bc *BackendConfig, p *config.Proxy, set *acl.Set) error {
	var fc FrontendConfig
	if err := tcpRulesOf(&fc, p, set); err != nil {
		return err
	}
	bc.InspectDelay, bc.TCPContent = fc.InspectDelay, fc.TCPContent
	return nil
}

// Fetches a tcp-request rule can read: the connection's addresses and
// constants, and for content rules the buffered bytes. Any other (an HTTP
// fetch) would never match there, and a reject rule that never matches
// lets everything through: refused (HAProxy refuses them in connection
// rules too).
var (
	l4Fetches = map[string]bool{"src": true, "src_port": true, "dst": true, "dst_port": true, "fe_name": true,
		"always_true": true, "always_false": true, "str": true, "int": true, "bool": true, "ipv4": true, "ipv6": true, "bin": true, "var": true}
	contentFetches = map[string]bool{"req.len": true, "req_len": true, "req.payload": true, "req.ssl_hello_type": true,
		"req_ssl_hello_type": true, "req.ssl_sni": true, "req_ssl_sni": true, "req.ssl_alpn": true,
		// HTTP fetches read the buffered bytes as an HTTP/1 request head
		// in content rules (tcpView.http, as HAProxy's smp_prefetch_htx),
		// waiting within the inspect-delay for a whole head:
		// `tcp-request content accept if HTTP` is the common idiom.
		"req.proto_http": true, "method": true, "path": true, "pathq": true, "url": true, "query": true, "base": true,
		"hdr": true, "req.hdr": true, "req.fhdr": true, "hdr_cnt": true, "req.hdr_cnt": true, "req.cook": true, "cook": true}
)

func tcpFetchesOnly(cond *acl.Condition, layer string) error {
	var bad string
	cond.Fetches(func(name string) {
		if bad == "" && !l4Fetches[name] && !isStickFetch(name) && !(layer == "content" && contentFetches[name]) {
			bad = name
		}
	})
	if bad != "" {
		return fmt.Errorf("fetch %q would never match in a tcp-request %s rule: what it reads is not there", bad, layer)
	}
	return nil
}
