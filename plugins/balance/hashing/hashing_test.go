package hashing

import (
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/plugins/balance/balancetest"
)

func TestHashFunctions(t *testing.T) {
	// Reference values computed by hand from the definitions (sdbm, djb2)
	// or by the standard library (crc32); wt6 is pinned to detect changes.
	tests := []struct {
		fn   Func
		in   string
		want uint32
	}{
		{SDBM, "", 0},
		{SDBM, "a", 97},
		{SDBM, "ab", 97*65599 + 98},
		{DJB2, "", 5381},
		{DJB2, "a", 5381*33 + 97},
		{DJB2, "ab", (5381*33+97)*33 + 98},
		{CRC32, "/index.html", crc32.ChecksumIEEE([]byte("/index.html"))},
		{CRC32, "", 0},
		{WT6, "", 0xa53c965a ^ 0x5ca6953a},
	}
	for _, tt := range tests {
		if got := tt.fn([]byte(tt.in)); got != tt.want {
			t.Errorf("%q: got %#x want %#x", tt.in, got, tt.want)
		}
	}
	// High bytes are unsigned, as in HAProxy's hash.c.
	if SDBM([]byte{0xff}) != 0xff || DJB2([]byte{0x80}) != 5381*33+0x80 {
		t.Error("bytes >= 0x80 must hash as unsigned")
	}
	if FullHash(0) == 0 || FullHash(1) == FullHash(2) {
		t.Error("FullHash does not mix")
	}
	for _, n := range []string{"", "sdbm", "djb2", "wt6", "crc32"} {
		if _, err := FuncByName(n); err != nil {
			t.Error(err)
		}
	}
	if _, err := FuncByName("md5"); err == nil {
		t.Error("md5 accepted")
	}
}

func names(m *Map) []string {
	out := make([]string, m.Len())
	for i := range out {
		out[i] = m.Slot(i).Name
	}
	return out
}

func TestMapLayout(t *testing.T) {
	// The slot layouts HAProxy's recalc_server_map produces.
	tests := []struct {
		weights []int
		want    []string
	}{
		{[]int{1, 1, 1}, []string{"s1", "s2", "s3"}},
		{[]int{10, 10}, []string{"s1", "s2"}}, // reduced by the gcd
		{[]int{2, 1}, []string{"s1", "s1", "s2"}},
		{[]int{3, 1}, []string{"s1", "s1", "s1", "s2"}},
		{[]int{1, 3}, []string{"s1", "s2", "s2", "s2"}},
		{[]int{2, 3}, []string{"s1", "s2", "s1", "s2", "s2"}},
		{[]int{5}, []string{"s1"}},
	}
	for _, tt := range tests {
		m := BuildMap(balancetest.Servers(tt.weights...))
		if diff := cmp.Diff(tt.want, names(m)); diff != "" {
			t.Errorf("weights %v (-want +got):\n%s", tt.weights, diff)
		}
	}
}

func TestMapHashAndSkip(t *testing.T) {
	ss := balancetest.Servers(1, 1, 1)
	m := BuildMap(ss)
	ctx := &core.PickContext{}
	for h := uint32(0); h < 9; h++ {
		if got := m.Hash(h, ctx); got != ss[h%3] {
			t.Errorf("hash %d -> %s", h, got.Name)
		}
	}
	ctx.Exclude = ss[1]
	if got := m.Hash(1, ctx); got != ss[2] {
		t.Errorf("excluded server: got %s, want the next slot s3", got.Name)
	}
	ss[2].SetMaxConn(1)
	ss[2].Active.Store(1)
	if got := m.Hash(1, ctx); got != ss[0] {
		t.Errorf("full server: got %s, want s1", got.Name)
	}
	ss[0].SetMaxConn(1)
	ss[0].Active.Store(1)
	if got := m.Hash(1, ctx); got != nil {
		t.Errorf("all skipped: got %s", got.Name)
	}
	if BuildMap(nil).Hash(1, ctx) != nil || BuildMap(nil).RoundRobin(ctx) != nil {
		t.Error("empty map returned a server")
	}
}

func ringCounts(r *Ring, keys int) map[string]int {
	out := map[string]int{}
	ctx := &core.PickContext{}
	for k := range keys {
		out[r.Hash(FullHash(uint32(k)), ctx, 0).Name]++
	}
	return out
}

func TestRingWeights(t *testing.T) {
	ss := balancetest.Servers(1, 2, 4)
	r := BuildRing(ss)
	if r.Len() != (1+2+4)*16 {
		t.Fatalf("ring has %d points, want %d", r.Len(), 7*16)
	}
	c := ringCounts(r, 70000)
	// Consistent hashing with 16 points per weight unit is only roughly
	// proportional; HAProxy has the same spread.
	for name, want := range map[string]int{"s1": 10000, "s2": 20000, "s3": 40000} {
		if !balancetest.Within(c[name], want, 0.35) {
			t.Errorf("%s got %d keys, want about %d (%v)", name, c[name], want, c)
		}
	}
}

