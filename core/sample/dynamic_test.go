package sample

import (
	"reflect"
	"strings"
	"testing"
)

func TestDynamicNames(t *testing.T) {
	cases := []struct {
		text        string
		fetch, conv []string
	}{
		{"lua.f", []string{"lua.f"}, nil},
		{"%[lua.f(1,2),lua.c] x %[req.hdr(a),lua.up,lower]", []string{"lua.f"}, []string{"lua.c", "lua.up"}},
		{"req.hdr(x)", nil, nil},
		{"notlua.f", nil, nil},
		{"lua.", nil, nil},
	}
	for _, c := range cases {
		f, cv := DynamicNames(c.text)
		if !reflect.DeepEqual(f, c.fetch) || !reflect.DeepEqual(cv, c.conv) {
			t.Errorf("DynamicNames(%q) = %v, %v; want %v, %v", c.text, f, cv, c.fetch, c.conv)
		}
	}
}

// TestDynamicParse: lua.NAME parses as a fetch and as a converter, and
// evaluates to no sample without a script host.
func TestDynamicParse(t *testing.T) {
	e, err := Parse("lua.f(a,b),lua.c(x)", Options{Where: AtRequest})
	if err != nil {
		t.Fatal(err)
	}
	var c Ctx
	if _, _, ok := e.Eval(&c, nil); ok {
		t.Fatal("a lua fetch without a host gave a sample")
	}
	if _, err := Parse("lua.f(1,2,3,4)", Options{}); err == nil {
		t.Fatal("more arguments than Args holds were accepted")
	}
}

func TestVars(t *testing.T) {
	var vs Vars
	buf := []byte("abc")
	var v Value
	v.SetStr(buf)
	vs.Set("txn.a", v)
	buf[0] = 'x' // the variable kept its own copy
	if got, ok := vs.Get("txn.a"); !ok || string(got.Str) != "abc" {
		t.Fatalf("got %q %v", got.Str, ok)
	}
	vs.Reset()
	if _, ok := vs.Get("txn.a"); ok {
		t.Fatal("Reset kept a variable")
	}
	for name, ok := range map[string]bool{"txn.a": true, "req.b_c": true, "sess.x": true, "proc.x": true, "proc.": false, "txn.": false, "a": false, "txn.a b": false} {
		if ValidVarName(name) != ok {
			t.Errorf("ValidVarName(%q) = %v", name, !ok)
		}
	}
}

// TestProcVars: proc. names reach one process-wide table, whichever
// transaction's Vars (or none) sets or reads them.
func TestProcVars(t *testing.T) {
	var a, b Vars
	var v Value
	v.SetStr([]byte("on"))
	a.Set("proc.test_flag", v)
	reset := a
	reset.Reset()
	for _, vs := range []*Vars{&a, &b, &reset, nil} {
		if got, ok := vs.Get("proc.test_flag"); !ok || string(got.Str) != "on" {
			t.Fatalf("proc var not shared: %q %v", got.Str, ok)
		}
	}
	if _, ok := b.Get("txn.test_flag"); ok {
		t.Fatal("a proc var leaked into txn.")
	}
	var nilVars *Vars
	nilVars.Unset("proc.test_flag")
	if _, ok := ProcVar("proc.test_flag"); ok {
		t.Fatal("Unset kept the proc var")
	}
}

func FuzzDynamicNames(f *testing.F) {
	for _, s := range []string{"lua.f", "%[lua.a,lua.b]", "xlua.y", "lua.(", ",lua."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fs, cs := DynamicNames(text)
		for _, n := range append(fs, cs...) {
			if !strings.HasPrefix(n, DynamicPrefix) || len(n) == len(DynamicPrefix) || !strings.Contains(text, n) {
				t.Fatalf("bad name %q from %q", n, text)
			}
		}
	})
}
