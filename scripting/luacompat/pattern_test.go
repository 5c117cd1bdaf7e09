package luacompat

import (
	"fmt"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// eval runs `return EXPR` and renders the results.
func eval(L *lua.LState, expr string) string {
	if err := L.DoString("return " + expr); err != nil {
		msg := err.Error()
		if i := strings.Index(msg, "\n"); i >= 0 {
			msg = msg[:i]
		}
		return "error"
	}
	var parts []string
	for i := 1; i <= L.GetTop(); i++ {
		parts = append(parts, L.Get(i).Type().String()+":"+L.Get(i).String())
	}
	L.SetTop(0)
	return strings.Join(parts, ",")
}

func collect(expr string) string {
	return `(function() local t = {} for a, b in ` + expr + ` do t[#t+1] = tostring(a) .. "/" .. tostring(b) end return table.concat(t, ";") end)()`
}

// TestPatternsAgreeWithGopherLua: where Lua 5.1 and 5.3 agree, the bounded
// matcher gives what gopher-lua's gives.
func TestPatternsAgreeWithGopherLua(t *testing.T) {
	ref := lua.NewState()
	defer ref.Close()
	L := NewState(Options{})
	defer L.Close()
	for _, e := range []string{
		`("hello world"):find("o w")`, `("hello world"):find("o", 6)`, `("hello"):find("l", -2)`, `("a.b"):find(".", 1, true)`,
		`("hello world"):find("(o)(r)")`, `("key=value"):match("^(%w+)=(%w*)$")`, `("  trim  "):match("^%s*(.-)%s*$")`,
		`("192.0.2.1"):match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")`, `("abc"):match("()b()")`, `("f(a(b)c)d"):match("%b()")`,
		`("x = 1, y = 22"):match("(%a)%s*=%s*(%d+)")`,
		`("aaab"):match("a-b")`, `("abab"):match("(ab)%1")`, `("[x]"):match("[%[]")`, `("a]b"):match("[]]")`,
		`("a-b"):match("[a%-]+")`, `("hello"):match("[^aeiou]+")`, `("Hello"):match("%u%l+")`, `("0x1F"):match("%x+$")`,
		`("abc"):gsub("b", "[%0]")`, `("abc"):gsub("%w", "%0%0")`, `("hello world"):gsub("(%w+)", "<%1>")`,
		`("abc"):gsub("b", {b = "B"})`, `("abc"):gsub("%w", function(c) return c:upper() .. "." end)`,
		`("abc"):gsub("x*", "-")`, `("hello"):gsub("l", "L", 1)`, `("a,b,,c"):gsub(",", ";")`, `("abc"):gsub("", "-")`,
		collect(`("k1=v1, k2=v2"):gmatch("(%w+)=(%w+)")`), collect(`("one two  three"):gmatch("%a+")`),
		`("x"):find("")`, `(""):find("")`, `(""):match(".*")`, `("abc"):find("c", 10)`,
		`("a+b"):find("+", 1, true)`, `("$5"):match("^%$(%d)")`, `("end$"):match("$$")`,
	} {
		want, got := eval(ref, e), eval(L, e)
		if want != got {
			t.Errorf("%s: gopher-lua %q, varde %q", e, want, got)
		}
	}
}

// TestPatternsLua53: the cases where Lua 5.3 differs from 5.1, and where
// gopher-lua differs from Lua (no value instead of nil, %f at the start,
// a lone '%' accepted).
func TestPatternsLua53(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	for _, tc := range []struct{ expr, want string }{
		{collect(`("abc"):gmatch("%a*")`), `string:abc/nil`},
		{`("hello world"):gsub("%w*", "X")`, `string:X X,number:2`},
		{`("abc"):gsub("b*", "-")`, `string:-a-c-,number:3`},
		{`("THE (quick) fox"):find("%f[%a]%a+")`, `number:1,number:3`},
		{`("aaa"):match("a-b")`, `nil:nil`},
		{`("abc"):match("^b")`, `nil:nil`},
		{`select("#", ("abc"):find("x"))`, `number:1`},
		{`("a b"):find("%g")`, `number:1,number:1`},
		{`("a\0b"):find("%z")`, `number:2,number:2`},
		{`pcall(string.find, "a", "[a")`, `boolean:false,string:<string>:1: malformed pattern (missing ']')`},
		{`pcall(string.find, "a", "%")`, `boolean:false,string:<string>:1: malformed pattern (ends with '%')`},
		{`pcall(string.gsub, "a", "(a)", "%2")`, `boolean:false,string:<string>:1: invalid capture index %2`},
		{`pcall(string.gsub, "a", "a", "%x")`, `boolean:false,string:<string>:1: invalid use of '%' in replacement string`},
	} {
		if got := eval(L, tc.expr); got != tc.want {
			t.Errorf("%s = %q, want %q (Lua 5.3)", tc.expr, got, tc.want)
		}
	}
}

// TestPatternBudget: a pathological pattern ends with an error within the
// step budget instead of backtracking for minutes in one Go call.
func TestPatternBudget(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	start := time.Now()
	err := L.DoString(`local s = string.rep("a", 5000) return s:find(".-.-.-.-.-b")`)
	if err == nil || !strings.Contains(err.Error(), "too complex") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func FuzzPatternsAgree(f *testing.F) {
	for _, s := range [][2]string{{"hello world", "(o)(r)"}, {"key=v", "^(%w+)=(%w*)$"}, {"f(a)", "%b()"}, {"aXb", "%f[%u]."}} {
		f.Add(s[0], s[1])
	}
	ref := lua.NewState()
	L := NewState(Options{})
	f.Fuzz(func(t *testing.T, src, pat string) {
		if len(src) > 32 || len(pat) > 12 || strings.Count(pat, "-")+strings.Count(pat, "*")+strings.Count(pat, "+") > 2 {
			return // keep gopher-lua's unbounded matcher fast
		}
		if strings.Contains(pat, "%f") || strings.Contains(pat, "%b") || strings.Contains(strings.ToLower(pat), "%g") {
			return // gopher-lua differs from Lua 5.3 there (TestPatternsLua53); %g is 5.2+
		}
		ref.SetGlobal("s", lua.LString(src))
		ref.SetGlobal("p", lua.LString(pat))
		L.SetGlobal("s", lua.LString(src))
		L.SetGlobal("p", lua.LString(pat))
		for _, e := range []string{"s:find(p)", "s:match(p)"} {
			want, got := eval(ref, e), eval(L, e)
			if want == "" {
				want = "nil:nil" // gopher-lua returns no value where Lua returns nil
			}
			if want != "error" && got != "error" && want != got {
				t.Fatalf("%q:%s with %q: gopher-lua %q, varde %q", src, e, pat, want, got)
			}
		}
	})
}

var _ = fmt.Sprint
