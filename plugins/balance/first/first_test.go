package first

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/varde-lb/varde/core"
	bt "github.com/varde-lb/varde/plugins/balance/balancetest"
)

func TestFillInIDOrder(t *testing.T) {
	ss := bt.Servers(1, 1, 1)
	ss[0].ID, ss[2].ID = 3, 1 // `id` settings reorder servers
	for _, s := range ss {
		s.SetMaxConn(2)
	}
	b := New()
	b.Update(append([]*core.Server(nil), ss...))
	var got []string
	for range 7 {
		s := b.Pick(&core.PickContext{})
		got = append(got, bt.Names(s)[0])
		if s != nil {
			s.Active.Add(1)
		}
	}
	if diff := cmp.Diff([]string{"s3", "s3", "s2", "s2", "s1", "s1", "-"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	ss[1].Active.Add(-1) // a slot frees up on s2
	if s := b.Pick(&core.PickContext{}); s != ss[1] {
		t.Errorf("got %v, want s2", bt.Names(s))
	}
}

func TestNoMaxConnTakesAll(t *testing.T) {
	ss := bt.Servers(1, 5)
	b := New()
	b.Update(ss)
	c := bt.Counts(b, &core.PickContext{}, 100, func(int) {})
	if diff := cmp.Diff(map[string]int{"s1": 100}, c); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if s := b.Pick(&core.PickContext{Exclude: ss[0]}); s != ss[1] {
		t.Errorf("exclude: got %v", bt.Names(s))
	}
}

func TestZeroAllocs(t *testing.T) {
	b := New()
	b.Update(bt.Servers(1, 2, 3))
	bt.ZeroAllocs(t, b, &core.PickContext{})
	if _, err := core.NewBalancer(core.BalanceSpec{Algorithm: "first"}); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkPick(b *testing.B) {
	ss := bt.Servers(1, 1, 1, 1, 1, 1, 1, 1)
	for _, s := range ss[:7] {
		s.SetMaxConn(1)
		s.Active.Store(1)
	}
	bal := New()
	bal.Update(ss)
	ctx := &core.PickContext{}
	b.ReportAllocs()
	for b.Loop() {
		bal.Pick(ctx)
	}
}

func TestConcurrentUpdate(t *testing.T) {
	bt.Concurrent(t, New(), func() *core.PickContext { return &core.PickContext{} }, bt.Servers(1, 2, 3, 4, 5))
}
