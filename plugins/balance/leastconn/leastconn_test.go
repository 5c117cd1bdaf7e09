package leastconn

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/varde-lb/varde/core"
	bt "github.com/varde-lb/varde/plugins/balance/balancetest"
)

func TestLeastLoaded(t *testing.T) {
	ss := bt.Servers(1, 1, 1)
	b := New()
	b.Update(ss)
	ss[0].Active.Store(5)
	ss[1].Active.Store(2)
	ss[2].Active.Store(3)
	if s := b.Pick(&core.PickContext{}); s != ss[1] {
		t.Errorf("got %s, want s2 (fewest sessions)", s.Name)
	}
	ss[1].Queued.Store(2) // queued sessions count as load
	if s := b.Pick(&core.PickContext{}); s != ss[2] {
		t.Errorf("got %s, want s3", s.Name)
	}
}

func TestTiesRoundRobin(t *testing.T) {
	ss := bt.Servers(1, 1, 1)
	b := New()
	b.Update(ss)
	got := bt.Sequence(b, &core.PickContext{}, 6)
	if diff := cmp.Diff([]string{"s1", "s2", "s3", "s1", "s2", "s3"}, got); diff != "" {
		t.Errorf("equal load (-want +got):\n%s", diff)
	}
}

func TestWeighted(t *testing.T) {
	ss := bt.Servers(1, 3)
	b := New()
	b.Update(ss)
	// Sessions never end: leastconn then keeps active/weight level, so a
	// weight-3 server ends with three times the sessions.
	for range 400 {
		b.Pick(&core.PickContext{}).Active.Add(1)
	}
	if diff := cmp.Diff([]int64{100, 300}, []int64{ss[0].Active.Load(), ss[1].Active.Load()}); diff != "" {
		t.Errorf("sessions (-want +got):\n%s", diff)
	}
}

func TestSkip(t *testing.T) {
	ss := bt.Servers(1, 1, 1)
	b := New()
	b.Update(ss)
	ss[0].SetMaxConn(1)
	ss[0].Active.Store(1)
	ss[2].Active.Store(10)
	ctx := &core.PickContext{Exclude: ss[1]}
	if s := b.Pick(ctx); s != ss[2] {
		t.Errorf("got %v, want s3 (s1 full, s2 excluded)", bt.Names(s))
	}
	ss[2].SetMaxConn(10)
	if s := b.Pick(ctx); s != nil {
		t.Errorf("all skipped, got %s", s.Name)
	}
}

func TestZeroAllocs(t *testing.T) {
	b := New()
	b.Update(bt.Servers(1, 2, 3))
	bt.ZeroAllocs(t, b, &core.PickContext{})
	if _, err := core.NewBalancer(core.BalanceSpec{Algorithm: "leastconn"}); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkPick(b *testing.B) {
	bal := New()
	bal.Update(bt.Servers(1, 2, 3, 4, 5, 6, 7, 8))
	ctx := &core.PickContext{}
	b.ReportAllocs()
	for b.Loop() {
		bal.Pick(ctx)
	}
}

func TestConcurrentUpdate(t *testing.T) {
	bt.Concurrent(t, New(), func() *core.PickContext { return &core.PickContext{} }, bt.Servers(1, 2, 3, 4, 5))
}
