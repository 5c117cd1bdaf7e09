package roundrobin

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
		{[]int{1, 1, 1}, []string{"s1", "s2", "s3", "s1", "s2", "s3"}},
		{[]int{5, 1, 1}, []string{"s1", "s1", "s2", "s1", "s3", "s1", "s1"}}, // smooth: no burst of five
		{[]int{2, 1}, []string{"s1", "s2", "s1", "s1", "s2", "s1"}},
		{[]int{100, 100}, []string{"s1", "s2", "s1", "s2"}},
		{[]int{3}, []string{"s1", "s1"}},
	}
	for _, tt := range tests {
		b := New()
		b.Update(bt.Servers(tt.weights...))
		if diff := cmp.Diff(tt.want, bt.Sequence(b, &core.PickContext{}, len(tt.want))); diff != "" {
			t.Errorf("weights %v (-want +got):\n%s", tt.weights, diff)
		}
	}
}

func TestSkip(t *testing.T) {
	ss := bt.Servers(1, 1, 1)
	b := New()
	b.Update(ss)
	ctx := &core.PickContext{Exclude: ss[1]}
	if diff := cmp.Diff([]string{"s1", "s3", "s1", "s3"}, bt.Sequence(b, ctx, 4)); diff != "" {
		t.Errorf("exclude (-want +got):\n%s", diff)
	}
	ss[0].SetMaxConn(2)
	ss[0].Active.Store(2)
	if diff := cmp.Diff([]string{"s3", "s3"}, bt.Sequence(b, ctx, 2)); diff != "" {
		t.Errorf("full + exclude (-want +got):\n%s", diff)
	}
	ss[2].SetMaxConn(1)
	ss[2].Active.Store(1)
	if s := b.Pick(ctx); s != nil {
		t.Errorf("everything skipped: got %s", s.Name)
	}
	if New().Pick(&core.PickContext{}) != nil {
		t.Error("empty balancer picked a server")
	}
}

func TestDistributionAndDynamicWeights(t *testing.T) {
	ss := bt.Servers(1, 2, 3, 4)
	b := New()
	b.Update(ss)
	c := bt.Counts(b, &core.PickContext{}, 10000, nil)
	if diff := cmp.Diff(map[string]int{"s1": 1000, "s2": 2000, "s3": 3000, "s4": 4000}, c); diff != "" {
		t.Errorf("distribution (-want +got):\n%s", diff)
	}
	ss[3].SetWeight(0) // as the pool would do, only weight > 0 servers
	ss[0].SetWeight(7)
	b.Update(ss[:3])
	c = bt.Counts(b, &core.PickContext{}, 1200, nil)
	if diff := cmp.Diff(map[string]int{"s1": 700, "s2": 200, "s3": 300}, c); diff != "" {
		t.Errorf("after set weight (-want +got):\n%s", diff)
	}
}

func TestZeroAllocs(t *testing.T) {
	b := New()
	b.Update(bt.Servers(1, 2, 3))
	bt.ZeroAllocs(t, b, &core.PickContext{})
	if _, err := core.NewBalancer(core.BalanceSpec{Algorithm: "roundrobin"}); err != nil {
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
