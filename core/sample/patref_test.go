package sample

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func writeMap(t testing.TB, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.map")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// compileIn compiles expr with refs as the generation's set.
func compileIn(t testing.TB, refs *PatRefs, expr string) *Expr {
	t.Helper()
	var e *Expr
	var err error
	WithPatRefs(refs, func() { e, err = Parse(expr, Options{}) })
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return e
}

func evalStr(t testing.TB, e *Expr) string {
	t.Helper()
	v, _, ok := e.Eval(testCtx(), make([]byte, 0, 64))
	if !ok {
		return "<none>"
	}
	if v.Type == TypeInt {
		return fmt.Sprint(v.Int)
	}
	if v.Type == TypeAddr {
		return v.Addr.String()
	}
	return string(v.Str)
}

// Every converter naming a file in one generation shares one list: a
// change is seen by all of them at once, and refused by all when one of
// them cannot read the new entry.
func TestPatRefSharedAndAtomic(t *testing.T) {
	f := writeMap(t, "# comment\n\n  a 1\nb\t2  \n")
	refs := NewPatRefs()
	str := compileIn(t, refs, "str(b),map("+f+",none)")
	num := compileIn(t, refs, "str(b),map_str_int("+f+",-1)")
	c := compileIn(t, refs, "str(c),map("+f+",none)")
	if got := len(refs.List()); got != 1 {
		t.Fatalf("%d references for one file, want 1", got)
	}
	r := refs.Lookup(f)
	if r == nil || refs.Lookup("#0") != r || refs.Lookup("#1") != nil {
		t.Fatalf("lookup by file and #0: %v", refs.List())
	}
	steps := []struct {
		name          string
		change        func() error
		wantErr       string
		str, num, cOK string
	}{
		{"loaded", func() error { return nil }, "", "2", "2", "none"},
		{"add c", func() error { return r.Add(PatEntry{Key: "c", Value: "3"}) }, "", "2", "2", "3"},
		{"set b", func() error { return r.Set("b", "20") }, "", "20", "20", "3"},
		{"set missing", func() error { return r.Set("zz", "1") }, "entry not found.", "20", "20", "3"},
		{"value map_str_int cannot read", func() error { return r.Add(PatEntry{Key: "d", Value: "x"}) }, "unable to parse 'x'.", "20", "20", "3"},
		{"set refused too", func() error { return r.Set("b", "x") }, "unable to parse 'x'.", "20", "20", "3"},
		{"del c", func() error { return r.Del("c") }, "", "20", "20", "none"},
		{"del missing", func() error { return r.Del("c") }, "Key not found.", "20", "20", "none"},
		{"set-or-add", func() error { return r.SetOrAdd("c", "30") }, "", "20", "20", "30"},
		{"clear", r.Clear, "", "none", "-1", "none"},
	}
	for _, s := range steps {
		err := s.change()
		if s.wantErr == "" && err != nil || s.wantErr != "" && (err == nil || err.Error() != s.wantErr) {
			t.Errorf("%s: error %v, want %q", s.name, err, s.wantErr)
		}
		if got := evalStr(t, str) + " " + evalStr(t, num) + " " + evalStr(t, c); got != s.str+" "+s.num+" "+s.cOK {
			t.Errorf("%s: map, map_str_int, c = %s; want %s %s %s", s.name, got, s.str, s.num, s.cOK)
		}
	}
}

// An entry is designated by its key (every entry with it) or by #0xID.
func TestPatRefByID(t *testing.T) {
	f := writeMap(t, "k 1\nk 2\nj 3\n")
	refs := NewPatRefs()
	e := compileIn(t, refs, "str(k),map("+f+")")
	r := refs.Lookup(f)
	es := r.Entries()
	if err := r.Del(fmt.Sprintf("#0x%x", es[0].ID)); err != nil {
		t.Fatal(err)
	}
	if got := evalStr(t, e); got != "2" {
		t.Errorf("after deleting the first k by id: %s, want 2", got)
	}
	if err := r.Set(fmt.Sprintf("#0x%x", es[2].ID), "33"); err != nil || r.Entries()[1].Value != "33" {
		t.Errorf("set by id: %v %v", err, r.Entries())
	}
	if err := r.Del("#0xzz"); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("bad id: %v", err)
	}
}

