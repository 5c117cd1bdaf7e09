package hashing

import (
	"fmt"
	"sync/atomic"

	"github.com/varde-lb/varde/core"
)

// KeyFunc extracts a request's hash key and hashes it with fn. It returns
// false when the request has no key (no such parameter or header), in
// which case the balancer falls back to round robin, as HAProxy does.
type KeyFunc func(ctx *core.PickContext, fn Func) (uint32, bool)

// Options are the lookup settings common to hash-based algorithms.
type Options struct {
	Consistent    bool // hash-type consistent (default map-based)
	Avalanche     bool // hash-type ... avalanche: FullHash the key's hash
	Func          Func
	BalanceFactor int // hash-balance-factor (consistent only), 0 = off
}

// OptionsFromSpec reads the hash-type line of a backend.
func OptionsFromSpec(spec core.BalanceSpec) (Options, error) {
	o := Options{Avalanche: spec.HashAvalanche, BalanceFactor: spec.BalanceFactor}
	switch spec.HashType {
	case "", "map-based":
	case "consistent":
		o.Consistent = true
	default:
		return o, fmt.Errorf("unknown hash-type %q (hint: map-based or consistent)", spec.HashType)
	}
	fn, err := FuncByName(spec.HashFunc)
	if err != nil {
		return o, err
	}
	o.Func = fn
	if spec.BalanceFactor != 0 && (spec.BalanceFactor < 100 || spec.BalanceFactor > 65535) {
		return o, fmt.Errorf("hash-balance-factor %d out of range (hint: 0 to disable, or 100..65535 percent)", spec.BalanceFactor)
	}
	return o, nil
}

// Balancer is a hash-based core.Balancer: a key extractor over a map or a
// consistent-hashing ring, rebuilt on Update and read lock-free by Pick.
type Balancer struct {
	key  KeyFunc
	opts Options
	m    atomic.Pointer[Map]
	r    atomic.Pointer[Ring]
}

var _ core.Balancer = (*Balancer)(nil)

// New returns a balancer hashing with key.
func New(key KeyFunc, opts Options) *Balancer {
	if opts.Func == nil {
		opts.Func = SDBM
	}
	b := &Balancer{key: key, opts: opts}
	b.Update(nil)
	return b
}

// Update implements core.Balancer.
func (b *Balancer) Update(pool []*core.Server) {
	if b.opts.Consistent {
		b.r.Store(BuildRing(pool))
	} else {
		b.m.Store(BuildStaticMap(pool))
	}
}

// Pick implements core.Balancer.
func (b *Balancer) Pick(ctx *core.PickContext) *core.Server {
	h, ok := b.key(ctx, b.opts.Func)
	// HAProxy (checked against 2.6 by the haproxydiff test) always
	// avalanches keys placed on the consistent ring, once; on the map only
	// with the avalanche modifier.
	if ok && (b.opts.Avalanche || b.opts.Consistent) {
		h = FullHash(h)
	}
	if b.opts.Consistent {
		r := b.r.Load()
		if !ok {
			return r.RoundRobin(ctx)
		}
		return r.Hash(h, ctx, b.opts.BalanceFactor)
	}
	m := b.m.Load()
	if !ok {
		return m.RoundRobin(ctx)
	}
	return m.Hash(h, ctx)
}

// DynamicServers implements core.DynamicServers: as in HAProxy 2.6, only the
// consistent-hashing ring takes servers added at runtime; the map-based
// table is fixed at start.
func (b *Balancer) DynamicServers() bool { return b.opts.Consistent }
