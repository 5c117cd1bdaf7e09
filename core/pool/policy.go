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

	fb core.Fallbacks
}

var _ core.Balancer = (*PolicyBalancer)(nil)

// WithPolicy wraps builtin with policy. Both receive every pool update.
// The engine builds one for a backend with a server policy
// (proxy.BackendConfig.ServerPolicy).
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

// ask notes the verdict on the request's view for the log
// (core.PolicyNoter): the server, "declined" or "fallback:REASON".
func (b *PolicyBalancer) ask(ctx *core.PickContext) (s *core.Server) {
	defer func() {
		if recover() != nil {
			b.fb.Panicked()
			core.NotePolicy(ctx.Req, core.PolicyFallback("panic"))
			s = nil
		}
	}()
	core.StartPolicyCall(ctx.Req)
	s = b.policy.Pick(ctx)
	if s == nil {
		b.fb.Declined()
		core.DeclinedPolicyCall(ctx.Req)
		return nil
	}
	if _, ok := (*b.members.Load())[s]; !ok || ctx.Skip(s) {
		b.fb.Rejected()
		core.NotePolicy(ctx.Req, core.PolicyFallback("unusable"))
		return nil
	}
	core.NotePolicy(ctx.Req, s.Name)
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

// Stats returns how often the built-in algorithm decided instead of the
// policy, by reason.
func (b *PolicyBalancer) Stats() core.FallbackStats { return b.fb.Stats() }
