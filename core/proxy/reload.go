package proxy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/listen"
)

// Reload (docs/reload.md): the engine of a new generation takes the
// running engine's listening sockets through the process's inventory, so
// a bind that stays is never closed (no connection is refused in
// between), and its counters by name, so the stats do not reset. The old
// engine then drains: it stops accepting, gives its idle keep-alive
// clients drainLinger to send one last request (answered with
// Connection: close), and lets in-flight requests and tunnels finish
// within hard-stop-after.

// drainLinger is how long a draining engine still reads the next request
// of a keep-alive connection it had promised to keep: a client may have
// sent it already, and closing under it would fail that request.
const drainLinger = time.Second

// OfferListeners keeps a duplicate of every listening socket of e in inv,
// for the next generation's Start to take by address; e keeps serving on
// its own copies until it stops.
func (e *Engine) OfferListeners(inv *listen.Inventory) error {
	var errs []error
	for _, f := range e.frontends {
		for _, l := range f.listeners {
			if _, ok := l.(interface{ File() (*os.File, error) }); !ok {
				continue // a test's injected listener: nothing to hand over
			}
			if err := inv.Offer(l); err != nil {
				errs = append(errs, fmt.Errorf("frontend %s: %w", f.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Drain is Stop for an engine a reload replaced: idle clients first get
// drainLinger to send a request already on its way, then in-flight work
// finishes until ctx ends (hard-stop-after, or the process stopping).
func (e *Engine) Drain(ctx context.Context) error {
	e.lingerUntil.Store(time.Now().Add(drainLinger).UnixNano())
	err := e.Stop(ctx)
	e.foldIntoHeir()
	return err
}

// lingering returns the end of the drain's linger, when it is running.
func (e *Engine) lingering() (time.Time, bool) {
	until := e.lingerUntil.Load()
	if until == 0 || time.Now().UnixNano() >= until {
		return time.Time{}, false
	}
	return time.Unix(0, until), true
}

func (e *Engine) isLingering() bool {
	_, ok := e.lingering()
	return ok
}

// lingerIdle waits, on a drain, until the linger ends or every session is
// done, before idle sessions are woken and closed.
func (e *Engine) lingerIdle(done <-chan struct{}) {
	until, ok := e.lingering()
	if !ok {
		return
	}
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// Inherit takes over from the running generation's engine: its counters
// and its listening sockets (offered to the process inventory, taken by
// address when this engine starts).
func (p *enginePart) Inherit(prev generation.Part) {
	old, ok := prev.(*enginePart)
	if !ok || old.e == nil {
		return
	}
	p.prev = old
	p.base = p.e.adoptCounters(old.e)
	if kept := p.e.AdoptStickTables(old.e); len(kept) > 0 {
		p.g.Opts.Logger.Info("reload: stick tables carried over", "tables", strings.Join(kept, " "))
	}
	if inv := p.g.Opts.Sockets; inv != nil {
		if err := old.e.OfferListeners(inv); err != nil {
			p.g.Opts.Logger.Warn("reload: a listener could not be handed over; it binds anew", "err", err)
		}
	}
}

// Commit: the whole new generation started, so the running engine stops
// accepting now (its sockets are this engine's too): from here on every
// new connection goes to the new configuration. It drains when retired,
// and what it counts meanwhile goes to this engine.
func (p *enginePart) Commit() {
	if p.prev != nil {
		p.e.heirOf(p.prev.e, p.base)
		p.prev.e.stopAccepting()
	}
}

// stopAccepting closes e's copies of its listening sockets; the accept
// loops end on their own (one waiting for a maxconn slot ends when it
// next accepts, on the closed listener); the event loops let go of theirs
// (loopaccept_linux.go).
func (e *Engine) stopAccepting() {
	for _, f := range e.frontends {
		for _, l := range f.listeners {
			l.Close()
		}
	}
	e.stopLoopAccept()
}

// Drain retires the engine of a generation a reload replaced.
func (p *enginePart) Drain(ctx context.Context) error {
	err := p.e.Drain(ctx)
	p.e.ClosePolicies() // after the last request: a closed policy declines
	if err != nil {
		return fmt.Errorf("drain cut short (hard-stop-after or process stop): %w", err)
	}
	return nil
}

var (
	_ generation.Drainer   = (*enginePart)(nil)
	_ generation.Inheritor = (*enginePart)(nil)
	_ generation.Committer = (*enginePart)(nil)
)

// counterCells lists a proxy's monotonic counters, in a fixed order.
func (c *Counters) counterCells() []*atomic.Uint64 {
	cells := []*atomic.Uint64{&c.TotalConns, &c.Requests, &c.BytesIn, &c.BytesOut, &c.Denied, &c.ReqErrors,
		&c.RespErrors, &c.ConnErrors, &c.Retries, &c.Redispatch, &c.ProxyErrors, &c.DeniedConns, &c.DeniedSess}
	for i := range c.Status {
		cells = append(cells, &c.Status[i])
	}
	return append(cells, c.Meters.Totals()...)
}

func serverCells(s *core.Server) []*atomic.Uint64 {
	cells := []*atomic.Uint64{&s.Total, &s.BytesIn, &s.BytesOut, &s.ConnErrors, &s.RespErrors, &s.Retries, &s.Redispatch}
	return append(cells, s.Meters.Totals()...)
}

func frontendCells(f *Frontend) []*atomic.Uint64 {
	return append(f.counterCells(), &f.SSLFailures, &f.SSLClosed, &f.SSLSessions, &f.SSLReused)
}

// cellsByName lists every counter of e by owner: "f/NAME", "b/NAME",
// "s/BACKEND/SERVER".
func (e *Engine) cellsByName() map[string][]*atomic.Uint64 {
	m := map[string][]*atomic.Uint64{}
	for _, f := range e.frontends {
		m["f/"+f.Name] = frontendCells(f)
	}
	for _, b := range e.backends {
		m["b/"+b.Name] = b.counterCells()
		for _, s := range b.Servers() {
			m["s/"+b.Name+"/"+s.Name] = serverCells(s)
		}
	}
	return m
}

// adoptCounters copies old's counters into e by name (e has not started)
// and returns what was copied: once e's generation commits, old's heir is
// e (heirOf) and, when old finishes draining, what it counted since is
// added to it (foldIntoHeir).
func (e *Engine) adoptCounters(old *Engine) map[string][]uint64 {
	mine := e.cellsByName()
	base := map[string][]uint64{}
	for k, from := range old.cellsByName() {
		vals := make([]uint64, len(from))
		for i, c := range from {
			vals[i] = c.Load()
		}
		base[k] = vals
		if to := mine[k]; len(to) == len(vals) {
			for i, v := range vals {
				to[i].Store(v)
			}
		}
	}
	e.adoptMax(old)
	return base
}

// heirOf makes e old's heir, with base the counters e copied from old.
// Only at Commit: a generation that fails to start must leave the running
// engine as it was, or its drain would fold into a discarded engine.
func (e *Engine) heirOf(old *Engine, base map[string][]uint64) {
	old.heirBase = base
	old.heir.Store(e)
}

// adoptMax carries the high-water marks (max sessions, max queue) and the
// meters' time averages, maxima and rate maxima.
func (e *Engine) adoptMax(old *Engine) {
	for _, f := range e.frontends {
		if of := old.Frontend(f.Name); of != nil {
			f.MaxConns.Store(of.MaxConns.Load())
			f.Meters.Adopt(&of.Meters, true)
		}
	}
	for _, b := range e.backends {
		ob := old.Backend(b.Name)
		if ob == nil {
			continue
		}
		b.MaxConns.Store(ob.MaxConns.Load())
		b.MaxQueued.Store(ob.MaxQueued.Load())
		// The averages are weighted by requests (http) or connections
		// (tcp): a mode change restarts them.
		same := b.Mode() == ob.Mode()
		b.Meters.Adopt(&ob.Meters, same)
		for _, s := range b.Servers() {
			for _, os := range ob.Servers() {
				if os.Name == s.Name {
					s.MaxActive.Store(os.MaxActive.Load())
					s.RTime.Store(os.RTime.Load())
					s.Meters.Adopt(&os.Meters, same)
				}
			}
		}
	}
}

// foldIntoHeir adds what e counted since its heir copied its counters (or
// since the last fold) to the engine serving now (the last of the chain of
// heirs), by name. A drain folds when its linger ends (the requests of
// idle clients are done; a tunnel may go on for hours) and again at its
// end. Only the draining goroutine calls it.
func (e *Engine) foldIntoHeir() {
	h := e.heir.Load()
	if h == nil {
		return
	}
	for next := h.heir.Load(); next != nil; next = next.heir.Load() {
		h = next
	}
	target := h.cellsByName()
	for k, from := range e.cellsByName() {
		base, to := e.heirBase[k], target[k]
		if len(base) != len(from) || len(to) != len(from) {
			continue
		}
		for i, c := range from {
			now := c.Load()
			if d := now - base[i]; d > 0 && d < 1<<63 {
				to[i].Add(d)
				base[i] = now
			}
		}
	}
	h.keepMaxima(e)
}

// keepMaxima raises e's meters' maxima to old's, by name.
func (e *Engine) keepMaxima(old *Engine) {
	for _, f := range e.frontends {
		if of := old.Frontend(f.Name); of != nil {
			f.Meters.KeepMaxima(&of.Meters)
		}
	}
	for _, b := range e.backends {
		ob := old.Backend(b.Name)
		if ob == nil {
			continue
		}
		b.Meters.KeepMaxima(&ob.Meters)
		for _, s := range b.Servers() {
			for _, os := range ob.Servers() {
				if os.Name == s.Name {
					s.Meters.KeepMaxima(&os.Meters)
				}
			}
		}
	}
}
