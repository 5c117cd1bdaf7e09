package random

import (
	"testing"

	"github.com/varde-lb/varde/core"
	bt "github.com/varde-lb/varde/plugins/balance/balancetest"
)

func TestWeightedDistribution(t *testing.T) {
	ss := bt.Servers(1, 2, 4)
	b := New(1, 0) // one draw: plain weighted random
	b.Update(ss)
	c := bt.Counts(b, &core.PickContext{}, 70000, nil)
	for name, want := range map[string]int{"s1": 10000, "s2": 20000, "s3": 40000} {
		// The ring with 16 points per weight unit is only roughly
		// proportional, as in HAProxy.
		if !bt.Within(c[name], want, 0.35) {
			t.Errorf("%s: %d picks, want about %d (%v)", name, c[name], want, c)
		}
	}
}

func TestPowerOfTwoChoices(t *testing.T) {
	ss := bt.Servers(1, 1, 1, 1)
	b := New(2, 0)
	b.Update(ss)
	// Sessions never end. With two draws the least loaded of the pair wins,
	// so loads stay far closer than with one draw.
	for range 4000 {
		b.Pick(&core.PickContext{}).Active.Add(1)
	}
	lo, hi := int64(1<<62), int64(0)
	for _, s := range ss {
		lo, hi = min(lo, s.Active.Load()), max(hi, s.Active.Load())
	}
	if hi-lo > 100 {
		t.Errorf("loads spread %d..%d, want within 100 with two choices", lo, hi)
	}
}

func TestSkip(t *testing.T) {
	ss := bt.Servers(1, 1, 1)
	b := New(2, 0)
	b.Update(ss)
	ss[0].SetMaxConn(1)
	ss[0].Active.Store(1)
	ctx := &core.PickContext{Exclude: ss[1]}
	for range 200 {
		if s := b.Pick(ctx); s != ss[2] {
			t.Fatalf("got %v, want only s3", bt.Names(s))
		}
	}
	ss[2].SetMaxConn(1)
	ss[2].Active.Store(1)
	if s := b.Pick(ctx); s != nil {
		t.Errorf("all skipped, got %s", s.Name)
	}
}

func TestSpec(t *testing.T) {
	for _, spec := range []core.BalanceSpec{{Algorithm: "random"}, {Algorithm: "random", Param: "3"}} {
		if _, err := core.NewBalancer(spec); err != nil {
			t.Error(err)
		}
	}
	for _, spec := range []core.BalanceSpec{{Algorithm: "random", Param: "0"}, {Algorithm: "random", Param: "x"}, {Algorithm: "random", Args: []string{"y"}}} {
		if _, err := core.NewBalancer(spec); err == nil {
			t.Errorf("%+v accepted", spec)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	b := New(2, 0)
	b.Update(bt.Servers(1, 2, 3))
	bt.ZeroAllocs(t, b, &core.PickContext{})
}

func BenchmarkPick(b *testing.B) {
	bal := New(2, 0)
	bal.Update(bt.Servers(1, 2, 3, 4, 5, 6, 7, 8))
	ctx := &core.PickContext{}
	b.ReportAllocs()
	for b.Loop() {
		bal.Pick(ctx)
	}
}

func TestConcurrentUpdate(t *testing.T) {
	bt.Concurrent(t, New(2, 150), func() *core.PickContext { return &core.PickContext{} }, bt.Servers(1, 2, 3, 4, 5))
}
