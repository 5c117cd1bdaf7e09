// Package pool keeps, for one backend, the set of servers its balancing
// algorithm may choose from, the way HAProxy computes it: the usable active
// servers; when none is usable, the first usable backup server (declaration
// order), or every usable backup with `option allbackups`.
//
// Health checks, the admin API and slow-start call Refresh after changing a
// server's state or weight; Refresh recomputes the pool and hands it to the
// balancer only when its membership or a weight changed, so the balancer's
// tables are rebuilt on state changes, never on the request path.
package pool

import (
	"sync"
	"sync/atomic"

	"github.com/varde-lb/varde/core"
)

// Pool is one backend's server pool and balancer.
type Pool struct {
	backend    string
	servers    atomic.Pointer[[]*core.Server] // every server, declaration order (SetServers swaps it)
	bal        core.Balancer
	rel        core.Releaser // bal as a Releaser, or nil
	allBackups bool

	mu   sync.Mutex // serialises Refresh (and so Balancer.Update)
	last []member   // what the balancer was last given

	cur        atomic.Pointer[[]*core.Server]
	usesBackup atomic.Bool
	updates    atomic.Uint64
}

type member struct {
	s      *core.Server
	weight int
}

// New builds the pool of a backend and gives the balancer its first pool.
// servers must be in declaration order (HAProxy's map and backup choice
// depend on it).
func New(backend string, servers []*core.Server, bal core.Balancer, allBackups bool) *Pool {
	p := &Pool{backend: backend, bal: bal, allBackups: allBackups}
	p.servers.Store(&servers)
	p.rel, _ = bal.(core.Releaser)
	p.Refresh()
	return p
}

// Backend is the backend's name.
func (p *Pool) Backend() string { return p.backend }

// Servers returns every server of the backend, in declaration order (then
// those added at runtime). The slice must not be modified.
func (p *Pool) Servers() []*core.Server { return *p.servers.Load() }

// SetServers replaces the backend's servers (the admin socket's add/del
// server: a new slice, never one modified in place, since Servers' callers
// may still read the old one) and recomputes the pool.
func (p *Pool) SetServers(servers []*core.Server) {
	p.servers.Store(&servers)
	p.Refresh()
}

// Balancer returns the backend's algorithm.
func (p *Pool) Balancer() core.Balancer { return p.bal }

// Refresh recomputes the pool from the servers' current state and weight
// and calls Balancer.Update when it changed. It reports whether it did.
// Safe to call from any goroutine, concurrently with Pick.
func (p *Pool) Refresh() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	next, backup := p.compute()
	if sameMembers(p.last, next) {
		return false
	}
	p.last = next
	pool := make([]*core.Server, len(next))
	for i, m := range next {
		pool[i] = m.s
	}
	view := append([]*core.Server(nil), pool...)
	p.cur.Store(&view)
	p.usesBackup.Store(backup)
	p.updates.Add(1)
	p.bal.Update(pool) // the balancer owns pool from now on
	return true
}

func (p *Pool) compute() ([]member, bool) {
	var out []member
	all := p.Servers()
	for _, s := range all {
		if !s.Backup && s.Usable() {
			out = append(out, member{s, s.Weight()})
		}
	}
	if len(out) > 0 {
		return out, false
	}
	for _, s := range all {
		if s.Backup && s.Usable() {
			out = append(out, member{s, s.Weight()})
			if !p.allBackups {
				break
			}
		}
	}
	return out, len(out) > 0
}

func sameMembers(a, b []member) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Current returns the servers the balancer currently picks from. The slice
// must not be modified.
func (p *Pool) Current() []*core.Server {
	if v := p.cur.Load(); v != nil {
		return *v
	}
	return nil
}

// UsingBackup reports whether the pool currently consists of backup servers.
func (p *Pool) UsingBackup() bool { return p.usesBackup.Load() }

// Updates counts how many times the balancer was given a new pool.
func (p *Pool) Updates() uint64 { return p.updates.Load() }

// Pick asks the balancer for a server without accounting for it; nil means
// no server can take the request now (none usable, or all full or
// excluded). Callers that use Pick maintain Server.Active themselves.
func (p *Pool) Pick(ctx *core.PickContext) *core.Server {
	return p.bal.Pick(ctx)
}

// Acquire picks a server and counts the new session on it (Server.Active,
// MaxActive), so that leastconn, first and maxconn see it at once. Every
// successful Acquire must be followed by exactly one Release.
func (p *Pool) Acquire(ctx *core.PickContext) *core.Server {
	s := p.bal.Pick(ctx)
	if s == nil {
		return nil
	}
	n := s.Active.Add(1)
	for {
		m := s.MaxActive.Load()
		if n <= m || s.MaxActive.CompareAndSwap(m, n) {
			break
		}
	}
	return s
}

// Release ends a session: it decrements Server.Active and tells balancers
// that track in-flight work. Use it after Acquire, or after Pick when the
// caller took the slot itself (the engine reserves within maxconn with a
// compare-and-swap on Active, then releases here).
func (p *Pool) Release(s *core.Server) {
	s.Active.Add(-1)
	if p.rel != nil {
		p.rel.Release(s)
	}
}
