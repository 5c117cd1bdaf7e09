// Package leastconn implements `balance leastconn`: the server with the
// fewest sessions relative to its weight (active plus queued, divided by
// weight) gets the next one; servers with equal load take turns, so a
// backend with no long sessions degrades to round robin, as in HAProxy.
// Weights are dynamic.
package leastconn

import (
	"sync/atomic"

	"github.com/varde-lb/varde/core"
)

func init() {
	core.RegisterBalancer("leastconn", func(core.BalanceSpec) (core.Balancer, error) { return New(), nil })
}

// Balancer is the leastconn algorithm. It reads the servers' live Active
// and Queued counters, so it needs no Release: the pool's Acquire/Release
// (or the engine) keeps those counters.
type Balancer struct {
	pool   atomic.Pointer[[]*core.Server]
	cursor atomic.Uint32
}

var _ core.Balancer = (*Balancer)(nil)

// New returns an empty balancer.
func New() *Balancer {
	b := &Balancer{}
	b.pool.Store(new([]*core.Server))
	return b
}

// Update implements core.Balancer.
func (b *Balancer) Update(pool []*core.Server) { b.pool.Store(&pool) }

// Pick implements core.Balancer. It scans the pool from a rotating start
// and keeps a server only if it is strictly less loaded, so ties go round
// robin. Loads are compared as (active+queued)/weight by cross
// multiplication, without rounding.
func (b *Balancer) Pick(ctx *core.PickContext) *core.Server {
	pool := *b.pool.Load()
	n := uint32(len(pool))
	if n == 0 {
		return nil
	}
	i := (b.cursor.Add(1) - 1) % n
	var best *core.Server
	var bestLoad, bestW int64
	for range n {
		s := pool[i]
		if i++; i == n {
			i = 0
		}
		w := int64(s.Weight())
		if w <= 0 || ctx.Skip(s) {
			continue
		}
		load := s.Active.Load() + s.Queued.Load()
		if best == nil || load*bestW < bestLoad*w {
			best, bestLoad, bestW = s, load, w
		}
	}
	return best
}

// DynamicServers implements core.DynamicServers: HAProxy 2.6 lets `add
// server` extend this algorithm's pool.
func (b *Balancer) DynamicServers() bool { return true }
