// Package resolve runs HAProxy 2.6's run-time server resolution: for each
// `resolvers` section, the names of the servers that use it are resolved
// every `hold valid` (checked each `timeout resolve`), and each server is
// given an address of the answer, moved to another one when its address
// left the answer, or put in resolution maintenance (RMAINT) when the
// answer has none for it or the name failed for longer than the section's
// `hold` for that failure. Addresses change through core.Server's
// SetAddress, the same path as the admin socket's `set server addr`.
package resolve

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/dns"
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/proxy"
)

// OrderResolvers starts resolution after the engine built the servers and
// before admin (whose `show resolvers` reads it).
const OrderResolvers = 25

// Of is the generation's runtime, for core/admin.
var Of = generation.NewKey[*Runtime]("resolvers")

func init() {
	generation.Register(generation.Subsystem{Name: "resolvers", Order: OrderResolvers, Prepare: prepare})
}

// Runtime is one generation's resolvers sections and their resolutions.
type Runtime struct {
	sections []*section
	log      *slog.Logger
	events   func() health.EventSink
	engine   *proxy.Engine
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func prepare(g *generation.Generation, d *diag.List) generation.Part {
	c, e := g.HAProxy(), proxy.EngineOf.Get(g)
	if c == nil || e == nil || len(c.AllResolvers()) == 0 {
		return nil
	}
	rt := &Runtime{engine: e, log: g.Opts.Logger, events: func() health.EventSink { s, _ := g.Sink.(health.EventSink); return s }}
	if rt.log == nil {
		rt.log = slog.New(slog.DiscardHandler)
	}
	for _, rc := range c.AllResolvers() {
		rt.sections = append(rt.sections, newSection(rt, rc))
	}
	for _, b := range e.Backends() {
		for _, r := range b.Resolvables() {
			sec := rt.section(r.Config.Resolvers)
			if sec == nil {
				continue // refused by config.checkResolvers
			}
			sec.attach(&member{b: b, s: r.Server, cfg: r.Config, fqdn: r.Config.FQDN})
		}
	}
	Of.Set(g, rt)
	byEngine.Store(e, rt)
	return rt
}

func (rt *Runtime) section(name string) *section {
	for _, s := range rt.sections {
		if s.cfg.Name == name {
			return s
		}
	}
	return nil
}

// Start runs each section's resolutions until ctx ends or Stop.
func (rt *Runtime) Start(ctx context.Context) error {
	ctx, rt.cancel = context.WithCancel(ctx)
	for _, s := range rt.sections {
		rt.wg.Add(1)
		go func() {
			defer rt.wg.Done()
			s.run(ctx)
		}()
	}
	return nil
}

// Stop ends the resolutions and waits for the queries under way (each
// bounded by the section's timeouts).
func (rt *Runtime) Stop(ctx context.Context) error {
	byEngine.Delete(rt.engine)
	if rt.cancel != nil {
		rt.cancel()
	}
	done := make(chan struct{})
	go func() {
		rt.wg.Wait()
		rt.closeClients()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}

// closeClients closes the sections' nameserver sockets (after their
// queries ended: the sockets live as long as the generation).
func (rt *Runtime) closeClients() {
	for _, s := range rt.sections {
		s.client.Close()
	}
}

// emit sends a state-change message to the backend's log targets and,
// as HAProxy's ha_warning, to the process log.
func (rt *Runtime) emit(e health.Event) {
	rt.log.Warn(e.Text)
	if sink := rt.events(); sink != nil {
		sink.HealthEvent(e)
	}
}

// Sections lists the sections in configuration order, for `show resolvers`.
func (rt *Runtime) Sections() []SectionInfo {
	var out []SectionInfo
	for _, s := range rt.sections {
		si := SectionInfo{Name: s.cfg.Name}
		for i := range s.client.Servers {
			ns := &s.client.Servers[i]
			si.Nameservers = append(si.Nameservers, NameserverInfo{ID: ns.ID, Stats: ns.Stats})
		}
		out = append(out, si)
	}
	return out
}

// SectionInfo is a section's nameservers and their counters.
type SectionInfo struct {
	Name        string
	Nameservers []NameserverInfo
}

// NameserverInfo is one nameserver's counters.
type NameserverInfo struct {
	ID    string
	Stats *dns.Stats
}

// hold is how long status may last since the last valid answer before
// the servers enter resolution maintenance.
func hold(c *config.Resolvers, st dns.Status) time.Duration {
	switch st {
	case dns.StatusNX:
		return c.HoldNX
	case dns.StatusTimeout:
		return c.HoldTimeout
	case dns.StatusRefused:
		return c.HoldRefused
	}
	return c.HoldOther
}

// cause is HAProxy's words for the maintenance a status causes.
func cause(st dns.Status) string {
	switch st {
	case dns.StatusNX:
		return "DNS NX status"
	case dns.StatusTimeout:
		return "DNS timeout status"
	case dns.StatusRefused:
		return "DNS refused status"
	}
	return "unspecified DNS error"
}

// byEngine finds a generation's runtime from its engine, for the admin
// socket (which holds the engine): set while the runtime exists.
var byEngine sync.Map // *proxy.Engine -> *Runtime

// ForEngine is the runtime of e's generation, nil without resolvers.
func ForEngine(e *proxy.Engine) *Runtime {
	if e == nil {
		return nil
	}
	rt, _ := byEngine.Load(e)
	r, _ := rt.(*Runtime)
	return r
}

// Close forgets a runtime that was prepared but not started (varde check).
func (rt *Runtime) Close() error {
	byEngine.Delete(rt.engine)
	rt.closeClients()
	return nil
}
