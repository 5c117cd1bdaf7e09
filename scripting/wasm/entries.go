package wasm

import (
	"errors"
	"fmt"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/scripting"
)

// invoke runs entry e on an instance whose inputs the caller filled and
// returns the raw result; the caller reads it and puts the instance back.
// On failure the reason is counted and logged, the instance dropped, and
// ok is false: the caller declines.
func (p *Policy) invoke(e int, in *instance) (res uint64, ok bool) {
	start := time.Now()
	res, err := in.call(e)
	p.entry[e].Observe(time.Since(start))
	if err != nil {
		p.failFor(in.req, e, in.reason(err), fmt.Errorf("%w%s", err, in.out.tail()))
		in.out.b = in.out.b[:0]
		p.pool.discard(in)
		return 0, false
	}
	return res, true
}

// fail counts and logs a call whose verdict cannot be used.
func (p *Policy) fail(e int, reason string, err error) {
	p.entry[e].Error(reason)
	p.elog.Report(p.name, entryNames[e], reason, err)
}

// failFor is fail that also notes the fallback on the request's view, for
// the log's policy.verdict (core.PolicyNoter).
func (p *Policy) failFor(req core.Request, e int, reason string, err error) {
	p.fail(e, reason, err)
	core.NotePolicy(req, core.PolicyFallback(reason))
}

// noInstance notes a call that got no instance (take counted why).
func noInstance(req core.Request) { core.NotePolicy(req, core.PolicyFallback(scripting.ReasonError)) }

var errClosed = errors.New("policy closed")

// take gets an instance, counting a failure to build one. Every instance
// taken goes back through put or discard, which end the caller's stay in
// inflight.
func (p *Policy) take(e int) *instance {
	p.inflight.Add(1)
	if p.closed.Load() {
		p.inflight.Add(-1)
		p.fail(e, scripting.ReasonError, errClosed)
		return nil
	}
	in, err := p.pool.get()
	if err != nil {
		p.inflight.Add(-1)
		p.fail(e, scripting.ReasonError, err)
		return nil
	}
	return in
}

// recovered turns a panic of the engine itself (a varde bug) into a
// counted decline; the instance is dropped since its state is unknown.
func (p *Policy) recovered(e int, in *instance) {
	if r := recover(); r != nil {
		p.fail(e, scripting.ReasonPanic, fmt.Errorf("panic: %v", r))
		if in != nil {
			core.NotePolicy(in.req, core.PolicyFallback(scripting.ReasonPanic))
			p.pool.discard(in)
		}
	}
}

// declined counts "no opinion".
func (p *Policy) declined(e int) { p.entry[e].Declined.Add(1) }

// BackendChooser implements core.Policy.
func (p *Policy) BackendChooser() core.BackendChooser {
	if !p.has[eBackend] {
		return nil
	}
	return backendChooser{p}
}

// ServerChooser implements core.Policy.
func (p *Policy) ServerChooser() core.Balancer {
	if !p.has[eServer] {
		return nil
	}
	return serverChooser{p}
}

// Stickiness implements core.Policy.
func (p *Policy) Stickiness() core.Stickiness {
	if !p.has[eSticky] {
		return nil
	}
	return stickiness{p}
}

// HealthJudge implements core.Policy.
func (p *Policy) HealthJudge() core.HealthJudge {
	if !p.has[eHealth] {
		return nil
	}
	return healthJudge{p}
}

type backendChooser struct{ p *Policy }

// ChooseBackend runs choose_backend. Whether the backend exists is core's
// check (route.PolicyChooser counts an unknown one as rejected).
func (c backendChooser) ChooseBackend(req core.Request) (name string, ok bool) {
	p := c.p
	in := p.take(eBackend)
	if in == nil {
		noInstance(req)
		return "", false
	}
	defer p.recovered(eBackend, in)
	in.req = req
	if req != nil {
		in.src = req.Src().Addr()
	}
	res, called := p.invoke(eBackend, in)
	if !called {
		return "", false
	}
	if res == 0 {
		p.declined(eBackend)
	} else if b, valid := in.result(res); !valid {
		p.failFor(req, eBackend, scripting.ReasonType, errBadResult)
	} else {
		name, ok = in.intern(b), true
	}
	p.pool.put(in)
	return name, ok
}

var errBadResult = errors.New("result (ptr<<32|len) outside the module's memory or empty")

// intern returns b as a string, allocating only the first time a name is
// seen by this instance (backend names are few).
func (in *instance) intern(b []byte) string {
	if s, ok := in.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.names) < maxExprs {
		in.names[s] = s
	}
	return s
}

