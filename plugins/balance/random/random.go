// Package random implements `balance random[(draws)]`: draw `draws`
// servers at random (weighted, through the same consistent-hashing ring
// HAProxy uses, with random keys) and keep the least loaded relative to
// its weight: the "power of two choices" with the default of 2 draws.
// hash-balance-factor bounds the load as for consistent hashing.
package random

import (
	"math/rand/v2"
	"strconv"
	"sync/atomic"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/plugins/balance/hashing"
)

func init() {
	core.RegisterAlgorithm(core.Algorithm{Name: "random", Usage: Usage, Parse: Parse})
}

// Usage is the accepted form of the balance line.
const Usage = "balance random[(DRAWS)]"

// Parse validates `balance random[(DRAWS)]` as HAProxy 2.6 does: `random()`
// means the default of 2 draws, DRAWS is an integer of at least 1.
func Parse(spec core.BalanceSpec) (core.Build, error) {
	draws := 2
	if spec.Param != "" {
		n, err := strconv.Atoi(spec.Param)
		if err != nil {
			return nil, core.ArgErrorf(-1, "balance random(2)", "random: number of draws %q is not an integer", spec.Param)
		}
		if n < 1 {
			return nil, core.ArgErrorf(-1, "balance random(2)", "random: number of draws must be at least 1 (got %d)", n)
		}
		draws = n
	}
	if len(spec.Args) > 0 {
		return nil, core.ArgErrorf(0, Usage, "random takes no argument (got %q)", spec.Args[0])
	}
	factor := spec.BalanceFactor
	return func() core.Balancer { return New(draws, factor) }, nil
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

// DynamicServers implements core.DynamicServers: HAProxy 2.6 lets `add
// server` extend this algorithm's pool.
func (b *Balancer) DynamicServers() bool { return true }
