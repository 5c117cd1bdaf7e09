// Package balancetest holds helpers shared by the balancing algorithms'
// tests: server lists, pick sequences, distribution counts and the
// zero-allocation assertion.
package balancetest

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/varde-lb/varde/core"
)

// Servers returns servers s1..sN of backend "be" with the given weights,
// ids 1..N and loopback addresses.
func Servers(weights ...int) []*core.Server {
	out := make([]*core.Server, len(weights))
	for i, w := range weights {
		addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(9000+i))
		out[i] = core.NewServer("be", fmt.Sprintf("s%d", i+1), i+1, addr, w, 0)
	}
	return out
}

// Names returns the names of picked servers ("-" for nil).
func Names(ss ...*core.Server) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "-"
		if s != nil {
			out[i] = s.Name
		}
	}
	return out
}

// Sequence picks n times with ctx and returns the names picked.
func Sequence(b core.Balancer, ctx *core.PickContext, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = Names(b.Pick(ctx))[0]
	}
	return out
}

// Counts picks n times, calling prepare (if not nil) before each pick, and
// counts picks per server name.
func Counts(b core.Balancer, ctx *core.PickContext, n int, prepare func(i int)) map[string]int {
	out := map[string]int{}
	for i := range n {
		if prepare != nil {
			prepare(i)
		}
		out[Names(b.Pick(ctx))[0]]++
	}
	return out
}

// ZeroAllocs fails the test when Pick allocates.
func ZeroAllocs(t *testing.T, b core.Balancer, ctx *core.PickContext) {
	t.Helper()
	if n := testing.AllocsPerRun(1000, func() { b.Pick(ctx) }); n != 0 {
		t.Errorf("Pick allocates %v times per call, want 0", n)
	}
}

// Within reports whether got is within tol (a fraction) of want.
func Within(got, want int, tol float64) bool {
	d := float64(got - want)
	if d < 0 {
		d = -d
	}
	return d <= tol*float64(want)
}

// Concurrent picks from several goroutines while the pool is replaced
// (weights changed, servers removed and added back), as health checks and
// the admin API do at run time. Run under -race it checks Update/Pick
// safety; it also fails if Pick returns a server from no pool it was given.
func Concurrent(t *testing.T, b core.Balancer, ctx func() *core.PickContext, servers []*core.Server) {
	t.Helper()
	valid := map[*core.Server]bool{}
	for _, s := range servers {
		valid[s] = true
	}
	b.Update(append([]*core.Server(nil), servers...))
	done := make(chan struct{})
	errs := make(chan string, 4)
	for range 4 {
		go func() {
			c := ctx()
			for {
				select {
				case <-done:
					errs <- ""
					return
				default:
				}
				if s := b.Pick(c); s != nil && !valid[s] {
					errs <- "Pick returned a server from no pool: " + s.Name
					return
				}
			}
		}()
	}
	for i := range 300 {
		pool := make([]*core.Server, 0, len(servers))
		for j, s := range servers {
			if (i+j)%4 != 0 || len(pool) == 0 {
				pool = append(pool, s)
			}
		}
		b.Update(pool)
	}
	close(done)
	for range 4 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
