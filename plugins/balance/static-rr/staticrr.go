// Package staticrr implements `balance static-rr`: HAProxy's map-based
// round robin. Servers are walked through the same weighted slot table
// HAProxy builds (lb_map.c), so the pick order matches HAProxy's. As in
// HAProxy, weights are static: changing one at run time has no effect
// other than 0 (the server leaves) and back.
package staticrr

import (
	"sync/atomic"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/plugins/balance/hashing"
)

func init() {
	core.RegisterBalancer("static-rr", func(core.BalanceSpec) (core.Balancer, error) { return New(), nil })
}

// Balancer is the static-rr algorithm.
type Balancer struct {
	m atomic.Pointer[hashing.Map]
}

var _ core.Balancer = (*Balancer)(nil)

// New returns an empty balancer.
func New() *Balancer {
	b := &Balancer{}
	b.m.Store(hashing.BuildMap(nil))
	return b
}

// Update implements core.Balancer.
func (b *Balancer) Update(pool []*core.Server) { b.m.Store(hashing.BuildStaticMap(pool)) }

// Pick implements core.Balancer.
func (b *Balancer) Pick(ctx *core.PickContext) *core.Server { return b.m.Load().RoundRobin(ctx) }
