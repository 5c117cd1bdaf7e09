package generation

import (
	"context"
	"errors"
	"fmt"
)

// A reload builds a second generation from the same files while the first
// one serves, starts it beside the first (StartAfter), then retires the
// first (Retire): it stops accepting, finishes its in-flight work and
// releases what it holds. Each part decides what it takes over from its
// predecessor through Inheritor.

// Drainer is implemented by parts whose stop on a reload differs from the
// process's stop: the engine finishes its in-flight requests and tunnels
// for as long as ctx allows (hard-stop-after) instead of the process's
// grace period, and its idle clients get a short chance to send one last
// request.
type Drainer interface {
	Drain(ctx context.Context) error
}

// Committer is implemented by parts that complete a takeover only once
// the whole new generation started: until then a failure stops the new
// generation and the running one must be left exactly as it was (the admin
// part lets its new socket copies remove the socket file only then).
type Committer interface{ Commit() }

// StartAfter starts g in place of prev, a running generation: every part
// of g that implements Inheritor first takes over from prev's part of the
// same subsystem (listening sockets, health and admin state, counters),
// then g starts as Start does, then every Committer commits. prev keeps
// running; on success the caller retires it, on error it keeps serving and
// g is released.
func (g *Generation) StartAfter(ctx context.Context, prev *Generation) error {
	if prev != nil {
		for _, p := range g.parts {
			inh, ok := p.part.(Inheritor)
			if !ok {
				continue
			}
			if old := prev.part(p.name); old != nil {
				inh.Inherit(old)
			}
		}
	}
	if err := g.Start(ctx); err != nil {
		return err
	}
	if prev != nil {
		for _, p := range g.parts {
			if c, ok := p.part.(Committer); ok {
				c.Commit()
			}
		}
	}
	return nil
}

// part returns the started part of subsystem name, or nil.
func (g *Generation) part(name string) Part {
	for _, p := range g.started {
		if p.name == name {
			return p.part
		}
	}
	return nil
}

// Retire stops a generation a reload replaced. Handover is set first (its
// successor holds the listeners and the VIPs). Parts stop in reverse start
// order as in Stop, except that a Drainer drains within drain (cancel it
// to end the drain at once, e.g. when the process stops): the log
// pipeline, stopped after the engine, still writes the records of the
// requests that finished during the drain.
func (g *Generation) Retire(drain context.Context) error {
	g.Handover = true
	if g.cancel != nil {
		g.cancel()
	}
	var errs []error
	for i := len(g.started) - 1; i >= 0; i-- {
		p := g.started[i]
		var err error
		if d, ok := p.part.(Drainer); ok {
			err = d.Drain(drain)
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), g.Opts.Grace+StopSlack)
			err = p.part.Stop(ctx)
			cancel()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("retire %s: %w", p.name, err))
		}
	}
	g.started = nil
	return errors.Join(errs...)
}
