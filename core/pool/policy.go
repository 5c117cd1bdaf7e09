package pool

import (
	"sync/atomic"

	"github.com/varde-lb/varde/core"
)

// PolicyBalancer is the extension point through which a Lua/WASM policy
// chooses a backend's server: it asks the policy first and falls back to
// the backend's built-in algorithm when the policy declines (nil), panics,
// or returns a server that is not in the current pool or must be skipped
// (excluded, full). Every fallback after a bad or failed verdict is
// counted, so a broken script is visible on the stats page and in metrics
// while traffic keeps flowing.
//
// Deadlines and instruction budgets are the policy's business (package
// scripting); PolicyBalancer only guarantees that whatever the policy
// does, Pick returns a server the built-in would accept.
type PolicyBalancer struct {
	policy, builtin core.Balancer
	members         atomic.Pointer[map[*core.Server]struct{}]

	declined atomic.Uint64 // policy returned nil
	rejected atomic.Uint64 // policy returned a server it may not use
	panics   atomic.Uint64 // policy panicked
}

var _ core.Balancer = (*PolicyBalancer)(nil)

// WithPolicy wraps builtin with policy. Both receive every pool update.
func WithPolicy(policy, builtin core.Balancer) *PolicyBalancer {
	b := &PolicyBalancer{policy: policy, builtin: builtin}
	b.members.Store(&map[*core.Server]struct{}{})
	return b
}

// Update implements core.Balancer; each balancer gets its own copy of the
// pool because Update hands ownership over.
func (b *PolicyBalancer) Update(pool []*core.Server) {
	m := make(map[*core.Server]struct{}, len(pool))
	for _, s := range pool {
		m[s] = struct{}{}
	}
	b.members.Store(&m)
	b.policy.Update(append([]*core.Server(nil), pool...))
	b.builtin.Update(pool)
}

// Pick implements core.Balancer.
func (b *PolicyBalancer) Pick(ctx *core.PickContext) *core.Server {
	if s := b.ask(ctx); s != nil {
		return s
	}
	return b.builtin.Pick(ctx)
}

func (b *PolicyBalancer) ask(ctx *core.PickContext) (s *core.Server) {
	defer func() {
		if recover() != nil {
			b.panics.Add(1)
			s = nil
		}
	}()
	s = b.policy.Pick(ctx)
	if s == nil {
		b.declined.Add(1)
		return nil
	}
	if _, ok := (*b.members.Load())[s]; !ok || ctx.Skip(s) {
		b.rejected.Add(1)
		return nil
	}
	return s
}

// Release forwards to whichever balancer tracks in-flight work.
func (b *PolicyBalancer) Release(s *core.Server) {
	if r, ok := b.policy.(core.Releaser); ok {
		r.Release(s)
	}
	if r, ok := b.builtin.(core.Releaser); ok {
		r.Release(s)
	}
}

// PolicyStats counts how often the built-in algorithm decided instead of
// the policy, by reason.
type PolicyStats struct {
	Declined, Rejected, Panics uint64
}

// Stats returns the fallback counters.
func (b *PolicyBalancer) Stats() PolicyStats {
	return PolicyStats{Declined: b.declined.Load(), Rejected: b.rejected.Load(), Panics: b.panics.Load()}
}
