package admin

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/listen"
	"github.com/varde-lb/varde/core/persist"
	"github.com/varde-lb/varde/core/proxy"
	"github.com/varde-lb/varde/core/stats"
)

// AttachOptions are what Attach wires into a running engine.
type AttachOptions struct {
	Config  *config.Config
	Engine  *proxy.Engine
	Logger  *slog.Logger
	Version string
	// Sockets is the process's listening-socket inventory (`expose-fd
	// listeners`, the stats socket's TCP address).
	Sockets *listen.Inventory
	// Extra reports process-level values of other subsystems (log drops,
	// VRRP state) for Prometheus and `show info`.
	Extra func() []stats.Extra
	// Events returns where server state changes are logged (the log
	// pipeline, once started); nil: nowhere.
	Events func() health.EventSink
}

// Attached is the health/persistence/stats/admin subsystem of one
// configuration generation; Close retires it.
type Attached struct {
	Health  *health.Manager
	Source  stats.Source
	Sockets []*Server

	opts    AttachOptions
	servers []*core.Server // every server, for the state file
	// statePlan is what HAProxy's server-state file says of each server
	// (serverstate.go), read at Prepare, applied at Start.
	statePlan []stateApply
	history   *stats.History // the stats pages' inline history, sampled while attached
}

// Build creates the health checks of the server lines, installs cookie
// persistence and passive-health hooks on the backends and adds the `stats
// uri` pages and `use-service prometheus-exporter` to the engine, before it
// listens: nothing runs and nothing is opened yet. It returns every problem
// found (each naming its line); with any, Close releases what was built.
func Build(o AttachOptions) (*Attached, []error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Attached{Source: EngineSource(o.Config, o.Engine, o.Version, time.Now(), o.Extra), opts: o}
	errs := a.attachHealth(o)
	if err := a.serveStats(o); err != nil {
		errs = append(errs, err)
	}
	return a, errs
}

// Start reapplies the runtime changes saved by a previous run, starts the
// health checks and opens the `stats socket`s. On error everything it
// started is closed.
func (a *Attached) Start(ctx context.Context) error {
	applyServerState(a.statePlan, a.Health, a.opts.Logger)
	reapplyState(a.opts.Config, a.servers, a.Health, a.opts.Logger)
	a.Health.Start(ctx)
	if a.history != nil {
		a.history.Start(stats.HistoryStep)
	}
	if err := a.openSockets(ctx, a.opts); err != nil {
		a.Close()
		return err
	}
	return nil
}

