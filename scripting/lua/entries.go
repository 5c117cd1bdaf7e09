package lua

import (
	"fmt"
	"math"
	"net/netip"

	"github.com/cespare/xxhash/v2"
	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/scripting"
)

// verdict reads a call's result as a name: a string (or a number, written
// as Lua would), nil for "no opinion", anything else a type error.
func (p *Policy) verdict(req core.Request, i int, v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		if x == "" {
			p.declined(i)
			return "", false
		}
		return string(x), true
	case lua.LNumber:
		return x.String(), true
	case *lua.LNilType:
		p.declined(i)
		return "", false
	}
	p.failFor(req, i, scripting.ReasonType, fmt.Errorf("%s returned a %s, want a string or nil", entryNames[i], v.Type()))
	return "", false
}

// failFor is fail that also notes the fallback on the request's view, for
// the log's policy.verdict (core.PolicyNoter).
func (p *Policy) failFor(req core.Request, i int, reason string, err error) {
	p.fail(i, reason, err)
	core.NotePolicy(req, core.PolicyFallback(reason))
}

// callFailed notes a failed call on the request (policy.verdict
// "fallback:REASON"); call already counted and logged it.
func callFailed(req core.Request, reason string) { core.NotePolicy(req, core.PolicyFallback(reason)) }

type backendChooser struct{ p *Policy }

// ChooseBackend calls choose_backend(req).
func (c backendChooser) ChooseBackend(req core.Request) (string, bool) {
	p := c.p
	v, failed := p.call(0, func(st *state) int {
		st.pushReq(req, srcOf(req))
		return 1
	})
	if failed != "" {
		callFailed(req, failed)
		return "", false
	}
	name, ok := p.verdict(req, 0, v)
	if !ok {
		return "", false
	}
	if p.backs != nil && !p.backs[name] {
		p.failFor(req, 0, scripting.ReasonUnknown, fmt.Errorf("choose_backend returned %q: no such backend", name))
		return "", false
	}
	return name, true
}

func srcOf(req core.Request) (src netip.AddrPort) {
	if req != nil {
		return req.Src()
	}
	return src
}

type serverChooser struct{ p *Policy }

// Update implements core.Balancer.
func (c serverChooser) Update(pool []*core.Server) {
	snap := &poolSnap{servers: pool, byName: make(map[string]*core.Server, len(pool))}
	for _, s := range pool {
		snap.byName[s.Name] = s
	}
	c.p.poolSnap.Store(snap)
}

// Pick calls choose_server(req, servers).
func (c serverChooser) Pick(ctx *core.PickContext) *core.Server {
	p := c.p
	snap := p.poolSnap.Load()
	if len(snap.servers) == 0 {
		return nil
	}
	v, failed := p.call(1, func(st *state) int {
		st.pushReq(ctx.Req, netip.AddrPortFrom(ctx.Src, 0))
		st.pushServers(snap)
		return 2
	})
	if failed != "" {
		callFailed(ctx.Req, failed)
		return nil
	}
	name, ok := p.verdict(ctx.Req, 1, v)
	if !ok {
		return nil
	}
	s := snap.byName[name]
	switch {
	case s == nil && p.servers != nil && p.servers[name]:
		p.failFor(ctx.Req, 1, scripting.ReasonUnusable, fmt.Errorf("choose_server returned %q: not usable now (down, maintenance, drain or backup tier)", name))
		return nil
	case s == nil:
		p.failFor(ctx.Req, 1, scripting.ReasonUnknown, fmt.Errorf("choose_server returned %q: no such server", name))
		return nil
	case ctx.Skip(s):
		p.failFor(ctx.Req, 1, scripting.ReasonUnusable, fmt.Errorf("choose_server returned %q: full or being retried", name))
		return nil
	}
	return s
}

type stickiness struct{ p *Policy }

// Lookup calls sticky_key(req) and binds the key to a server: the one
// whose `cookie` value equals the key when there is one (cookie
// persistence), else by weighted rendezvous hashing over the usable
// servers of the active tier (the backup tier when none is usable), so
// a key keeps its server while the set is unchanged and only the keys of
// a removed server move.
func (c stickiness) Lookup(req core.Request, servers []*core.Server) *core.Server {
	p := c.p
	v, failed := p.call(2, func(st *state) int {
		st.pushReq(req, srcOf(req))
		return 1
	})
	if failed != "" {
		callFailed(req, failed)
		return nil
	}
	key, ok := p.verdict(req, 2, v)
	if !ok {
		return nil
	}
	for _, s := range servers {
		if s.Cookie != "" && s.Cookie == key {
			if !s.Usable() {
				p.failFor(req, 2, scripting.ReasonUnusable, fmt.Errorf("sticky_key %q names server %s, which is not usable", key, s.Name))
				return nil
			}
			return s
		}
	}
	if s := Rendezvous(key, servers, false); s != nil {
		return s
	}
	if s := Rendezvous(key, servers, true); s != nil {
		return s
	}
	p.failFor(req, 2, scripting.ReasonUnusable, fmt.Errorf("sticky_key %q: no usable server", key))
	return nil
}

// Rendezvous picks the usable server of the tier (backup or not) with the
// highest weighted score for key (highest random weight hashing).
func Rendezvous(key string, servers []*core.Server, backup bool) *core.Server {
	var best *core.Server
	bestScore := math.Inf(-1)
	for _, s := range servers {
		if s.Backup != backup || !s.Usable() {
			continue
		}
		h := xxhash.Sum64String(s.Name + "\x00" + key)
		u := (float64(h>>11) + 0.5) / (1 << 53) // (0,1)
		score := float64(s.Weight()) / -math.Log(u)
		if score > bestScore {
			best, bestScore = s, score
		}
	}
	return best
}

type healthJudge struct{ p *Policy }

// Judge calls health(server, result); nil or a failure keeps the probe's
// verdict.
func (j healthJudge) Judge(sv core.ServerView, r core.CheckResult) bool {
	p := j.p
	v, failed := p.call(3, func(st *state) int {
		L := st.L
		L.Push(viewTable(L, sv))
		L.Push(resultTable(L, r))
		return 2
	})
	if failed != "" {
		return r.OK
	}
	switch x := v.(type) {
	case lua.LBool:
		return bool(x)
	case *lua.LNilType:
		p.declined(3)
		return r.OK
	}
	p.fail(3, scripting.ReasonType, fmt.Errorf("health returned a %s, want true, false or nil", v.Type()))
	return r.OK
}

func resultTable(L *lua.LState, r core.CheckResult) *lua.LTable {
	t := L.CreateTable(0, 6)
	t.RawSetString("ok", lua.LBool(r.OK))
	t.RawSetString("status", lua.LString(r.Status))
	t.RawSetString("code", lua.LNumber(r.Code))
	t.RawSetString("info", lua.LString(r.Info))
	t.RawSetString("duration", lua.LNumber(float64(r.Duration)/1e6))
	t.RawSetString("body", lua.LString(r.Body))
	return t
}
