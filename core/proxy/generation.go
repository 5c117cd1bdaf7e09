package proxy

import (
	"context"
	"errors"
	"fmt"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/generation"
)

// The forwarding engine: built (servers resolved, balancers, rules and
// error pages compiled) at Prepare, listening at Start.
func init() {
	generation.Register(generation.Subsystem{Name: "engine", Order: generation.OrderEngine, Prepare: prepareEngine})
}

// EngineOf is the engine a generation built (nil when the configuration has
// no frontend): the parts after it (admin, vip) attach to it.
var EngineOf = generation.NewKey[*Engine]("engine")

type enginePart struct {
	g    *generation.Generation
	e    *Engine
	prev *enginePart         // the part this one took over from (reload.go)
	base map[string][]uint64 // prev's counters as copied, for heirOf at Commit
}

func prepareEngine(g *generation.Generation, d *diag.List) generation.Part {
	c := g.HAProxy()
	if c == nil || len(c.Frontends) == 0 {
		return nil
	}
	refs := generationPatRefs() // maps and ACL files, shared by this generation (mapact.go)
	pcfg, ok := withPatRefs(refs, func() (*Config, bool) { return engineConfig(c, d) })
	if !ok {
		return nil
	}
	pcfg.Sockets = g.Opts.Sockets
	// Without a host, the scripting subsystem already reported why (a
	// script that failed to load); only when it is not linked in at all
	// does the engine have to refuse the lua.NAME rules itself.
	if err := bindScripts(pcfg, ScriptHostOf.Get(g)); err != nil {
		if !d.HasErrors() {
			d.Add(diag.Locate(err, diag.Pos{File: firstFile(c)}, "lua-load", "declare the script with lua-load in the global section"))
		}
		return nil
	}
	e, err := withPatRefs(refs, func() (*Engine, error) { return New(pcfg, g.Opts.Logger) })
	if err != nil {
		for _, p := range pcfg.Policies {
			p.Policy.Close()
		}
		d.Add(locateBuildError(c, err))
		return nil
	}
	e.patRefs = refs
	EngineOf.Set(g, e)
	g.AddExtra(e.spliceExtras)
	return &enginePart{g: g, e: e}
}

// engineConfig adapts each proxy on its own, so that every faulty section
// is reported, not only the first.
func engineConfig(c *config.Config, d *diag.List) (*Config, bool) {
	out := &Config{
		MaxConn: c.Global.MaxConn, Threads: c.Global.NbThread, NoSplice: c.Global.NoSplice,
		BufSize: int(c.Global.TuneBufSize), MaxRewrite: int(c.Global.TuneMaxRewrite), MaxHeaders: c.Global.TuneHTTPMaxHdr,
		H2MaxStreams: c.Global.TuneH2MaxStreams,
		CompLevel:    c.Global.TuneCompMaxLevel, CompRateLimit: c.Global.MaxCompRate * 1024,
		VarLimits: varLimitsOf(c), ProcVars: c.Global.SetVars,
	}
	ok := true
	known := map[string]Mode{}
	ps := newPolicySet()
	built := map[*config.Proxy]*BackendConfig{}
	for _, p := range c.Backends {
		if p.Disabled {
			continue
		}
		bc, err := BackendFromConfig(p)
		if err != nil {
			d.Add(diag.Locate(err, p.Pos, p.Kind, ""))
			ok = false
			known[p.Name] = modeOf(p) // its frontends are not in error too
			continue
		}
		bc.FullConn = fullConnOf(c, p) // fullconn.go
		out.Backends = append(out.Backends, bc)
		known[bc.Name] = bc.Mode
		built[p] = bc
	}
	for _, p := range c.Backends {
		if bc := built[p]; bc != nil {
			cps, pok := ps.of(p, knownOfMode(known, bc.Mode), d)
			ok = ok && pok
			applyBackend(bc, cps)
		}
	}
	for _, p := range c.Frontends {
		if p.Disabled {
			continue
		}
		fc, err := FrontendFromConfig(p, known)
		if err != nil {
			d.Add(diag.Locate(err, p.Pos, p.Kind, ""))
			ok = false
			continue
		}
		cps, pok := ps.of(p, knownOfMode(known, fc.Mode), d)
		ok = ok && pok
		applyFrontend(fc, cps)
		for _, err := range addTLS(out, c, p, fc) {
			d.Add(diag.Locate(err, p.Pos, "bind", ""))
			ok = false
		}
		out.Frontends = append(out.Frontends, fc)
	}
	if err := bindStickTables(out, c); err != nil { // stick.go
		d.Add(diag.Locate(err, diag.Pos{File: firstFile(c)}, "stick-table", ""))
		ok = false
	}
	out.Userlists = userlistsOf(c) // auth.go
	out.Caches = cachesOf(c)       // cache_store.go
	if err := bindCaches(out); err != nil {
		d.Add(diag.Locate(err, diag.Pos{File: firstFile(c)}, "cache", ""))
		ok = false
	}
	out.Policies = ps.all
	if !ok {
		ps.closeAll()
		out.Policies = nil
	}
	return out, ok
}

// locateBuildError points an engine construction error at the server or
// balance line it comes from.
func locateBuildError(c *config.Config, err error) diag.Diagnostic {
	var be *BuildError
	if !errors.As(err, &be) {
		return diag.Locate(err, diag.Pos{File: firstFile(c)}, "", "")
	}
	p := c.Backend(be.Backend)
	if p == nil {
		return diag.Locate(err, diag.Pos{File: firstFile(c)}, "backend", "")
	}
	if be.Server == "" {
		pos := p.Pos
		if p.Balance != nil && p.BalancePos.Line > 0 {
			pos = p.BalancePos
		}
		return diag.Locate(be.Err, pos, "balance", "")
	}
	for _, s := range p.Servers {
		if s.Name == be.Server {
			return diag.Locate(fmt.Errorf("server %s: %w", s.Name, be.Err), s.Pos, "server",
				"use an address or a host name this machine resolves (varde resolves server names at start, as HAProxy without a resolvers section)")
		}
	}
	return diag.Locate(be.Err, p.Pos, "server", "")
}

func firstFile(c *config.Config) string {
	if c.Global.Pos.File != "" {
		return c.Global.Pos.File
	}
	if len(c.Proxies) > 0 {
		return c.Proxies[0].Pos.File
	}
	return "varde"
}

func (p *enginePart) Start(context.Context) error {
	p.e.SetSink(p.g.Sink)
	if err := p.e.Start(); err != nil {
		return err
	}
	for _, f := range p.e.Frontends() {
		p.g.Opts.Logger.Info("frontend listening", "frontend", f.Name, "addrs", fmt.Sprint(f.Listeners())) // NAME=ADDR for a bind with a name
	}
	return nil
}

// Close releases an engine that was built and never started.
func (p *enginePart) Close() error {
	p.e.Release()
	p.e.ClosePolicies()
	return nil
}

func (p *enginePart) Stop(context.Context) error {
	// The engine's grace is its own (Options.Grace), not the caller's
	// deadline: a VIP or admin part may have used part of that.
	ctx, cancel := context.WithTimeout(context.Background(), p.g.Opts.Grace)
	defer cancel()
	err := p.e.Stop(ctx)
	p.e.ClosePolicies() // after the last request: a closed policy declines
	return err
}