// A file read as an ACL pattern list (one column) cannot also be a map,
// as in HAProxy; two different files are two references.
func TestPatRefKinds(t *testing.T) {
	f := writeMap(t, "a 1\n")
	refs := NewPatRefs()
	compileIn(t, refs, "str(a),map("+f+")")
	if _, err := refs.Attach(f, false, "acl", nil); err == nil || !strings.Contains(err.Error(), "already used as a map") {
		t.Errorf("one-column use of a map: %v", err)
	}
	g := writeMap(t, "x\n")
	if _, err := refs.Attach(g, false, "acl", nopUser{}); err != nil {
		t.Fatal(err)
	}
	var err error
	WithPatRefs(refs, func() { _, err = Parse("str(a),map("+g+")", Options{}) })
	if err == nil || !strings.Contains(err.Error(), "already used as one column file") {
		t.Errorf("map use of an ACL file: %v", err)
	}
	if l := refs.List(); len(l) != 2 || l[0].ID != 0 || l[1].ID != 1 {
		t.Errorf("ids: %+v", l)
	}
}

type nopUser struct{}

func (nopUser) Rebuild([]PatEntry) (func(), error) { return func() {}, nil }
func (nopUser) Probe(string) PatProbe              { return PatProbe{} }

// HAProxy's file rules: map lines trimmed, '#' comments after blanks;
// ACL lines keep trailing blanks and only a first-column '#' is a comment.
func TestParsePatLine(t *testing.T) {
	for _, tt := range []struct {
		line  string
		isMap bool
		key   string
		value string
		ok    bool
	}{
		{"  key   value with  blanks  \r", true, "key", "value with  blanks", true},
		{"key", true, "key", "", true},
		{"   # comment", true, "", "", false},
		{"\t", true, "", "", false},
		{"  pattern  ", false, "pattern  ", "", true},
		{"# comment", false, "", "", false},
		{"  # not a comment", false, "# not a comment", "", true},
		{"", false, "", "", false},
	} {
		e, ok, err := ParsePatLine(tt.line, tt.isMap)
		if err != nil || ok != tt.ok || e.Key != tt.key || e.Value != tt.value {
			t.Errorf("%q (map %v): %q %q %v %v", tt.line, tt.isMap, e.Key, e.Value, ok, err)
		}
	}
}

func TestMapRegm(t *testing.T) {
	f := writeMap(t, `^/img/(.*)\.(png|jpg)$ /static/\2/\1`+"\n"+`^/x /y\9`+"\n")
	for expr, want := range map[string]string{
		"str(/img/cat.png),map_regm(" + f + ")":   "/static/png/cat",
		"str(/x),map_regm(" + f + ")":             "/y",
		"str(/nope),map_regm(" + f + ",fallback)": "fallback",
		"str(/img/a.jpg),map_reg(" + f + ",none)": `/static/\2/\1`,
	} {
		if got := evalStr(t, compileIn(t, nil, expr)); got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
}

// Lookups stay lock-free and allocation-free while the admin side changes
// the list (run with -race).
func TestPatRefConcurrentChanges(t *testing.T) {
	f := writeMap(t, "a.example.com be_a\n")
	refs := NewPatRefs()
	e := compileIn(t, refs, "str(a.example.com),map("+f+",def)")
	r := refs.Lookup(f)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = r.Set("a.example.com", fmt.Sprint("be_", i%3))
			_ = r.Add(PatEntry{Key: fmt.Sprint("k", i), Value: "v"})
			_ = r.Del(fmt.Sprint("k", i))
		}
	}()
	deadline := time.Now().Add(200 * time.Millisecond)
	for n := 0; n < 100000 && time.Now().Before(deadline); n++ {
		if got := evalStr(t, e); !strings.HasPrefix(got, "be_") {
			t.Fatalf("lookup during changes: %q", got)
		}
	}
	close(stop)
	wg.Wait()
}

func TestMapLookupAllocatesNothing(t *testing.T) {
	f := writeMap(t, "a.example.com be_a\n/api be_api\n")
	nets := writeMap(t, "10.0.0.0/8 lan\n10.1.0.0/16 office\n")
	for _, expr := range []string{"str(a.example.com),map(" + f + ",def)", "str(/api/x),map_beg(" + f + ",def)", "str(zz),map_sub(" + f + ",def)", "str(10.1.2.3),map_ip(" + nets + ",def)"} {
		e := compileIn(t, NewPatRefs(), expr)
		scratch := make([]byte, 0, 64)
		c := testCtx()
		if n := testing.AllocsPerRun(100, func() { e.Eval(c, scratch) }); n != 0 {
			t.Errorf("%s: %v allocs per lookup", expr, n)
		}
	}
}

