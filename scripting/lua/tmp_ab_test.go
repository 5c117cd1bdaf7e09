package lua

import (
	"os"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
)

func BenchmarkAB(b *testing.B) {
	src, err := os.ReadFile(os.Getenv("AB_FILE"))
	if err != nil {
		b.Fatal(err)
	}
	p := mustCompile(b, string(src), core.PolicySpec{})
	sc := p.ServerChooser()
	sc.Update(servers("n1", "n2"))
	ctx := &core.PickContext{Req: acltest.New("GET", "/", "Host: bench")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sc.Pick(ctx)
	}
}
