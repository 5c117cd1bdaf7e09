package urlparam

import (
	"strconv"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
	bt "github.com/varde-lb/varde/plugins/balance/balancetest"
)

func TestValue(t *testing.T) {
	k := Keyer{Name: []byte("uid")}
	tests := []struct {
		uri  string
		want string
		ok   bool
	}{
		{"/?uid=42", "42", true},
		{"/p?a=1&uid=42&b=2", "42", true},
		{"/p?uid=", "", true},
		{"/p?uid=1&uid=2", "1", true},
		{"/p?xuid=1", "", false},
		{"/p?uidx=1", "", false},
		{"/p?a=uid=3", "", false},
		{"/p", "", false},
		{"/p?uid", "", false},
	}
	for _, tt := range tests {
		v, ok := k.Value([]byte(tt.uri))
		if ok != tt.ok || string(v) != tt.want {
			t.Errorf("%s: got %q,%v want %q,%v", tt.uri, v, ok, tt.want, tt.ok)
		}
	}
}

func TestAffinityAndFallback(t *testing.T) {
	ss := bt.Servers(1, 1, 1)
	if _, err := core.NewBalancer(core.BalanceSpec{Algorithm: "url_param", Args: []string{"uid", "check_post", "64"}}); err == nil {
		t.Fatal("check_post accepted: it is not built, so it must be refused")
	}
	b, err := core.NewBalancer(core.BalanceSpec{Algorithm: "url_param", Args: []string{"uid"}})
	if err != nil {
		t.Fatal(err)
	}
	b.Update(ss)
	req := acltest.New("GET", "/")
	ctx := &core.PickContext{Req: req}
	spread := map[string]int{}
	for i := range 300 {
		req.SetURI("/cart?uid=" + strconv.Itoa(i))
		s := b.Pick(ctx)
		req.SetURI("/checkout?step=2&uid=" + strconv.Itoa(i))
		if b.Pick(ctx) != s {
			t.Fatalf("uid %d changed server", i)
		}
		spread[s.Name]++
	}
	if len(spread) != 3 {
		t.Errorf("keys did not spread: %v", spread)
	}
	req.SetURI("/no-param")
	c := bt.Counts(b, ctx, 300, nil)
	if c["s1"] != 100 || c["s2"] != 100 || c["s3"] != 100 {
		t.Errorf("missing parameter must round robin, got %v", c)
	}
	for _, bad := range []core.BalanceSpec{{Algorithm: "url_param"}, {Algorithm: "url_param", Args: []string{"a", "b"}}} {
		if _, err := core.NewBalancer(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	b, _ := core.NewBalancer(core.BalanceSpec{Algorithm: "url_param", Args: []string{"uid"}})
	b.Update(bt.Servers(1, 2, 3))
	bt.ZeroAllocs(t, b, &core.PickContext{Req: acltest.New("GET", "/a?x=1&uid=99")})
	bt.ZeroAllocs(t, b, &core.PickContext{Req: acltest.New("GET", "/a?x=1")})
}

func BenchmarkPick(b *testing.B) {
	bal, _ := core.NewBalancer(core.BalanceSpec{Algorithm: "url_param", Args: []string{"uid"}})
	bal.Update(bt.Servers(1, 2, 3, 4, 5, 6, 7, 8))
	ctx := &core.PickContext{Req: acltest.New("GET", "/cart?lang=en&uid=1234567&ref=home")}
	b.ReportAllocs()
	for b.Loop() {
		bal.Pick(ctx)
	}
}

func FuzzValue(f *testing.F) {
	f.Add("uid", "/p?a=1&uid=42&b=2")
	f.Add("x", "/?x")
	f.Fuzz(func(t *testing.T, name, uri string) {
		if name == "" {
			return
		}
		v, ok := Keyer{Name: []byte(name)}.Value([]byte(uri))
		if !ok {
			return
		}
		if !strings.Contains(uri, name+"="+string(v)) || strings.Contains(string(v), "&") {
			t.Fatalf("value %q of %q not taken from %q", v, name, uri)
		}
	})
}
