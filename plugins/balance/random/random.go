// Package random implements `balance random[(draws)]`: draw `draws`
// servers at random (weighted, through the same consistent-hashing ring
// HAProxy uses, with random keys) and keep the least loaded relative to
// its weight: the "power of two choices" with the default of 2 draws.
// hash-balance-factor bounds the load as for consistent hashing.
package random

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/plugins/balance/hashing"
)

func init() {
	core.RegisterBalancer("random", func(spec core.BalanceSpec) (core.Balancer, error) {
		draws := 2
		if spec.Param != "" {
			n, err := strconv.Atoi(spec.Param)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("balance/random: draws %q must be a positive integer (hint: random(2))", spec.Param)
			}
			draws = n
		}
		if len(spec.Args) > 0 {
			return nil, fmt.Errorf("balance/random: unexpected argument %q (hint: random or random(DRAWS))", spec.Args[0])
		}
		return New(draws, spec.BalanceFactor), nil
	})
}

// Balancer is the random algorithm.
type Balancer struct {
	draws, factor int
	ring          atomic.Pointer[hashing.Ring]
}

var _ core.Balancer = (*Balancer)(nil)

// New returns a balancer keeping the best of draws random picks.
func New(draws, balanceFactor int) *Balancer {
	b := &Balancer{draws: max(draws, 1), factor: balanceFactor}
	b.ring.Store(hashing.BuildRing(nil))
	return b
}

// Update implements core.Balancer.
func (b *Balancer) Update(pool []*core.Server) { b.ring.Store(hashing.BuildRing(pool)) }

// Pick implements core.Balancer.
func (b *Balancer) Pick(ctx *core.PickContext) *core.Server {
	r := b.ring.Load()
	var best *core.Server
	for range b.draws {
		s := r.Hash(rand.Uint32(), ctx, b.factor)
		if s == nil {
			return nil
		}
		// Keep the previous choice when the new one carries more load
		// per unit of weight (HAProxy's get_server_rnd).
		if best != nil && best != s &&
			s.Active.Load()*int64(best.Weight()) > best.Active.Load()*int64(s.Weight()) {
			continue
		}
		best = s
	}
	return best
}