// TestRingRemap checks the property consistent hashing exists for: when
// one of N servers leaves, only the keys it owned move (about 1/N of them),
// and when it comes back they return.
func TestRingRemap(t *testing.T) {
	const n, keys = 10, 100000
	ss := balancetest.Servers(make1(n)...)
	full := BuildRing(ss)
	ctx := &core.PickContext{}
	before := make([]*core.Server, keys)
	for k := range keys {
		before[k] = full.Hash(FullHash(uint32(k)), ctx, 0)
	}
	for gone := range n {
		pool := append(append([]*core.Server(nil), ss[:gone]...), ss[gone+1:]...)
		r := BuildRing(pool)
		moved := 0
		for k := range keys {
			after := r.Hash(FullHash(uint32(k)), ctx, 0)
			if after != before[k] {
				moved++
				if before[k] != ss[gone] {
					t.Fatalf("key %d moved from %s to %s though %s left", k, before[k].Name, after.Name, ss[gone].Name)
				}
			}
		}
		if !balancetest.Within(moved, keys/n, 0.5) {
			t.Errorf("removing %s moved %d keys, want about %d", ss[gone].Name, moved, keys/n)
		}
	}
	// Same ids and weights give the same ring: the server comes back to its keys.
	again := BuildRing(ss)
	for k := range keys {
		if again.Hash(FullHash(uint32(k)), ctx, 0) != before[k] {
			t.Fatalf("key %d changed after the server came back", k)
		}
	}
}

func make1(n int) []int {
	w := make([]int, n)
	for i := range w {
		w[i] = 1
	}
	return w
}

func TestRingBalanceFactor(t *testing.T) {
	ctx := &core.PickContext{}
	// Every request has the same key: without a bound they all go to one
	// server; with a factor of 125% no server holds more than 125% of the
	// average (plus one for rounding), so the hot key spills over.
	const reqs = 400
	for _, factor := range []int{0, 125, 200} {
		ss := balancetest.Servers(1, 1, 1, 1)
		r := BuildRing(ss)
		for range reqs {
			r.Hash(12345, ctx, factor).Active.Add(1)
		}
		var most int64
		used := 0
		for _, s := range ss {
			most = max(most, s.Active.Load())
			if s.Active.Load() > 0 {
				used++
			}
		}
		switch factor {
		case 0:
			if most != reqs {
				t.Errorf("no factor: busiest server has %d, want all %d", most, reqs)
			}
		default:
			bound := int64((reqs*factor+99)/100/4 + 1)
			if most > bound || used < 2 {
				t.Errorf("factor %d: busiest server has %d sessions (bound %d), %d servers used", factor, most, bound, used)
			}
		}
	}
}

func TestRoundRobinFallback(t *testing.T) {
	ss := balancetest.Servers(1, 1, 2)
	none := func(*core.PickContext, Func) (uint32, bool) { return 0, false }
	for _, consistent := range []bool{false, true} {
		b := New(none, Options{Consistent: consistent})
		b.Update(ss)
		c := balancetest.Counts(b, &core.PickContext{}, 4000, nil)
		want := map[string]int{"s1": 1000, "s2": 1000, "s3": 2000}
		for k, v := range want {
			if !balancetest.Within(c[k], v, 0.02) {
				t.Errorf("consistent=%v: fallback counts %v, want %v", consistent, c, want)
				break
			}
		}
	}
}

func TestOptionsFromSpec(t *testing.T) {
	for _, spec := range []core.BalanceSpec{
		{HashType: "weird"}, {HashFunc: "md5"}, {BalanceFactor: 50},
	} {
		if _, err := OptionsFromSpec(spec); err == nil {
			t.Errorf("%+v accepted", spec)
		}
	}
	o, err := OptionsFromSpec(core.BalanceSpec{HashType: "consistent", HashFunc: "crc32", HashAvalanche: true, BalanceFactor: 150})
	if err != nil || !o.Consistent || !o.Avalanche || o.BalanceFactor != 150 || fmt.Sprint(o.Func(nil)) != "0" {
		t.Errorf("options %+v, %v", o, err)
	}
}

func BenchmarkRingHash(b *testing.B) {
	r := BuildRing(balancetest.Servers(make1(20)...))
	ctx := &core.PickContext{}
	b.ReportAllocs()
	var h uint32
	for b.Loop() {
		h += 0x9e3779b9
		r.Hash(h, ctx, 0)
	}
}

func TestMapDistribution(t *testing.T) {
	ss := balancetest.Servers(1, 2, 3)
	m := BuildMap(ss)
	ctx := &core.PickContext{}
	c := map[string]int{}
	for k := range 60000 {
		c[m.Hash(FullHash(uint32(k)), ctx).Name]++
	}
	for name, want := range map[string]int{"s1": 10000, "s2": 20000, "s3": 30000} {
		if !balancetest.Within(c[name], want, 0.05) {
			t.Errorf("%s: %d keys, want about %d", name, c[name], want)
		}
	}
}
