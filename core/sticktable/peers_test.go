package sticktable

import (
	"testing"
	"time"
)

// TestWatchChangesApply: a watched table queues each locally changed
// entry once until Changes drains it; Apply stores a peer's values
// without queueing the entry back; Each sees every live entry.
func TestWatchChangesApply(t *testing.T) {
	now := int64(1000)
	tb := New(Def{Name: "t", Key: KeyIP, Size: 10, Expire: time.Minute,
		Store: []Store{{Type: GPC0}, {Type: HTTPReqRate, Period: 10 * time.Second}}})
	tb.SetClock(func() int64 { return now })
	a := []byte{10, 0, 0, 1}
	e := tb.Get(a) // before Watch: not queued
	tb.Watch()
	drain := func() map[string]Snapshot {
		got := map[string]Snapshot{}
		tb.Changes(func(s *Snapshot) { got[string(s.Key)] = *s })
		return got
	}
	if got := drain(); len(got) != 0 {
		t.Fatalf("changes before any change: %v", got)
	}
	tb.IncGPC0(e)
	tb.IncGPC0(e)
	tb.Inc(e, HTTPReqCnt, HTTPReqRate, 1)
	got := drain()
	if len(got) != 1 || got[string(a)].Vals[GPC0] != 2 || got[string(a)].Freqs[HTTPReqRate].Cur != 1 || got[string(a)].ExpireIn != 60000 {
		t.Fatalf("changes: %+v", got)
	}
	if got := drain(); len(got) != 0 {
		t.Fatalf("queued twice: %v", got)
	}
	b := []byte{10, 0, 0, 2}
	var s Snapshot
	s.Vals[GPC0] = 7
	s.Freqs[HTTPReqRate] = FreqState{Age: 500, Cur: 3, Prev: 4}
	if !tb.Apply(b, &s, func(d DataType) bool { return d == GPC0 || d == HTTPReqRate }) {
		t.Fatal("apply refused")
	}
	if got := drain(); len(got) != 0 {
		t.Fatalf("an applied entry was queued back: %v", got)
	}
	if v, _ := tb.ReadKey(b, GPC0); v != 7 {
		t.Fatalf("applied gpc0 %d", v)
	}
	// rate at now: current 3 plus the previous 4 weighted by the 9.5 s of
	// the period left (HAProxy's freq_ctr reading).
	if v, _ := tb.ReadKey(b, HTTPReqRate); v != (4*9500+3*10000)/10000 {
		t.Fatalf("applied rate reads %d", v)
	}
	n := 0
	tb.Each(func(s *Snapshot) { n++ })
	if n != 2 {
		t.Fatalf("Each saw %d entries", n)
	}
	// An entry removed while queued is not reported.
	tb.IncGPC0(tb.Get(b))
	tb.Remove(b)
	if got := drain(); len(got) != 0 {
		t.Fatalf("removed entry reported: %v", got)
	}
}

// TestUnwatchEmptiesQueue: once the last watcher leaves (a reload that
// removed the peers section), changes no longer pile up.
func TestUnwatchEmptiesQueue(t *testing.T) {
	tb := New(Def{Name: "t", Key: KeyIP, Size: 10, Store: []Store{{Type: GPC0}}})
	tb.Watch()
	tb.Watch() // a reload: the new generation's node
	tb.IncGPC0(tb.Get([]byte{1, 2, 3, 4}))
	tb.Unwatch() // the old generation's node stops
	n := 0
	tb.Changes(func(*Snapshot) { n++ })
	if n != 1 {
		t.Fatalf("the remaining watcher got %d changes", n)
	}
	tb.Unwatch()
	tb.IncGPC0(tb.Get([]byte{1, 2, 3, 4}))
	for i := range tb.st.shards {
		if len(tb.st.shards[i].changed) != 0 {
			t.Fatalf("queued without a watcher")
		}
	}
}

// TestBinaryKeysPadded: a binary key shorter than the table's len is
// padded with zeros, as HAProxy pads it; a longer one is cut.
func TestBinaryKeysPadded(t *testing.T) {
	tb := New(Def{Name: "b", Key: KeyBinary, KeyLen: 8, Size: 10})
	for _, tc := range []struct{ in, want string }{
		{"abc", "abc\x00\x00\x00\x00\x00"},
		{"abcdefgh", "abcdefgh"},
		{"abcdefghij", "abcdefgh"},
		{"", "\x00\x00\x00\x00\x00\x00\x00\x00"},
	} {
		if got := string(tb.KeyOfString([]byte(tc.in))); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
	st := New(Def{Name: "s", Key: KeyString, KeyLen: 8, Size: 10})
	if got := string(st.KeyOfString([]byte("abc"))); got != "abc" {
		t.Errorf("string key padded: %q", got)
	}
}
