package sample

import (
	"net/netip"
	"testing"
)

func strV(s string) Value { return Value{Type: TypeStr, Str: []byte(s)} }
func intV(n int64) Value  { return Value{Type: TypeInt, Int: n} }

func mustRef(t *testing.T, name string) VarRef {
	t.Helper()
	r, err := ParseVarName(name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The set-var conditions, each against a variable that is missing, set,
// or created but not set, as HAProxy 2.6's var_set decides them.
func TestSetVarConditions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		prior *Value // nil: no variable; TypeAny: exists, not set
		v     Value
		c     SetCond
		set   bool
		after string
	}{
		{"plain", nil, strV("a"), 0, true, "a"},
		{"ifexists missing", nil, strV("a"), IfExists, false, "<none>"},
		{"ifexists present", &Value{Type: TypeInt, Int: 1}, strV("a"), IfExists, true, "a"},
		{"ifnotexists present", &Value{Type: TypeInt, Int: 1}, strV("a"), IfNotExists, false, "1"},
		{"ifnotexists missing", nil, strV("a"), IfNotExists, true, "a"},
		{"ifempty string", nil, strV(""), IfEmpty, true, ""},
		{"ifempty text", nil, strV("x"), IfEmpty, false, "<none>"},
		{"ifempty int never empty", nil, intV(0), IfEmpty, false, "<none>"},
		{"ifnotempty empty", nil, strV(""), IfNotEmpty, false, "<none>"},
		{"ifnotempty int", nil, intV(0), IfNotEmpty, true, "0"},
		{"ifset missing", nil, strV("a"), IfSet, false, "<none>"},
		{"ifset set", &Value{Type: TypeStr, Str: []byte("o")}, strV("a"), IfSet, true, "a"},
		{"ifnotset set", &Value{Type: TypeStr, Str: []byte("o")}, strV("a"), IfNotSet, false, "o"},
		{"ifnotset missing", nil, strV("a"), IfNotSet, true, "a"},
		{"ifgt greater", &Value{Type: TypeInt, Int: 5}, intV(3), IfGT, true, "3"},
		{"ifgt smaller", &Value{Type: TypeInt, Int: 2}, intV(3), IfGT, false, "2"},
		{"iflt smaller", &Value{Type: TypeInt, Int: 2}, intV(3), IfLT, true, "3"},
		{"iflt greater", &Value{Type: TypeInt, Int: 5}, intV(3), IfLT, false, "5"},
		{"ifgt against a string", &Value{Type: TypeStr, Str: []byte("9")}, intV(3), IfGT, true, "3"},
		{"ifgt missing", nil, intV(3), IfGT, true, "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var vs Vars
			r := mustRef(t, "txn.x")
			if tc.prior != nil {
				if !vs.SetRef(r, *tc.prior, 0) {
					t.Fatal("prior value refused")
				}
			}
			if got := vs.SetRef(r, tc.v, tc.c); got != tc.set {
				t.Errorf("set = %v, want %v", got, tc.set)
			}
			after := "<none>"
			if v, ok := vs.GetRef(r); ok {
				after = string(v.Str)
				if v.Type == TypeInt {
					after = itoa(v.Int)
				}
			}
			if after != tc.after {
				t.Errorf("after = %q, want %q", after, tc.after)
			}
		})
	}
}

func itoa(n int64) string {
	var b []byte
	b, _ = Cast(&Value{Type: TypeInt, Int: n}, TypeStr, b)
	return string(b)
}

// A condition that fails after the variable was created leaves it
// existing, not set: ifexists then holds (HAProxy's quirk, measured in
// TestVarsDifferentialHAProxy too).
func TestCreatedNotSetVariableExists(t *testing.T) {
	var vs Vars
	r := mustRef(t, "txn.x")
	if vs.SetRef(r, strV("a"), IfSet) {
		t.Fatal("ifset set a missing variable")
	}
	if _, ok := vs.GetRef(r); ok {
		t.Fatal("a created variable reads as set")
	}
	if !vs.SetRef(r, strV("b"), IfExists) {
		t.Fatal("ifexists refused a created variable")
	}
}

// Lifetimes: req. ends when the response starts, res. only exists then,
// txn. ends with the transaction, sess. stays with the connection.
func TestVarScopesLifetimes(t *testing.T) {
	var vs Vars
	set := func(n string, v Value) bool { return vs.SetRef(mustRef(t, n), v, 0) }
	get := func(n string) bool { _, ok := vs.GetRef(mustRef(t, n)); return ok }
	for _, n := range []string{"req.a", "txn.a", "sess.a"} {
		if !set(n, intV(1)) {
			t.Fatalf("set %s refused", n)
		}
	}
	if set("res.a", intV(1)) || get("res.a") {
		t.Fatal("res. usable during the request")
	}
	vs.EnterResponse()
	if get("req.a") || set("req.b", intV(1)) {
		t.Fatal("req. usable during the response")
	}
	if !set("res.a", intV(2)) || !get("res.a") || !get("txn.a") || !get("sess.a") {
		t.Fatal("response scopes lost")
	}
	vs.Reset()
	if get("txn.a") || get("res.a") || !get("sess.a") {
		t.Fatal("Reset kept txn./res. or lost sess.")
	}
	if get("req.a") || !set("req.a", intV(3)) {
		t.Fatal("next transaction's request scope")
	}
	vs.Sess.Release()
	vs.Sess = nil
	if get("sess.a") {
		t.Fatal("sess. survived its connection")
	}
}

