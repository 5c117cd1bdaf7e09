// Package first implements `balance first`: the usable server with the
// lowest id that still has a free connection slot (below its maxconn)
// takes the session, so servers fill up one after another and the last
// ones can be powered down when idle. A server without maxconn never
// fills up and takes everything, as in HAProxy. Weights are ignored.
package first

import (
	"slices"
	"sync/atomic"

	"github.com/varde-lb/varde/core"
)

func init() {
	core.RegisterBalancer("first", func(core.BalanceSpec) (core.Balancer, error) { return New(), nil })
}

// Balancer is the first algorithm.
type Balancer struct {
	pool atomic.Pointer[[]*core.Server]
}

var _ core.Balancer = (*Balancer)(nil)

// New returns an empty balancer.
func New() *Balancer {
	b := &Balancer{}
	b.pool.Store(new([]*core.Server))
	return b
}

// Update implements core.Balancer: it orders the pool by server id.
func (b *Balancer) Update(pool []*core.Server) {
	slices.SortStableFunc(pool, func(x, y *core.Server) int { return x.ID - y.ID })
	b.pool.Store(&pool)
}

// Pick implements core.Balancer. Full servers are skipped through
// ctx.Skip (Server.Full compares Active with maxconn).
func (b *Balancer) Pick(ctx *core.PickContext) *core.Server {
	for _, s := range *b.pool.Load() {
		if !ctx.Skip(s) {
			return s
		}
	}
	return nil
}

// DynamicServers implements core.DynamicServers: HAProxy 2.6 lets `add
// server` extend this algorithm's pool.
func (b *Balancer) DynamicServers() bool { return true }
