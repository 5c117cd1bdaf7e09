package hdr

import (
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
	bt "github.com/varde-lb/varde/plugins/balance/balancetest"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		domainOnly bool
		in, want   string
	}{
		{false, "www.example.com", "www.example.com"},
		{false, " a, b ", "a"},
		{true, "www.example.com", "example"},
		{true, "example.com", "example"},
		{true, "a.b.example.co", "example"},
		{true, "localhost", "localhost"},
		{true, "example.com:8080", "example"},
		{true, ".com", ".com"},
		{true, "x.", "x"},
	}
	for _, tt := range tests {
		k := Keyer{Name: "Host", DomainOnly: tt.domainOnly}
		if got := string(k.Extract([]byte(tt.in))); got != tt.want {
			t.Errorf("domainOnly=%v %q: got %q want %q", tt.domainOnly, tt.in, got, tt.want)
		}
	}
}

func TestAffinityAndFallback(t *testing.T) {
	ss := bt.Servers(1, 1, 1)
	b, err := core.NewBalancer(core.BalanceSpec{Algorithm: "hdr", Param: "Host", Args: []string{"use_domain_only"}})
	if err != nil {
		t.Fatal(err)
	}
	b.Update(ss)
	for _, d := range []string{"alpha", "bravo", "charlie", "delta", "echo"} {
		a := b.Pick(&core.PickContext{Req: acltest.New("GET", "/", "Host: www."+d+".com")})
		c := b.Pick(&core.PickContext{Req: acltest.New("GET", "/", "host: static."+d+".org")})
		if a != c {
			t.Errorf("%s: www and static went to %s and %s", d, a.Name, c.Name)
		}
	}
	for _, h := range [][]string{nil, {"Host:"}, {"Host:  "}} {
		req := acltest.New("GET", "/", h...)
		c := bt.Counts(b, &core.PickContext{Req: req}, 300, nil)
		if c["s1"] != 100 || c["s2"] != 100 || c["s3"] != 100 {
			t.Errorf("headers %q: missing/empty header must round robin, got %v", h, c)
		}
	}
	for _, bad := range []core.BalanceSpec{{Algorithm: "hdr"}, {Algorithm: "hdr", Param: "Host", Args: []string{"x"}}} {
		if _, err := core.NewBalancer(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	b, _ := core.NewBalancer(core.BalanceSpec{Algorithm: "hdr", Param: "host", Args: []string{"use_domain_only"}})
	b.Update(bt.Servers(1, 2, 3))
	bt.ZeroAllocs(t, b, &core.PickContext{Req: acltest.New("GET", "/", "Accept: */*", "Host: www.example.com")})
}

func BenchmarkPick(b *testing.B) {
	bal, _ := core.NewBalancer(core.BalanceSpec{Algorithm: "hdr", Param: "Host"})
	bal.Update(bt.Servers(1, 2, 3, 4, 5, 6, 7, 8))
	ctx := &core.PickContext{Req: acltest.New("GET", "/", "User-Agent: x", "Accept: */*", "Host: www.example.com")}
	b.ReportAllocs()
	for b.Loop() {
		bal.Pick(ctx)
	}
}
