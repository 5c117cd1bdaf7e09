package luacompat

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestCheck53(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"local a = 7 // 2", "x.lua:1: integer division"},
		{"local a = 1\n\nlocal b = a & 1", "x.lua:3: bitwise and"},
		{"local a = 1 | 2", "bitwise or"},
		{"local a = ~1", "bitwise xor/not"},
		{"local a = 1 << 2", "shift <<"},
		{"local a = 1 >> 2", "shift >>"},
		{"goto done", "x.lua:1: goto"},
		{"::done::", "label ::"},
		{"local a = 1 ~= 2", ""},
		{"-- 7 // 2 & goto\nlocal s = '//' .. \"a|b\" .. [[goto ~]] --[==[ << ]==]", ""},
		{"local s = 'it\\'s // here'", ""},
		{"local gotox, x_goto = 1, 2", ""},
		{"local s = [[\n\n]] local a = 1 // 2", "x.lua:3: integer division"},
	} {
		err := Check53([]byte(tc.src), "x.lua")
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: err = %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestSandbox(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	for _, name := range []string{"io", "os", "debug", "package", "load", "loadstring", "loadfile", "dofile", "require", "module", "print", "collectgarbage", "getfenv", "setfenv", "newproxy", "coroutine", "channel"} {
		if v := L.GetGlobal(name); v != lua.LNil {
			t.Errorf("%s is reachable: %v", name, v)
		}
	}
	for _, name := range []string{"string", "table", "math", "pairs", "pcall", "tostring"} {
		if L.GetGlobal(name) == lua.LNil {
			t.Errorf("%s is missing", name)
		}
	}
	if err := L.DoString(`local s = string.rep("x", 2^21)`); err == nil || !strings.Contains(err.Error(), "sandbox") {
		t.Errorf("string.rep beyond the bound: %v", err)
	}
	if err := L.DoString(`local function f() return f() + 1 end f()`); err == nil {
		t.Error("unbounded recursion was not stopped")
	}
}

func TestCompileLocatesErrors(t *testing.T) {
	_, err := Compile([]byte("local a =\n\nfunction"), "y.lua")
	if err == nil || !strings.HasPrefix(err.Error(), "y.lua:") {
		t.Fatalf("err = %v", err)
	}
	p, err := Compile([]byte("x = 1"), "ok.lua")
	if err != nil || p == nil {
		t.Fatalf("%v", err)
	}
}

// FuzzCheck53: the scanner never panics, and what it passes gopher-lua's
// parser may refuse but never because of 5.3 syntax it failed to see.
func FuzzCheck53(f *testing.F) {
	for _, s := range []string{"local a = 7 // 2", "goto x", "--[[ a // b ]] x = 1", "s = [==[ ]] ]==] .. 'a\\'b'", "x = 1 ~= 2"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 4096 {
			return
		}
		err := Check53(src, "f.lua")
		if err != nil && !strings.HasPrefix(err.Error(), "f.lua:") {
			t.Fatalf("unlocated error %v", err)
		}
		Compile(src, "f.lua") // must not panic
	})
}

func TestTableBounds(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	if err := L.DoString(`local t = {} for i = 1, 70000 do t[i] = -i end table.sort(t)`); err == nil || !strings.Contains(err.Error(), "sandbox") {
		t.Errorf("sorting 70000 elements: %v", err)
	}
	if err := L.DoString(`local t = {3, 1, 2} table.sort(t) assert(t[1] == 1 and t[3] == 3) table.sort(t, function(a, b) return a > b end) assert(t[1] == 3)`); err != nil {
		t.Error(err)
	}
	if err := L.DoString(`local t = {} for i = 1, 100000 do t[i] = "x" end return table.concat(t)`); err == nil {
		t.Error("concat of 100000 elements went past the value stack bound")
	}
}
