package source

import (
	"net/netip"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
	bt "github.com/varde-lb/varde/plugins/balance/balancetest"
	"github.com/varde-lb/varde/plugins/balance/hashing"
)

func TestKey(t *testing.T) {
	tests := []struct {
		addr string
		want uint32
	}{
		{"10.0.0.1", 0x0a000001},
		{"192.168.1.2", 0xc0a80102},
		{"2001:db8::1", 0x20010db8 ^ 0 ^ 0 ^ 1},
		{"::ffff:10.0.0.1", 0x0000ffff ^ 0x0a000001},
	}
	for _, tt := range tests {
		got, ok := Key(&core.PickContext{Src: netip.MustParseAddr(tt.addr)}, nil)
		if !ok || got != tt.want {
			t.Errorf("%s: got %#x want %#x", tt.addr, got, tt.want)
		}
	}
	// Without ctx.Src the request's client address is used.
	got, _ := Key(&core.PickContext{Req: acltest.New("GET", "/").WithSrc("10.0.0.1:3")}, nil)
	if got != 0x0a000001 {
		t.Errorf("from request: %#x", got)
	}
	if _, ok := Key(&core.PickContext{}, nil); ok {
		t.Error("no address gave a key")
	}
}

func TestMapSlot(t *testing.T) {
	ss := bt.Servers(1, 1, 1)
	b, err := core.NewBalancer(core.BalanceSpec{Algorithm: "source"})
	if err != nil {
		t.Fatal(err)
	}
	b.Update(ss)
	// Map-based: the address modulo the total weight picks the slot.
	for i := range 9 {
		a := netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})
		if got := b.Pick(&core.PickContext{Src: a}); got != ss[(0x0a000000+i)%3] {
			t.Errorf("%s: got %s", a, got.Name)
		}
	}
}

func TestConsistentRemap(t *testing.T) {
	ss := bt.Servers(1, 1, 1, 1, 1)
	b, _ := core.NewBalancer(core.BalanceSpec{Algorithm: "source", HashType: "consistent", HashAvalanche: true})
	b.Update(ss)
	before := map[netip.Addr]*core.Server{}
	for i := range 5000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		before[a] = b.Pick(&core.PickContext{Src: a})
	}
	b.Update([]*core.Server{ss[0], ss[1], ss[3], ss[4]}) // s3 leaves
	moved := 0
	for a, s := range before {
		now := b.Pick(&core.PickContext{Src: a})
		if now != s {
			moved++
			if s != ss[2] {
				t.Fatalf("%s moved from %s though only s3 left", a, s.Name)
			}
		}
	}
	if !bt.Within(moved, 1000, 0.5) {
		t.Errorf("%d of 5000 clients moved, want about 1000", moved)
	}
}

func TestZeroAllocs(t *testing.T) {
	for _, ht := range []string{"map-based", "consistent"} {
		b, _ := core.NewBalancer(core.BalanceSpec{Algorithm: "source", HashType: ht})
		b.Update(bt.Servers(1, 2, 3))
		bt.ZeroAllocs(t, b, &core.PickContext{Src: netip.MustParseAddr("2001:db8::7")})
	}
	_ = hashing.SDBM
}

func BenchmarkPick(b *testing.B) {
	for _, ht := range []string{"map-based", "consistent"} {
		b.Run(ht, func(b *testing.B) {
			bal, _ := core.NewBalancer(core.BalanceSpec{Algorithm: "source", HashType: ht})
			bal.Update(bt.Servers(1, 2, 3, 4, 5, 6, 7, 8))
			ctx := &core.PickContext{Src: netip.MustParseAddr("192.0.2.55")}
			b.ReportAllocs()
			for b.Loop() {
				bal.Pick(ctx)
			}
		})
	}
}