func BenchmarkMapLookupShared(b *testing.B) {
	var body strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&body, "host%d.example.com be_%d\n", i, i%10)
	}
	f := writeMap(b, body.String())
	e := compileIn(b, NewPatRefs(), "str(host500.example.com),map("+f+",def)")
	c := testCtx()
	scratch := make([]byte, 0, 64)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e.Eval(c, scratch)
	}
}

// FuzzPatFile feeds map and ACL file lines to the parser and every match
// method's compiler: no panic, and what parses is found again by its key
// for str maps.
func FuzzPatFile(f *testing.F) {
	for _, s := range []string{"a 1\n", "# c\n  k\tv  \n", "10.0.0.0/8 x\n::1 y\n", "1:5 a\n:3 b\n", "^a(.*) \\1\n", "\x00\n", "k\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, line := range strings.Split(body, "\n") {
			e, ok, err := ParsePatLine(line, true)
			if err != nil || !ok {
				continue
			}
			if strings.ContainsAny(e.Key, " \t") || strings.HasPrefix(e.Key, "#") {
				t.Fatalf("%q: key %q", line, e.Key)
			}
			for _, m := range mapMatches {
				u := &mapUser{match: m, out: TypeStr}
				commit, err := u.Rebuild([]PatEntry{e})
				if err != nil {
					continue
				}
				commit()
				if m == "str" {
					var v Value
					v.SetStr([]byte(e.Key))
					if u.cur.Load().lookup(&v) != 0 {
						t.Fatalf("%q: str map does not find its key", line)
					}
				}
			}
			_, _, _ = ParsePatLine(line, false)
			_, _ = ParsePayloadLine(line, true)
		}
	})
}

