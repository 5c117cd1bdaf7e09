package sticktable

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFreqAsHAProxy(t *testing.T) {
	const p = 10000
	cases := []struct {
		name   string
		events []int64 // times of single events, ms
		at     int64
		want   uint64
	}{
		{"none", nil, 5000, 0},
		{"three in period", []int64{0, 100, 200}, 5000, 3},
		// previous period weighted by what is left of the current one
		{"half weighted", []int64{0, 1, 2, 3}, 15000, 2},
		{"plus current", []int64{0, 1, 2, 3, 12000}, 15000, 3},
		// one lone past event reads as 1 (HAProxy's low-rate correction)
		{"lone past", []int64{0}, 15000, 1},
		{"two periods later", []int64{0, 1, 2, 3}, 20001, 0},
		{"long gap resets", []int64{0, 1, 45000}, 46000, 1},
	}
	for _, c := range cases {
		var f Freq
		for _, at := range c.events {
			f.Add(at, p, 1)
		}
		if got := f.Read(c.at, p); got != c.want {
			t.Errorf("%s: Read(%d) = %d, want %d", c.name, c.at, got, c.want)
		}
	}
}

func testTable(t *testing.T, store string, size int, expire time.Duration) (*Table, *int64) {
	t.Helper()
	d := Def{Name: "t", Key: KeyIP, Size: size, Expire: expire}
	for _, s := range strings.Split(store, ",") {
		st, err := ParseStore(s, time.ParseDuration)
		if err != nil {
			t.Fatal(err)
		}
		d.Store = append(d.Store, st)
	}
	tb := New(d)
	now := new(int64)
	tb.SetClock(func() int64 { return *now })
	return tb, now
}

func key(t *testing.T, tb *Table, s string) []byte {
	k, ok := tb.KeyOfAddr(netip.MustParseAddr(s), make([]byte, 0, 16))
	if !ok {
		t.Fatalf("no key for %s", s)
	}
	return k
}

func TestExpiryAndTracking(t *testing.T) {
	tb, now := testTable(t, "conn_cur,http_req_rate(10s)", 10, 30*time.Second)
	k := key(t, tb, "10.0.0.1")
	e := tb.Track(k)
	tb.StartConn(e)
	*now = 60000 // long past expire, but tracked: stays
	if tb.Lookup(k) == nil {
		t.Fatal("a tracked entry expired")
	}
	tb.Untrack(e) // refreshes expiry to 90000
	if v, _ := tb.ReadKey(k, ConnCur); v != 0 {
		t.Fatalf("conn_cur after untrack = %d", v)
	}
	*now = 89999
	if tb.Lookup(k) == nil {
		t.Fatal("expired early")
	}
	*now = 90000
	if tb.Lookup(k) != nil || tb.Len() != 0 {
		t.Fatalf("not expired: len %d", tb.Len())
	}
}

func TestEvictsOldestWhenFull(t *testing.T) {
	tb, now := testTable(t, "gpc0", 2, 10*time.Second)
	a, b, c := key(t, tb, "10.0.0.1"), key(t, tb, "10.0.0.2"), key(t, tb, "10.0.0.3")
	tb.Get(a)
	*now = 10
	tb.Get(b)
	*now = 20
	if tb.Get(c) == nil || tb.Lookup(a) != nil || tb.Lookup(b) == nil || tb.Len() != 2 {
		t.Fatalf("oldest not evicted: len %d", tb.Len())
	}
	tb.Def.NoPurge = true
	if tb.Get(key(t, tb, "10.0.0.4")) != nil {
		t.Fatal("nopurge table evicted")
	}
}

func TestIPv6InIPTableTracksNothing(t *testing.T) {
	tb, _ := testTable(t, "gpc0", 2, 0)
	if _, ok := tb.KeyOfAddr(netip.MustParseAddr("2001:db8::1"), nil); ok {
		t.Fatal("ipv6 key in an ip table")
	}
	if _, ok := tb.KeyOfAddr(netip.MustParseAddr("::ffff:10.0.0.1"), nil); !ok {
		t.Fatal("v4-mapped address refused")
	}
}