// tune.vars.*-max-size: a variable past a limit is not set, and the
// space freed by unset-var and by the transaction's end is usable again.
func TestVarLimits(t *testing.T) {
	SetVarLimits(&VarLimits{Txn: varEntryBytes + 10, Sess: 2*varEntryBytes + 20})
	t.Cleanup(func() { SetVarLimits(nil) })
	var vs Vars
	r := mustRef(t, "txn.a")
	if !vs.SetRef(r, strV("0123456789"), 0) {
		t.Fatal("a value within the limit was refused")
	}
	if vs.SetRef(mustRef(t, "txn.b"), intV(1), 0) {
		t.Fatal("a second txn variable passed tune.vars.txn-max-size")
	}
	if vs.SetRef(r, strV("0123456789a"), 0) {
		t.Fatal("a longer value passed the limit")
	}
	vs.UnsetRef(r)
	if !vs.SetRef(mustRef(t, "txn.b"), intV(1), 0) {
		t.Fatal("space freed by unset-var not reused")
	}
	if !vs.SetRef(mustRef(t, "sess.s"), strV("0123456789"), 0) {
		t.Fatal("sess within its limit refused")
	}
	vs.Reset()
	if !vs.SetRef(mustRef(t, "sess.t"), strV("0123456789"), 0) {
		t.Fatal("the transaction's end did not free the session's space")
	}
	if vs.SetRef(mustRef(t, "req.r"), intV(1), 0) {
		t.Fatal("a request variable passed tune.vars.sess-max-size (hierarchical accounting)")
	}
	vs.Reset()
	vs.Sess.Release()
}

// proc. variables the configuration names exist from the start and stay
// after unset-var, not set.
func TestProcVarDeclared(t *testing.T) {
	const name = "proc.declared_test"
	t.Cleanup(func() {
		procVars.mu.Lock()
		delete(procVars.m, name)
		procVars.mu.Unlock()
	})
	DeclareProcVar(name)
	var vs Vars
	r := mustRef(t, name)
	if vs.SetRef(r, strV("a"), IfNotExists) {
		t.Fatal("ifnotexists set a declared proc variable")
	}
	if !vs.SetRef(r, strV("a"), IfExists) {
		t.Fatal("ifexists refused a declared proc variable")
	}
	vs.UnsetRef(r)
	if _, ok := vs.GetRef(r); ok {
		t.Fatal("unset proc variable still set")
	}
	if !vs.SetRef(r, netipV(), IfExists) {
		t.Fatal("unset-var removed a declared proc variable")
	}
}

func netipV() Value {
	var v Value
	v.SetAddr(netip.MustParseAddr("192.0.2.1"))
	return v
}

// A warm Vars sets and reads string variables without allocating.
func TestVarsNoAllocWhenWarm(t *testing.T) {
	var vs Vars
	r := mustRef(t, "txn.a")
	val := strV("value")
	vs.SetRef(r, val, 0)
	vs.Reset()
	n := testing.AllocsPerRun(100, func() {
		vs.SetRef(r, val, 0)
		vs.GetRef(r)
		vs.Reset()
	})
	if n != 0 {
		t.Errorf("%v allocations per transaction", n)
	}
}

func FuzzParseVarName(f *testing.F) {
	for _, s := range []string{"txn.a", "proc.x.y", "sess.", "req.a-b", "res._", "bad", ".x", "txn.\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseVarName(s)
		if err != nil {
			return
		}
		if r.Name != s || r.Scope == ScopeNone || !ValidVarName(s) {
			t.Fatalf("%q parsed as %+v", s, r)
		}
		_, _ = ParseSetCond(s)
	})
}

// A snapshot restores every type in every scope the log line can read.
func TestVarsSnapshotRoundTrip(t *testing.T) {
	var vs Vars
	vs.SetRef(mustRef(t, "txn.s"), strV("text"), 0)
	vs.SetRef(mustRef(t, "txn.i"), intV(-7), 0)
	vs.SetRef(mustRef(t, "txn.a"), netipV(), 0)
	vs.SetRef(mustRef(t, "sess.b"), Value{Type: TypeBool, Int: 1}, 0)
	vs.EnterResponse()
	vs.SetRef(mustRef(t, "res.r"), strV("resp"), 0)
	snap := vs.AppendSnapshot(nil, 512)
	var out Vars
	out.Restore(snap, NewSessVars())
	for name, want := range map[string]string{"txn.s": "text", "txn.i": "-7", "txn.a": "192.0.2.1", "sess.b": "1", "res.r": "resp"} {
		v, ok := out.Get(name)
		if !ok {
			t.Errorf("%s lost", name)
			continue
		}
		b, _ := Cast(&v, TypeStr, nil)
		if got := string(v.Str); v.Type == TypeStr && got != want || len(b) > 0 && string(b) != want {
			t.Errorf("%s = %q (%v), want %q", name, v.Str, v.Type, want)
		}
	}
	if short := vs.AppendSnapshot(nil, 20); len(short) > 20 {
		t.Errorf("snapshot of %d bytes past its bound", len(short))
	}
	vs.Reset()
	vs.Sess.Release()
}

func FuzzVarsRestore(f *testing.F) {
	var vs Vars
	vs.SetRef(VarRef{Name: "txn.s", Scope: ScopeTxn}, strV("text"), 0)
	vs.SetRef(VarRef{Name: "sess.i", Scope: ScopeSess}, intV(3), 0)
	f.Add(vs.AppendSnapshot(nil, 512))
	f.Add([]byte{0, 3, 1, 'x', 2, 0, 8})
	f.Fuzz(func(t *testing.T, snap []byte) {
		var out Vars
		out.Restore(snap, NewSessVars())
		out.Get("txn.s")
		out.AppendSnapshot(nil, 512)
	})
}
