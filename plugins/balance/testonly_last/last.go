// Package testonlylast is a balancing algorithm that exists only to prove
// the plugin layout: `balance testonly-last [skip N]` picks the usable
// server with the highest id, after skipping N of them. Nothing but tests
// imports it, so it is never linked into varde.
//
// Adding it touched this folder and nothing else: core/config learns the
// keyword, its arguments and their errors from the registry. A real
// algorithm adds one more line, its import in plugins/all.
package testonlylast

import (
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/varde-lb/varde/core"
)

// Name is the keyword, deliberately not a HAProxy one.
const Name = "testonly-last"

const usage = "balance testonly-last [skip N]"

func init() {
	core.RegisterAlgorithm(core.Algorithm{Name: Name, Usage: usage, Parse: parse})
}

func parse(spec core.BalanceSpec) (core.Build, error) {
	if spec.Param != "" {
		return nil, core.ArgErrorf(-1, usage, "%s takes no parameter", Name)
	}
	skip := 0
	switch {
	case len(spec.Args) == 0:
	case spec.Args[0] != "skip":
		return nil, core.ArgErrorf(0, usage, "%s only accepts 'skip' (got %q)", Name, spec.Args[0])
	case len(spec.Args) != 2:
		return nil, core.ArgErrorf(0, "skip 1", "'skip' expects one number")
	default:
		n, err := strconv.Atoi(spec.Args[1])
		if err != nil || n < 1 {
			return nil, core.ArgErrorf(1, "skip 1", "'skip' expects a positive integer (got %q)", spec.Args[1])
		}
		skip = n
	}
	return func() core.Balancer { return &balancer{skip: skip} }, nil
}

type balancer struct {
	skip int
	pool atomic.Pointer[[]*core.Server]
}

func (b *balancer) Update(pool []*core.Server) {
	slices.SortStableFunc(pool, func(x, y *core.Server) int { return y.ID - x.ID })
	b.pool.Store(&pool)
}

func (b *balancer) Pick(ctx *core.PickContext) *core.Server {
	p := b.pool.Load()
	if p == nil {
		return nil
	}
	skipped := 0
	for _, s := range *p {
		if ctx.Skip(s) {
			continue
		}
		if skipped < b.skip {
			skipped++
			continue
		}
		return s
	}
	return nil
}
