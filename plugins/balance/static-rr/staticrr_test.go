package staticrr

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/varde-lb/varde/core"
	bt "github.com/varde-lb/varde/plugins/balance/balancetest"
)

func TestOrder(t *testing.T) {
	tests := []struct {
		weights []int
		want    []string
	}{
		{[]int{1, 1, 1}, []string{"s1", "s2", "s3", "s1"}},
		{[]int{3, 1}, []string{"s1", "s1", "s1", "s2", "s1"}}, // HAProxy's map order
		{[]int{2, 3}, []string{"s1", "s2", "s1", "s2", "s2", "s1"}},
	}
	for _, tt := range tests {
		b := New()
		b.Update(bt.Servers(tt.weights...))
		if diff := cmp.Diff(tt.want, bt.Sequence(b, &core.PickContext{}, len(tt.want))); diff != "" {
			t.Errorf("weights %v (-want +got):\n%s", tt.weights, diff)
		}
	}
}

func TestStaticWeightsAndSkip(t *testing.T) {
	ss := bt.Servers(1, 3)
	b := New()
	ss[0].SetWeight(50) // ignored: static-rr uses configured weights
	b.Update(ss)
	c := bt.Counts(b, &core.PickContext{}, 4000, nil)
	if diff := cmp.Diff(map[string]int{"s1": 1000, "s2": 3000}, c); diff != "" {
		t.Errorf("distribution (-want +got):\n%s", diff)
	}
	ctx := &core.PickContext{Exclude: ss[1]}
	if diff := cmp.Diff([]string{"s1", "s1"}, bt.Sequence(b, ctx, 2)); diff != "" {
		t.Errorf("exclude (-want +got):\n%s", diff)
	}
	ss[0].SetMaxConn(1)
	ss[0].Active.Store(1)
	if s := b.Pick(ctx); s != nil {
		t.Errorf("all skipped, got %s", s.Name)
	}
}

func TestZeroAllocs(t *testing.T) {
	b := New()
	b.Update(bt.Servers(1, 2, 3))
	bt.ZeroAllocs(t, b, &core.PickContext{})
	if _, err := core.NewBalancer(core.BalanceSpec{Algorithm: "static-rr"}); err != nil {
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