// attachHealth creates the health manager, adds every server's checks and
// installs the backends' hooks (passive health, cookie persistence), one
// error per faulty backend.
func (a *Attached) attachHealth(o AttachOptions) []error {
	// The backend is found by name at each change: `add server` adds
	// servers after this is built.
	a.Health = health.NewManager(health.Options{Logger: o.Logger.With("subsystem", "health"), Notify: func(s *core.Server) {
		if b := o.Engine.Backend(s.Backend); b != nil {
			b.Refresh()
			noteBackendState(b)
		}
	}, Judge: healthPolicies(o.Engine), Events: o.Events})
	var errs []error
	for _, p := range o.Config.Backends {
		b := o.Engine.Backend(p.Name)
		if b == nil {
			continue
		}
		noteBackendState(b)
		a.servers = append(a.servers, b.Servers()...)
		if err := a.attachBackend(o.Config, p, b); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// attachBackend adds the checks of one backend's servers and its hook.
func (a *Attached) attachBackend(c *config.Config, p *config.Proxy, b *proxy.Backend) error {
	mgr := a.Health
	hook := &proxy.Hook{}
	observed := false
	for _, s := range b.Servers() {
		sc := serverConf(p, s.Name)
		if sc == nil {
			continue
		}
		s.ConfigDisabled = sc.Disabled // CMAINT: configuration servers only (`add server ... disabled` is FMAINT alone, as HAProxy)
		hc, err := checkConfig(c, p, sc)
		if err != nil {
			return err
		}
		hc.Probe.HTTP.KeepBody = b.HealthJudge() != nil
		if err := mgr.Add(s, hc); err != nil {
			return fmt.Errorf("%s: %w", sc.Pos, err)
		}
		observed = observed || hc.Observe != ""
	}
	if observed {
		hook.Observe = func(s *core.Server, ob proxy.Observation) {
			status := ob.Status
			if ob.BadResp {
				status = 502
			}
			mgr.ObserveResult(s, ob.ConnFailed || ob.Timeout, status)
		}
	}
	if p.Cookie != nil && p.EffectiveMode() == "http" {
		ck, err := cookieOf(p)
		if err != nil {
			return err
		}
		hook.Lookup, hook.RequestField, hook.ResponseField, hook.ResponseFields = ck.Lookup, ck.RequestField, ck.ResponseField, ck.ResponseFields
		hook.ForcePersist = ck.Forced
		hook.Cookie = &proxy.CookieLog{Request: ck.RequestState, Response: ck.ResponseState, SetsOurs: ck.SetsOurs}
	}
	if hook.Observe != nil || hook.Lookup != nil {
		b.SetHook(hook)
	}
	return nil
}

// reapplyState applies runtime changes from the previous run (`set server
// ... state drain` before a reload) before the first check, like HAProxy's
// server-state-file.
func reapplyState(c *config.Config, all []*core.Server, mgr *health.Manager, log *slog.Logger) {
	for _, ss := range c.Global.StatsSockets {
		sf := stateFileOf(ss)
		if sf == "" {
			continue
		}
		st := NewStateStore(sf)
		if err := st.Load(); err != nil {
			log.Warn("admin: ignoring state file", "err", err)
			continue
		}
		if n := st.Apply(all, mgr); n > 0 {
			log.Info("admin: reapplied runtime changes", "servers", n, "file", sf)
		}
	}
}

// serveStats adds the frontends' stats pages and the Prometheus exporter
// (`http-request use-service prometheus-exporter`) to the engine.
func (a *Attached) serveStats(o AttachOptions) error {
	e := o.Engine
	for _, p := range o.Config.Frontends {
		if !hasStatsPage(p) || e.Frontend(p.Name) == nil {
			continue
		}
		h, err := a.statsPage(p, o)
		if err != nil {
			return err
		}
		if err := e.AddService(p.Name, statsMatcher(h), h); err != nil {
			return err
		}
	}
	if err := a.serveBackendStats(o); err != nil {
		return err
	}
	e.SetServiceHandler("prometheus-exporter", a.exporter(o)) // promex.go
	return nil
}

// hasStatsPage tells whether a section declares a stats page (`stats
// enable` or `stats uri`).
func hasStatsPage(p *config.Proxy) bool {
	return p.Stats != nil && (p.Stats.Enabled || p.Stats.URI != "")
}

// statsPage builds one section's stats page; every page of the
// generation shares one history (created with the first page).
func (a *Attached) statsPage(p *config.Proxy, o AttachOptions) (*stats.Handler, error) {
	if a.history == nil {
		a.history = stats.NewHistory(a.Source)
	}
	h, err := statsHandler(p, a.Source, a.Health, o.Version, o.Logger)
	if err != nil {
		return nil, err
	}
	h.SetHistory(a.history)
	return h, nil
}

// statsMatcher is HAProxy's http_stats_check_uri: a GET, HEAD or POST
// whose URI starts with `stats uri`; other methods go on to the servers.
func statsMatcher(h *stats.Handler) func(core.Request) bool {
	return func(r core.Request) bool {
		switch string(r.Method()) {
		case "GET", "HEAD", "POST":
			return h.Match(string(r.URI()))
		}
		return false
	}
}

// serveBackendStats adds the stats pages declared in backends (`backend
// stats` + `stats enable`, reached through a frontend's use_backend or
// default_backend): HAProxy serves them once a request reaches the
// backend and passed its http-request rules. A listen section's page is a
// frontend page (serveStats); backends in tcp mode serve none, as HAProxy.
func (a *Attached) serveBackendStats(o AttachOptions) error {
	e := o.Engine
	for _, p := range o.Config.Backends {
		if p.Kind != config.KindBackend || !hasStatsPage(p) || p.Mode != "http" || e.Backend(p.Name) == nil {
			continue
		}
		h, err := a.statsPage(p, o)
		if err != nil {
			return err
		}
		if err := e.AddBackendService(p.Name, statsMatcher(h), h); err != nil {
			return err
		}
	}
	return nil
}

// openSockets opens the `stats socket`s of the global section.
func (a *Attached) openSockets(ctx context.Context, o AttachOptions) error {
	for _, ss := range o.Config.Global.StatsSockets {
		cfg := Config{Path: ss.Path, Mode: fs.FileMode(ss.Mode), Level: LevelOperator, StateFile: stateFileOf(ss),
			ExposeFD: ss.ExposeFdListeners, Sockets: o.Sockets, Idle: o.Config.Global.StatsTimeout}
		if ss.Level != "" {
			lvl, err := ParseLevel(ss.Level)
			if err != nil {
				return fmt.Errorf("%s: stats socket: %w", ss.Pos, err)
			}
			cfg.Level = lvl
		}
		if ss.Addr != nil {
			cfg.TCP = addrString(ss.Addr)
		}
		rt := Runtime{Source: a.Source, Health: a.Health, Shutdown: o.Engine.ShutdownSessions, Policies: o.Engine.Policies(), TLS: o.Engine.TLSRegistry(), Tables: o.Engine.StickTables(), Engine: o.Engine, AddChecks: a.addChecks}
		srv := New(cfg, rt, o.Logger.With("subsystem", "admin"))
		if err := srv.Start(ctx); err != nil {
			return fmt.Errorf("%s: %w", ss.Pos, err)
		}
		if err := srv.State().Load(); err != nil {
			o.Logger.Warn("admin: state file", "err", err)
		}
		a.Sockets = append(a.Sockets, srv)
	}
	return nil
}

// Close stops the sockets and the checks (or releases what Build made).
func (a *Attached) Close() error {
	var errs []error
	for _, s := range a.Sockets {
		errs = append(errs, s.Close())
	}
	a.Health.Close()
	a.history.Stop()
	return errors.Join(errs...)
}

func stateFileOf(ss *config.StatsSocket) string {
	if ss.Path != "" {
		return ss.Path + ".state"
	}
	return ""
}

func addrString(a *config.Address) string {
	if a.Addr.IsValid() {
		return a.Addr.String()
	}
	return net.JoinHostPort(a.Host, fmt.Sprint(a.Port))
}

func serverConf(p *config.Proxy, name string) *config.Server {
	for _, s := range p.Servers {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// checkConfig turns a server line and its backend's check settings into a
// health.Config.
func checkConfig(c *config.Config, p *config.Proxy, s *config.Server) (health.Config, error) {
	hc := health.Config{
		Enabled: s.Check && !s.Disabled, Inter: s.Inter, FastInter: s.FastInter, DownInter: s.DownInter,
		Rise: s.Rise, Fall: s.Fall, Port: int(s.Port), Spread: c.Global.SpreadChecks,
		Slowstart: s.SlowStart, Observe: s.Observe, ErrorLimit: s.ErrorLimit, OnError: s.OnError,
	}
	if s.Addr != "" {
		a, err := netip.ParseAddr(s.Addr)
		if err != nil {
			return hc, fmt.Errorf("%s: server %s: addr %q: want an IP address", s.Pos, s.Name, s.Addr)
		}
		hc.Addr = a
	}
	// `timeout check` bounds the read once connected; the connect itself
	// is bounded by `timeout connect`, as in HAProxy. Without it, inter.
	if p.Timeouts.Check > 0 {
		hc.Timeout = p.Timeouts.Check + p.Timeouts.Connect
	}
	hc.Probe = health.ProbeSpec{Type: probeOf(p)}
	if s.Check && hc.Probe.Type != "ssl-hello" { // ssl-hello-chk sends its own hello
		tc, err := proxy.CheckTLS(s)
		if err != nil {
			return hc, err
		}
		hc.TLS = tc
	}
	if hc.Probe.Type == "http" {
		hc.Probe.HTTP = httpSpec(p)
		hc.DisableOn404 = disableOn404(p)
	}
	hc.Probe.TCP, hc.Probe.OptionArgs = tcpCheckSpec(p, hc.Probe.Type)
	if s.Check {
		rt, err := ruleTLS(p, s, hc.Probe.Type)
		if err != nil {
			return hc, err
		}
		hc.Probe.RuleTLS = rt
	}
	if s.AgentCheck {
		ag := &health.AgentConfig{Port: int(s.AgentPort), Inter: s.AgentInter, Send: s.AgentSend}
		if s.AgentAddr != "" {
			a, err := netip.ParseAddr(s.AgentAddr)
			if err != nil {
				return hc, fmt.Errorf("%s: server %s: agent-addr %q: want an IP address", s.Pos, s.Name, s.AgentAddr)
			}
			ag.Addr = a
		}
		hc.Agent = ag
	}
	return hc, nil
}

// disableOn404 reports `http-check disable-on-404` (also from defaults).
func disableOn404(p *config.Proxy) bool {
	for _, hc := range p.HTTPCheck {
		if hc.Action == "disable-on-404" {
			return true
		}
	}
	return false
}

// probeOf is the probe the proxy's options select (each probe registers
// the option that selects it: httpchk, ssl-hello-chk); a plain TCP connect
// otherwise. Options are visited in name order so the choice is stable.
func probeOf(p *config.Proxy) string {
	names := make([]string, 0, len(p.Options))
	for name := range p.Options {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if t, ok := health.ProbeForOption(name); ok && p.Option(name) != nil {
			return t
		}
	}
	return "tcp"
}

func httpSpec(p *config.Proxy) health.HTTPSpec {
	var sp health.HTTPSpec
	if o := p.Option("httpchk"); o != nil && o.HTTPChk != nil {
		sp.Method, sp.URI, sp.Version = o.HTTPChk.Method, o.HTTPChk.URI, o.HTTPChk.Version
		for _, h := range o.HTTPChk.Headers {
			if k, v, ok := strings.Cut(h, ":"); ok {
				sp.Headers = append(sp.Headers, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
			}
		}
	}
	comments := httpCheckComments(p.HTTPCheck)
	for _, hc := range p.HTTPCheck {
		if v := hc.Var; v != nil { // http-check set-var... (config checkvars.go)
			sp.Vars = append(sp.Vars, health.CheckVar{Name: v.Name, Conds: v.Conds, Expr: v.Expr, Fmt: v.Fmt, Unset: strings.HasPrefix(hc.Action, "unset-var")})
			continue
		}
		switch hc.Action {
		case "connect":
			sp.Connect = hc.Connect
		case "send":
			if hc.Method != "" {
				sp.Method = hc.Method
			}
			if hc.URI != "" {
				sp.URI = hc.URI
			}
			sp.URIFmt, sp.BodyFmt = hc.URIFmt, hc.BodyFmt
			if hc.Version != "" {
				sp.Version = hc.Version
			}
			for len(sp.HeaderLF) < len(sp.Headers) {
				sp.HeaderLF = append(sp.HeaderLF, false) // option httpchk's: literal
			}
			for _, h := range hc.Headers {
				sp.Headers = append(sp.Headers, [2]string{h.Name, h.Value})
				sp.HeaderLF = append(sp.HeaderLF, true)
			}
			sp.Body = hc.Body
		case "expect":
			switch hc.Match {
			case "status", "rstatus", "string", "rstring":
				sp.Expect = append(sp.Expect, health.Expect{Negate: hc.Negate, Kind: hc.Match, Pattern: hc.Pattern, Comment: comments[hc]})
			}
		}
	}
	return sp
}

func cookieOf(p *config.Proxy) (*persist.Cookie, error) {
	ck := p.Cookie
	cfg := persist.Config{Name: ck.Name, Mode: ck.Mode, Indirect: ck.Indirect, NoCache: ck.NoCache, PostOnly: ck.PostOnly,
		Preserve: ck.Preserve, HTTPOnly: ck.HTTPOnly, Secure: ck.Secure, Domains: ck.Domains, MaxIdle: ck.MaxIdle,
		MaxLife: ck.MaxLife, Persist: p.Option("persist") != nil}
	set, err := proxy.CompileACLs(p)
	if err != nil {
		return nil, err
	}
	if cfg.ForcePersist, err = anyCond(p.ForcePersist, set); err != nil {
		return nil, err
	}
	if cfg.IgnorePersist, err = anyCond(p.IgnorePersist, set); err != nil {
		return nil, err
	}
	c, err := persist.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: cookie: %w", ck.Pos, err)
	}
	return c, nil
}

func anyCond(list []*config.Condition, set *acl.Set) (func(core.Request) bool, error) {
	if len(list) == 0 {
		return nil, nil
	}
	var conds []*acl.Condition
	for _, c := range list {
		cc, err := proxy.CompileCondition(c, set)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Pos, err)
		}
		conds = append(conds, cc)
	}
	return func(r core.Request) bool {
		for _, c := range conds {
			if c.Match(r) {
				return true
			}
		}
		return false
	}, nil
}

func statsHandler(p *config.Proxy, src stats.Source, mgr *health.Manager, version string, log *slog.Logger) (*stats.Handler, error) {
	st := p.Stats
	pc := stats.PageConfig{URI: st.URI, Realm: st.Realm, Refresh: st.Refresh, HideVersion: st.HideVersion, Version: version,
		Node: st.ShowNode, Desc: st.ShowDesc, Legends: st.ShowLegends, Modules: st.ShowModules}
	if pc.Node == "-" { // `stats show-node` alone: HAProxy's default node is the host name
		pc.Node, _ = os.Hostname()
	}
	for _, a := range st.Auth {
		pc.Users = append(pc.Users, stats.User{Name: a.User, Password: a.Password})
	}
	for _, name := range st.Scope {
		if name == "." { // HAProxy: "." is the proxy serving the page
			name = p.Name
		}
		pc.Scope = append(pc.Scope, name)
	}
	if len(st.Admin) > 0 {
		set, err := proxy.CompileACLs(p)
		if err != nil {
			return nil, err
		}
		adm, err := anyCond(st.Admin, set)
		if err != nil {
			return nil, err
		}
		pc.Admin = func(r *http.Request) bool { return adm(httpView{r}) }
	}
	return stats.NewHandler(pc, src, mgr, mgr, log.With("subsystem", "stats", "proxy", p.Name)), nil
}

// httpView presents a net/http request (the stats page's) as core.Request
// so `stats admin if COND` evaluates the same ACLs as the engine.
type httpView struct{ r *http.Request }

func (v httpView) Method() []byte { return []byte(v.r.Method) }
func (v httpView) URI() []byte    { return []byte(v.r.RequestURI) }
func (v httpView) Path() []byte   { return []byte(v.r.URL.Path) }
func (v httpView) Query() []byte  { return []byte(v.r.URL.RawQuery) }
func (v httpView) Header(name string) ([]byte, bool) {
	if name == "Host" || strings.EqualFold(name, "host") {
		return []byte(v.r.Host), v.r.Host != ""
	}
	vals := v.r.Header.Values(name)
	if len(vals) == 0 {
		return nil, false
	}
	return []byte(vals[0]), true
}
func (v httpView) NumHeaders() int {
	n := 0
	for _, vals := range v.r.Header {
		n += len(vals)
	}
	return n
}
func (v httpView) HeaderAt(i int) ([]byte, []byte) {
	for k, vals := range v.r.Header {
		if i < len(vals) {
			return []byte(k), []byte(vals[i])
		}
		i -= len(vals)
	}
	return nil, nil
}
func (v httpView) Src() netip.AddrPort {
	ap, _ := netip.ParseAddrPort(v.r.RemoteAddr)
	return ap
}
func (v httpView) Dst() netip.AddrPort { return netip.AddrPort{} }
func (v httpView) TLS() bool           { return v.r.TLS != nil }

var _ core.Request = httpView{}

// EngineSource snapshots a running engine's counters in configuration order.
func EngineSource(c *config.Config, e *proxy.Engine, version string, started time.Time, extra func() []stats.Extra) stats.Source {
	ids := proxyIDs(c)
	return stats.SourceFunc(func() stats.Snapshot {
		snap := stats.Snapshot{Info: stats.Info{Name: "varde", Version: version, Started: started, CurConns: e.ActConn(), MaxConn: int64(c.Global.MaxConn)}}
		for i, p := range c.Proxies {
			sp := stats.Proxy{Name: p.Name, ID: ids[i], Mode: p.EffectiveMode()}
			if p.IsFrontend() {
				if f := e.Frontend(p.Name); f != nil {
					fc := countersOf(&f.Counters)
					fc.LimitConns = int64(p.MaxConn)
					fc.SSLFailures = f.SSLFailures.Load()
					fc.SSLSessions, fc.SSLReused = f.SSLSessions.Load(), f.SSLReused.Load()
					fc.SSLClosed = f.SSLClosed.Load()
					fc.ProxyErrors = f.ProxyErrors.Load()
					sp.Frontend = &fc
				}
			}
			if p.IsBackend() {
				if b := e.Backend(p.Name); b != nil {
					bc := countersOf(&b.Counters)
					sp.Backend = &bc
					sp.Servers = b.Servers()
					if p.Cookie != nil {
						sp.Cookie = p.Cookie.Name
					}
					sp.AllBackups = p.Option("allbackups") != nil
					sp.NoBalancer = p.Dispatch != nil && p.Balance == nil
					if p.Balance != nil {
						sp.Algo = p.Balance.Algorithm
					} else {
						sp.Algo = "roundrobin"
					}
				}
			}
			if sp.Frontend != nil || sp.Backend != nil {
				snap.Proxies = append(snap.Proxies, sp)
			}
		}
		if extra != nil {
			snap.Extra = extra()
		}
		snap.Extra = append(snap.Extra, policyExtras(e.Policies())...)
		return snap
	})
}

func countersOf(c *proxy.Counters) stats.Counters {
	out := stats.Counters{
		Meters: &c.Meters, CurConns: c.CurConns.Load(), MaxConns: c.MaxConns.Load(), TotalConns: c.TotalConns.Load(), Requests: c.Requests.Load(),
		BytesIn: c.BytesIn.Load(), BytesOut: c.BytesOut.Load(), DeniedReq: c.Denied.Load(), ReqErrors: c.ReqErrors.Load(),
		ConnErrors: c.ConnErrors.Load(), RespErrors: c.RespErrors.Load(), Retries: c.Retries.Load(), Redispatch: c.Redispatch.Load(),
		Queued: c.Queued.Load(), MaxQueued: c.MaxQueued.Load(), DeniedConn: c.DeniedConns.Load(), DeniedSess: c.DeniedSess.Load(),
	}
	for i := range out.Status {
		out.Status[i] = c.Status[i].Load()
	}
	return out
}

// healthPolicies routes each probe result to its backend's health policy
// (a policy's health(server, result)); nil when no backend has one.
func healthPolicies(e *proxy.Engine) core.HealthJudge {
	m := judgeByBackend{}
	for _, b := range e.Backends() {
		if j := b.HealthJudge(); j != nil {
			m[b.Name] = j
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// judgeByBackend is a core.HealthJudge dispatching on the server's backend;
// servers of backends without a policy keep the probe's verdict.
type judgeByBackend map[string]core.HealthJudge

func (m judgeByBackend) Judge(s core.ServerView, r core.CheckResult) bool {
	if j := m[s.Backend]; j != nil {
		return j.Judge(s, r)
	}
	return r.OK
}
