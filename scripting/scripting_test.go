package scripting

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestSharedTableTTLAndBound(t *testing.T) {
	now := time.Unix(1000, 0)
	tb := NewSharedTable(2)
	tb.now = func() time.Time { return now }
	tb.Set("a", "x", time.Second)
	tb.Set("b", 1.0, 0)
	if ok := tb.Set("c", "y", 0); ok {
		t.Error("a full table accepted a new key")
	}
	if v, ok := tb.Get("a"); !ok || v != "x" {
		t.Errorf("a = %v %v", v, ok)
	}
	now = now.Add(2 * time.Second)
	if _, ok := tb.Get("a"); ok {
		t.Error("expired key still read")
	}
	if ok := tb.Set("c", "y", 0); !ok {
		t.Error("an expired key was not swept to make room")
	}
	if n, ok := tb.Incr("b", 2, 0); !ok || n != 3 {
		t.Errorf("incr = %v %v", n, ok)
	}
	if n, ok := tb.Incr("new", 1, time.Second); ok || n != 0 {
		t.Errorf("incr into a full table = %v %v", n, ok)
	}
	tb.Set("c", nil, 0)
	if got := strings.Join(tb.Keys(), ","); got != "b" {
		t.Errorf("keys = %q", got)
	}
}

func TestTablesSurviveUnchangedFile(t *testing.T) {
	ts := &Tables{m: map[string]*tableRef{}}
	a := ts.Acquire("/p.lua", "h1")
	a.Set("k", "v", 0)
	b := ts.Acquire("/p.lua", "h1") // the next generation, same content
	ts.Release("/p.lua", a)
	if v, _ := b.Get("k"); v != "v" {
		t.Error("same file: table not kept")
	}
	c := ts.Acquire("/p.lua", "h2") // changed file
	if _, ok := c.Get("k"); ok {
		t.Error("changed file: table kept")
	}
	ts.Release("/p.lua", b) // old generation's: not the current table, ignored
	if ts.Lookup("/p.lua") != c {
		t.Error("lookup after releasing a stale table")
	}
	ts.Release("/p.lua", c)
	if ts.Lookup("/p.lua") != nil {
		t.Error("table held after the last release")
	}
}

func TestErrorLogRate(t *testing.T) {
	var buf bytes.Buffer
	l := &ErrorLog{Log: slog.New(slog.NewTextHandler(&buf, nil)), Every: 50 * time.Millisecond}
	for i := 0; i < 5; i++ {
		l.Report("p.lua", "choose_server", ReasonError, errors.New("boom"))
	}
	time.Sleep(60 * time.Millisecond)
	l.Report("p.lua", "choose_server", ReasonError, errors.New("boom"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "suppressed_since_last=4") {
		t.Errorf("log:\n%s", buf.String())
	}
}

func TestEntryP99(t *testing.T) {
	var e Entry
	for i := 0; i < 99; i++ {
		e.Observe(time.Microsecond)
	}
	e.Observe(10 * time.Millisecond)
	if p := e.P99(); p < time.Microsecond || p > 4*time.Microsecond {
		t.Errorf("p99 of 99 x 1us + 1 x 10ms = %v", p)
	}
	e.Error(ReasonTimeout)
	e.Error("nonsense")
	if e.Errors()[ReasonTimeout] != 1 || e.Errors()[ReasonError] != 1 || e.ErrorTotal() != 2 {
		t.Errorf("errors %v", e.Errors())
	}
	s := NewStats("p.lua", "be", "lua")
	s.Entry("health").Observe(time.Millisecond)
	if st := s.PolicyStats(); len(st) != 1 || st[0].Calls != 1 || st[0].Entry != "health" {
		t.Errorf("%+v", st)
	}
}