type serverChooser struct{ p *Policy }

// Update implements core.Balancer: choose_server sees the pool the
// built-in algorithm balances over.
func (c serverChooser) Update(pool []*core.Server) { c.p.servers.Store(&pool) }

// Pick implements core.Balancer: choose_server's name resolved in the
// pool. An unknown name, a server that is not usable or is full declines
// with its reason; the excluded server (a redispatch) declines quietly.
func (c serverChooser) Pick(ctx *core.PickContext) (s *core.Server) {
	p := c.p
	in := p.take(eServer)
	if in == nil {
		noInstance(ctx.Req)
		return nil
	}
	defer p.recovered(eServer, in)
	if sp := p.servers.Load(); sp != nil {
		in.servers = *sp
	}
	in.req, in.src = ctx.Req, ctx.Src
	res, ok := p.invoke(eServer, in)
	if !ok {
		return nil
	}
	s = p.serverResult(in, res, ctx)
	p.pool.put(in)
	return s
}

func (p *Policy) serverResult(in *instance, res uint64, ctx *core.PickContext) *core.Server {
	if res == 0 {
		p.declined(eServer)
		return nil
	}
	b, ok := in.result(res)
	if !ok {
		p.failFor(ctx.Req, eServer, scripting.ReasonType, errBadResult)
		return nil
	}
	for _, s := range in.servers {
		if s.Name != string(b) {
			continue
		}
		switch {
		case s == ctx.Exclude:
			return nil
		case !s.Usable() || s.Full():
			p.failFor(ctx.Req, eServer, scripting.ReasonUnusable, fmt.Errorf("server %q is %s or full", s.Name, s.StateString()))
			return nil
		}
		return s
	}
	p.failFor(ctx.Req, eServer, scripting.ReasonUnknown, fmt.Errorf("no server %q in the pool", b))
	return nil
}

type stickiness struct{ p *Policy }

// Lookup runs sticky_key and binds the key to a usable server by
// rendezvous hashing: each key goes to the server with the highest
// hash(key, server), so a server leaving moves only its own keys.
func (c stickiness) Lookup(req core.Request, servers []*core.Server) (s *core.Server) {
	p := c.p
	in := p.take(eSticky)
	if in == nil {
		noInstance(req)
		return nil
	}
	defer p.recovered(eSticky, in)
	in.req = req
	if req != nil {
		in.src = req.Src().Addr()
	}
	in.servers = servers
	res, ok := p.invoke(eSticky, in)
	if !ok {
		return nil
	}
	if res == 0 {
		p.declined(eSticky)
	} else if key, valid := in.result(res); !valid {
		p.failFor(req, eSticky, scripting.ReasonType, errBadResult)
	} else {
		s = rendezvous(xxhash.Sum64(key), servers)
	}
	p.pool.put(in)
	return s
}

// rendezvous picks the usable server with the highest mixed hash of the
// key and its name; nil when none is usable.
func rendezvous(key uint64, servers []*core.Server) *core.Server {
	var best *core.Server
	var top uint64
	for _, s := range servers {
		if !s.Usable() {
			continue
		}
		if h := mix(key ^ xxhash.Sum64String(s.Name)); best == nil || h > top {
			best, top = s, h
		}
	}
	return best
}

// mix is splitmix64's finaliser: every key bit moves every score bit.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

type healthJudge struct{ p *Policy }

// Judge runs health: -1 keeps the probe's verdict, 0 down, 1 up; any
// other value is a wrong result and keeps the probe's verdict.
func (c healthJudge) Judge(server core.ServerView, r core.CheckResult) (ok bool) {
	p := c.p
	ok = r.OK
	in := p.take(eHealth)
	if in == nil {
		return ok
	}
	defer func() {
		if rec := recover(); rec != nil {
			p.fail(eHealth, scripting.ReasonPanic, fmt.Errorf("panic: %v", rec))
			p.pool.discard(in)
			ok = r.OK
		}
	}()
	in.judged, in.check = &server, &r
	res, called := p.invoke(eHealth, in)
	if !called {
		return ok
	}
	switch v := int32(uint32(res)); v {
	case -1:
		p.declined(eHealth)
	case 0, 1:
		ok = v == 1
	default:
		p.fail(eHealth, scripting.ReasonType, fmt.Errorf("health returned %d, want -1, 0 or 1", v))
	}
	p.pool.put(in)
	return ok
}