// A prepared version is invisible until committed, then replaces the live
// list for every user at once; only curr+1..next may be committed.
func TestPatRefVersions(t *testing.T) {
	f := writeMap(t, "a 1\n")
	refs := NewPatRefs()
	a := compileIn(t, refs, "str(a),map("+f+",none)")
	b := compileIn(t, refs, "str(b),map_str_int("+f+",-1)")
	r := refs.Lookup(f)
	if v := r.Prepare(); v != 1 {
		t.Fatalf("first version %d", v)
	}
	if future, err := r.AddVersion(2, PatEntry{Key: "x"}); !future || err != nil {
		t.Errorf("unprepared version accepted: %v %v", future, err)
	}
	if _, err := r.AddVersion(1, PatEntry{Key: "b", Value: "2"}); err != nil {
		t.Fatal(err)
	}
	if got := evalStr(t, a) + " " + evalStr(t, b); got != "1 -1" {
		t.Errorf("before commit: %s", got)
	}
	if len(r.EntriesAt(1)) != 1 || r.Count() != 2 {
		t.Errorf("pending: %v, count %d", r.EntriesAt(1), r.Count())
	}
	for _, v := range []uint32{0, 2} {
		if err := r.Commit(v); !errors.Is(err, ErrVersionRange) {
			t.Errorf("commit %d: %v", v, err)
		}
	}
	if err := r.Commit(1); err != nil {
		t.Fatal(err)
	}
	if got := evalStr(t, a) + " " + evalStr(t, b); got != "none 2" {
		t.Errorf("after commit: %s", got)
	}
	if c, n := r.Versions(); c != 1 || n != 1 {
		t.Errorf("versions %d %d", c, n)
	}
	r.Prepare()
	if _, err := r.AddVersion(2, PatEntry{Key: "b", Value: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(2); err == nil || evalStr(t, b) != "2" {
		t.Errorf("a version a user refuses: %v, b = %s", err, evalStr(t, b))
	}
}

// BenchmarkPatRefAdd is the cost of one run-time change to a large map
// (every user's view is rebuilt).
func BenchmarkPatRefAdd(b *testing.B) {
	var body strings.Builder
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&body, "host%d.example.com be_%d\n", i, i%10)
	}
	f := writeMap(b, body.String())
	refs := NewPatRefs()
	compileIn(b, refs, "str(x),map("+f+",def)")
	r := refs.Lookup(f)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.SetOrAdd("new.example.com", fmt.Sprint(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// map_beg takes the longest matching key, as HAProxy's prefix tree; the
// list-indexed methods (dom, sub ...) take the first in file order.
func TestMapBegLongestPrefix(t *testing.T) {
	f := writeMap(t, "/a short\n/a/b long\n/a/b/c/d longest\n/a/b long2\n")
	for expr, want := range map[string]string{
		"str(/a/b/c),map_beg(" + f + ",DEF)":     "long",
		"str(/a/x),map_beg(" + f + ",DEF)":       "short",
		"str(/a/b/c/d/e),map_beg(" + f + ",DEF)": "longest",
		"str(/q),map_beg(" + f + ",DEF)":         "DEF",
		"str(/a/b/c),map_sub(" + f + ",DEF)":     "short",
	} {
		if got := evalStr(t, compileIn(t, nil, expr)); got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
}

// BenchmarkPatRefAddReg: a change to a map of 2,000 regular expressions
// reuses the compiled ones.
func BenchmarkPatRefAddReg(b *testing.B) {
	var body strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&body, "^/app%d/(v[0-9]+)/.*$ be_%d\n", i, i%10)
	}
	f := writeMap(b, body.String())
	refs := NewPatRefs()
	compileIn(b, refs, "str(/x),map_reg("+f+",def)")
	r := refs.Lookup(f)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.SetOrAdd("^/new$", fmt.Sprint(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// A change reuses the entries it does not touch and recompiles the others.
func TestRebuildReuse(t *testing.T) {
	f := writeMap(t, "^/a(.*) A\\1\n^/b B\n")
	refs := NewPatRefs()
	e := compileIn(t, refs, "str(/bx),map_reg("+f+",none)")
	g := compileIn(t, refs, "str(/ax),map_regm("+f+",none)")
	r := refs.Lookup(f)
	u := r.Users()[0].(*mapUser)
	re := u.cur.Load().entries[0].re
	if err := r.Set("^/b", "B2"); err != nil {
		t.Fatal(err)
	}
	if u.cur.Load().entries[0].re != re {
		t.Error("the untouched entry was recompiled")
	}
	if got := evalStr(t, e) + " " + evalStr(t, g); got != "B2 Ax" {
		t.Errorf("after set: %s", got)
	}
	if err := r.Del("^/a(.*)"); err != nil || evalStr(t, g) != "none" || evalStr(t, e) != "B2" {
		t.Errorf("after del: %v %s %s", err, evalStr(t, g), evalStr(t, e))
	}
}

// The str index kept across changes still finds the first line of a key.
func TestStrIndexAcrossChanges(t *testing.T) {
	f := writeMap(t, "a 1\nb 2\n")
	refs := NewPatRefs()
	e := compileIn(t, refs, "str(a),map("+f+",none)")
	r := refs.Lookup(f)
	steps := []struct {
		change func() error
		want   string
	}{
		{func() error { return r.Add(PatEntry{Key: "a", Value: "9"}) }, "1"}, // appended duplicate
		{func() error { return r.Set("b", "3") }, "1"},                       // values only
		{func() error { return r.Set(fmt.Sprintf("#0x%x", r.Entries()[0].ID), "5") }, "5"},
		{func() error { return r.Del(fmt.Sprintf("#0x%x", r.Entries()[0].ID)) }, "9"},
		{func() error { return r.Add(PatEntry{Key: "c", Value: "4"}) }, "9"},
	}
	for i, s := range steps {
		if err := s.change(); err != nil {
			t.Fatal(err)
		}
		if got := evalStr(t, e); got != s.want {
			t.Errorf("step %d: a = %s, want %s", i, got, s.want)
		}
	}
}

// An expression compiled while traffic flows (admin `set var`, scripts)
// never reads a map file from disk, never joins the users of the
// generation being prepared (a reload), and reads a file the running
// generation loaded through a snapshot that no later change rebuilds.
func TestMapRuntimeCompile(t *testing.T) {
	secret := writeMap(t, "secretkey hunter2\n")
	if err := os.Chmod(secret, 0o600); err != nil {
		t.Fatal(err)
	}
	running := NewPatRefs()
	compileIn(t, running, "str(x),map("+secret+",none)")
	r := running.Lookup(secret)
	empty := NewPatRefs()
	tests := []struct {
		name    string
		refs    *PatRefs
		want    string // value, or the error's text
		wantErr bool
	}{
		{"no set: refused, the file is not read", nil, "map files are loaded at start-up", true},
		{"a set without the file: refused", empty, "map files are loaded at start-up", true},
		{"the running set: its entries", running, "hunter2", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A reload prepares a new generation meanwhile: the run-time
			// compile must not attach to it.
			reloading := NewPatRefs()
			var e *Expr
			var err error
			WithPatRefs(reloading, func() {
				e, err = Parse("str(secretkey),map("+secret+",none)", Options{Runtime: true, PatRefs: tc.refs})
			})
			if len(reloading.List()) != 0 {
				t.Errorf("the run-time compile joined the generation being prepared: %v", reloading.List())
			}
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q (and no value: %v)", err, tc.want, e)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := evalStr(t, e); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if n := len(r.Users()); n != 1 {
				t.Errorf("%d users after a run-time compile, want the configuration's 1", n)
			}
		})
	}
}

// BenchmarkSetMapUniqueKeys is `http-request set-map(f) %[src] ...` with a
// new key on every request: N unique keys added to an empty map_str map
// (also read by a map_str_int converter); ns/op and allocs/op are per key.
func BenchmarkSetMapUniqueKeys(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				b.StopTimer()
				f := writeMap(b, "")
				refs := NewPatRefs()
				compileIn(b, refs, "str(x),map("+f+",def)")
				compileIn(b, refs, "str(x),map_str_int("+f+",0)")
				r := refs.Lookup(f)
				b.StartTimer()
				for i := 0; i < n && done < b.N; i, done = i+1, done+1 {
					if err := r.SetOrAdd(keys[i], "1"); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// countUser counts rebuilds and can hold one (a slow change in progress).
type countUser struct {
	rebuilds atomic.Int32
	hold     chan struct{} // a rebuild waits for it when not nil
}

func (u *countUser) Rebuild([]PatEntry) (func(), error) {
	u.rebuilds.Add(1)
	if u.hold != nil {
		<-u.hold
	}
	return func() {}, nil
}

func (u *countUser) Probe(string) PatProbe { return PatProbe{} }

// set-map runs per request: setting a key to the value it has rebuilds
// nothing, a new key costs the same in a large map as in a small one (no
// copy of the list nor of the index), and a change to one file does not
// wait for a change to another.
func TestSetMapCost(t *testing.T) {
	var body strings.Builder
	for i := 0; i < 50000; i++ {
		fmt.Fprintf(&body, "k%d v\n", i)
	}
	f := writeMap(t, body.String())
	refs := NewPatRefs()
	e := compileIn(t, refs, "str(n999),map("+f+",def)")
	r := refs.Lookup(f)
	cu := &countUser{}
	if _, err := refs.Attach(f, true, "map", cu); err != nil {
		t.Fatal(err)
	}
	t.Run("same value: no rebuild", func(t *testing.T) {
		before := cu.rebuilds.Load()
		if err := r.SetOrAdd("k7", "v"); err != nil {
			t.Fatal(err)
		}
		if n := cu.rebuilds.Load() - before; n != 0 {
			t.Errorf("%d rebuilds for an unchanged value", n)
		}
	})
	t.Run("new keys: no copy", func(t *testing.T) {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		const adds = 1000
		for i := 0; i < adds; i++ {
			if err := r.SetOrAdd(fmt.Sprint("n", i), "x"); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&m1)
		// A copy of the 50,000 entries or of the index is megabytes.
		if per := (m1.TotalAlloc - m0.TotalAlloc) / adds; per > 64<<10 {
			t.Errorf("%d bytes allocated per new key in a 50,000-key map", per)
		}
		if got := evalStr(t, e); got != "x" {
			t.Errorf("map after adds: %q", got)
		}
	})
	t.Run("files do not wait for each other", func(t *testing.T) {
		g := writeMap(t, "a 1\n")
		slow := &countUser{}
		other := NewPatRefs()
		if _, err := other.Attach(g, true, "map", slow); err != nil {
			t.Fatal(err)
		}
		slow.hold = make(chan struct{})
		defer func() { close(slow.hold) }()
		go other.Lookup(g).Clear() // held in slow's rebuild
		time.Sleep(20 * time.Millisecond)
		done := make(chan error, 1)
		go func() { done <- r.Set("k1", "changed") }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a change to one file waited for a change to another")
		}
	})
}
