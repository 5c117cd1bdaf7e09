package pool

import (
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/plugins/balance/leastconn"
	"github.com/varde-lb/varde/plugins/balance/roundrobin"
)

func BenchmarkAcquireRelease(b *testing.B) {
	for _, tc := range []struct {
		name string
		bal  core.Balancer
	}{{"roundrobin", roundrobin.New()}, {"leastconn", leastconn.New()}} {
		b.Run(tc.name, func(b *testing.B) {
			p := New("be", servers(), tc.bal, false)
			ctx := &core.PickContext{}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if s := p.Acquire(ctx); s != nil {
						p.Release(s)
					}
				}
			})
		})
	}
}

func TestAcquireReleaseZeroAlloc(t *testing.T) {
	p := New("be", servers(), roundrobin.New(), false)
	ctx := &core.PickContext{}
	if n := testing.AllocsPerRun(1000, func() { p.Release(p.Acquire(ctx)) }); n != 0 {
		t.Errorf("Acquire+Release allocates %v", n)
	}
}
