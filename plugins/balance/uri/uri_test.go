package uri

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
	bt "github.com/varde-lb/varde/plugins/balance/balancetest"
	"github.com/varde-lb/varde/plugins/balance/hashing"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		args []string
		uri  string
		want string
	}{
		{nil, "/a/b/c?x=1", "/a/b/c"},
		{[]string{"whole"}, "/a/b/c?x=1", "/a/b/c?x=1"},
		{[]string{"len", "4"}, "/a/b/c?x=1", "/a/b"},
		{[]string{"depth", "2"}, "/a/b/c?x=1", "/a/b"},
		{[]string{"depth", "1"}, "/a/b/c", "/a"},
		{[]string{"depth", "5"}, "/a/b?c/d", "/a/b"},
		{[]string{"depth", "4", "whole"}, "/a/b?c/d/e/f", "/a/b?c/d/e"},
		{[]string{"len", "3", "depth", "9"}, "/abcdef", "/ab"},
		{nil, "http://example.com/a?b", "http://example.com/a"},
		{[]string{"path-only"}, "http://example.com/a?b", "/a"},
		{[]string{"path-only", "whole"}, "http://example.com/a?b", "/a?b"},
		{[]string{"path-only"}, "http://example.com", ""},
		{[]string{"path-only"}, "/x?y", "/x"},
		{nil, "*", "*"},
	}
	for _, tt := range tests {
		k, err := ParseArgs(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(k.Extract([]byte(tt.uri))); got != tt.want {
			t.Errorf("%v %q: got %q want %q", tt.args, tt.uri, got, tt.want)
		}
	}
	for _, bad := range [][]string{{"len"}, {"depth", "x"}, {"len", "-1"}, {"depth", "0"}, {"bogus"}} {
		if _, err := ParseArgs(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestAffinityAndSpread(t *testing.T) {
	ss := bt.Servers(1, 1, 1, 1)
	for _, ht := range []string{"map-based", "consistent"} {
		b, err := core.NewBalancer(core.BalanceSpec{Algorithm: "uri", HashType: ht})
		if err != nil {
			t.Fatal(err)
		}
		b.Update(ss)
		req := acltest.New("GET", "/")
		ctx := &core.PickContext{Req: req}
		seen := map[string]int{}
		for i := range 2000 {
			req.SetURI("/object/" + string(rune('a'+i%26)) + "/" + itoa(i) + "?session=" + itoa(i*7))
			first := b.Pick(ctx)
			req.SetURI("/object/" + string(rune('a'+i%26)) + "/" + itoa(i) + "?other=query")
			if again := b.Pick(ctx); again != first {
				t.Fatalf("%s: same path went to %s then %s", ht, first.Name, again.Name)
			}
			seen[first.Name]++
		}
		for _, s := range ss {
			if !bt.Within(seen[s.Name], 500, 0.4) {
				t.Errorf("%s: spread %v", ht, seen)
				break
			}
		}
	}
}

func TestMapMatchesSDBM(t *testing.T) {
	ss := bt.Servers(1, 2, 1)
	b, _ := core.NewBalancer(core.BalanceSpec{Algorithm: "uri"})
	b.Update(ss)
	m := hashing.BuildStaticMap(ss)
	req := acltest.New("GET", "/")
	for _, u := range []string{"/", "/a", "/index.html", "/img/logo.png?v=3"} {
		req.SetURI(u)
		k, _ := ParseArgs(nil)
		want := m.Slot(int(hashing.SDBM(k.Extract([]byte(u))) % uint32(m.Len())))
		if got := b.Pick(&core.PickContext{Req: req}); got != want {
			t.Errorf("%s: got %s want %s", u, got.Name, want.Name)
		}
	}
}

func TestNoRequestFallsBack(t *testing.T) {
	b, _ := core.NewBalancer(core.BalanceSpec{Algorithm: "uri"})
	b.Update(bt.Servers(1, 1))
	c := bt.Counts(b, &core.PickContext{}, 100, nil)
	if c["s1"] != 50 || c["s2"] != 50 {
		t.Errorf("mode tcp fallback: %v", c)
	}
}

func TestZeroAllocs(t *testing.T) {
	b, _ := core.NewBalancer(core.BalanceSpec{Algorithm: "uri", Args: []string{"depth", "3"}})
	b.Update(bt.Servers(1, 2, 3))
	bt.ZeroAllocs(t, b, &core.PickContext{Req: acltest.New("GET", "/a/b/c/d?e")})
}

func BenchmarkPick(b *testing.B) {
	for _, ht := range []string{"map-based", "consistent"} {
		b.Run(ht, func(b *testing.B) {
			bal, _ := core.NewBalancer(core.BalanceSpec{Algorithm: "uri", HashType: ht})
			bal.Update(bt.Servers(1, 2, 3, 4, 5, 6, 7, 8))
			ctx := &core.PickContext{Req: acltest.New("GET", "/static/img/logo-large.png?v=12")}
			b.ReportAllocs()
			for b.Loop() {
				bal.Pick(ctx)
			}
		})
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestConcurrentUpdate(t *testing.T) {
	for _, ht := range []string{"map-based", "consistent"} {
		b, _ := core.NewBalancer(core.BalanceSpec{Algorithm: "uri", HashType: ht, BalanceFactor: 150})
		bt.Concurrent(t, b, func() *core.PickContext {
			return &core.PickContext{Req: acltest.New("GET", "/a/b?c")}
		}, bt.Servers(1, 2, 3, 4, 5))
	}
}

func FuzzExtract(f *testing.F) {
	f.Add("len 4 depth 2", "/a/b/c?d")
	f.Add("whole path-only", "http://h/x?y")
	f.Add("depth 1", "*")
	f.Fuzz(func(t *testing.T, args, u string) {
		k, err := ParseArgs(strings.Fields(args))
		if err != nil {
			return
		}
		got := string(k.Extract([]byte(u)))
		if !strings.Contains(u, got) {
			t.Fatalf("key %q is not part of %q", got, u)
		}
		if k.Len > 0 && len(got) > k.Len {
			t.Fatalf("key %q longer than len %d", got, k.Len)
		}
		if !k.Whole && strings.Contains(got, "?") {
			t.Fatalf("key %q has a query without whole", got)
		}
	})
}
