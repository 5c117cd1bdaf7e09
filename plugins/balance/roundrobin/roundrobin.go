// Package roundrobin implements `balance roundrobin`: a smooth weighted
// round robin (each server gets picks in proportion to its weight, spread
// out rather than in bursts) whose weights may change at run time (admin
// `set weight`, slow start): the pool's Refresh rebuilds the schedule.
package roundrobin

import (
	"sync/atomic"

	"github.com/varde-lb/varde/core"
)

func init() {
	core.RegisterBalancer("roundrobin", func(core.BalanceSpec) (core.Balancer, error) { return New(), nil })
}

// Balancer is the roundrobin algorithm. The schedule for one cycle is
// computed on Update with the smooth weighted round robin (the server with
// the highest running score wins and pays the total weight back), so Pick
// is one atomic increment plus an array read.
type Balancer struct {
	order  atomic.Pointer[[]*core.Server]
	cursor atomic.Uint64
}

var _ core.Balancer = (*Balancer)(nil)

// New returns an empty balancer; Update gives it servers.
func New() *Balancer {
	b := &Balancer{}
	b.order.Store(new([]*core.Server))
	return b
}

// Update implements core.Balancer.
func (b *Balancer) Update(pool []*core.Server) {
	order := Schedule(pool)
	b.order.Store(&order)
}

// Schedule returns one cycle of the smooth weighted round robin over pool,
// with weights reduced by their greatest common divisor.
func Schedule(pool []*core.Server) []*core.Server {
	g := 0
	for _, s := range pool {
		g = gcd(g, s.Weight())
	}
	if g == 0 {
		return nil
	}
	w := make([]int, len(pool))
	tot := 0
	for i, s := range pool {
		w[i] = s.Weight() / g
		tot += w[i]
	}
	cur := make([]int, len(pool))
	order := make([]*core.Server, 0, tot)
	for range tot {
		best := -1
		for i := range pool {
			cur[i] += w[i]
			if w[i] > 0 && (best < 0 || cur[i] > cur[best]) {
				best = i
			}
		}
		cur[best] -= tot
		order = append(order, pool[best])
	}
	return order
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Pick implements core.Balancer.
func (b *Balancer) Pick(ctx *core.PickContext) *core.Server {
	order := *b.order.Load()
	n := uint64(len(order))
	if n == 0 {
		return nil
	}
	start := b.cursor.Add(1) - 1
	for k := range n {
		if s := order[(start+k)%n]; !ctx.Skip(s) {
			if k > 0 {
				// Skip what we passed over so the next pick does not
				// re-examine it (best effort under concurrency).
				b.cursor.CompareAndSwap(start+1, start+k+1)
			}
			return s
		}
	}
	return nil
}

// DynamicServers implements core.DynamicServers: HAProxy 2.6 lets `add
// server` extend this algorithm's pool.
func (b *Balancer) DynamicServers() bool { return true }