func TestDumpFormatAndFilters(t *testing.T) {
	tb, now := testTable(t, "http_req_rate(10s),gpc0", 100, 30*time.Second)
	for i, ip := range []string{"10.0.0.2", "10.0.0.1"} {
		e := tb.Get(key(t, tb, ip))
		for j := 0; j <= i*4; j++ {
			tb.Inc(e, HTTPReqCnt, HTTPReqRate, 1)
		}
	}
	*now = 1000
	var b strings.Builder
	q, err := tb.ParseQuery([]string{"data.http_req_rate", "gt", "2"})
	if err != nil {
		t.Fatal(err)
	}
	tb.Dump(&b, q)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if lines[0] != "# table: t, type: ip, size:100, used:2" || len(lines) != 2 {
		t.Fatalf("dump:\n%s", b.String())
	}
	if !strings.HasSuffix(lines[1], ": key=10.0.0.1 use=0 exp=29000 gpc0=0 http_req_rate(10000)=5") {
		t.Fatalf("entry line %q", lines[1])
	}
	for _, bad := range [][]string{{"data.nope", "gt", "1"}, {"data.conn_cur", "gt", "1"}, {"data.gpc0", "xx", "1"}, {"data.gpc0", "gt", "x"}, {"key"}, {"foo"}} {
		if _, err := tb.ParseQuery(bad); err == nil {
			t.Errorf("query %q accepted", bad)
		}
	}
}

func TestAdoptKeepsEntriesWhenUnchanged(t *testing.T) {
	old, _ := testTable(t, "gpc0", 10, 0)
	e := old.Get(key(t, old, "10.0.0.1"))
	old.IncGPC0(e)
	same := New(old.Def)
	if !same.Adopt(old) {
		t.Fatal("same definition not adopted")
	}
	if v, _ := same.ReadKey(key(t, same, "10.0.0.1"), GPC0); v != 1 {
		t.Fatalf("adopted gpc0 = %d", v)
	}
	d := old.Def
	d.Size = 20
	if New(d).Adopt(old) {
		t.Fatal("changed definition adopted")
	}
}

func TestConcurrentTracking(t *testing.T) {
	tb, _ := testTable(t, "conn_cur,conn_cnt,http_req_rate(10s)", 50, time.Second)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			buf := make([]byte, 0, 16)
			for i := 0; i < 500; i++ {
				k, _ := tb.KeyOfAddr(netip.AddrFrom4([4]byte{10, 0, byte(g), byte(i % 20)}), buf)
				if e := tb.Track(k); e != nil {
					tb.StartConn(e)
					tb.Inc(e, HTTPReqCnt, HTTPReqRate, 1)
					tb.Untrack(e)
				}
			}
		}(g)
	}
	wg.Wait()
	if tb.Len() > 50 {
		t.Fatalf("len %d over size", tb.Len())
	}
	var b strings.Builder
	tb.Dump(&b, Query{})
	if strings.Contains(b.String(), "conn_cur=1") {
		t.Fatal("conn_cur left counted after every untrack")
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"key 10.0.0.1", "data.gpc0 gt 1", "data.http_req_rate ge 5 data.gpc0 eq 0", "data.x", "key", ""} {
		f.Add(s)
	}
	tb := New(Def{Name: "t", Key: KeyIP, Size: 10, Store: []Store{{Type: GPC0}, {Type: HTTPReqRate, Period: time.Second}}})
	f.Fuzz(func(t *testing.T, s string) {
		q, err := tb.ParseQuery(strings.Fields(s))
		if err == nil && len(q.Filters) > maxFilters {
			t.Fatalf("%d filters", len(q.Filters))
		}
		var b strings.Builder
		tb.Dump(&b, q)
	})
}

// TestIncGPC1: sc-inc-gpc1 counts in gpc1 and gpc1_rate, and reports a
// table that stores neither.
func TestIncGPC1(t *testing.T) {
	tb, _ := testTable(t, "gpc1,gpc1_rate(10s)", 10, 0)
	e := tb.Get(key(t, tb, "10.0.0.1"))
	for i := uint64(1); i <= 3; i++ {
		if v, ok := tb.IncGPC1(e); !ok || v != i {
			t.Fatalf("IncGPC1 = %d %v, want %d", v, ok, i)
		}
	}
	if v, _ := tb.ReadKey(key(t, tb, "10.0.0.1"), GPC1Rate); v != 3 {
		t.Errorf("gpc1_rate = %d, want 3", v)
	}
	none, _ := testTable(t, "gpc0", 10, 0)
	if _, ok := none.IncGPC1(none.Get(key(t, none, "10.0.0.1"))); ok {
		t.Error("IncGPC1 on a table without gpc1 reported a count")
	}
}
