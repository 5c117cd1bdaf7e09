package luacompat

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestFastLibDifferential: the allocation-free ipairs and string.byte
// answer as gopher-lua's own.
func TestFastLibDifferential(t *testing.T) {
	exprs := []string{
		`string.byte("")`, `string.byte("abc")`, `("abc"):byte()`, `string.byte("abc", 2)`,
		`string.byte("abc", -1)`, `string.byte("abc", 0)`, `string.byte("abc", 4)`, `string.byte("abc", -4)`,
		`string.byte("abc", 1, 3)`, `string.byte("abc", 2, -1)`, `string.byte("abc", -2, -1)`,
		`string.byte("abc", 3, 1)`, `string.byte("abc", 0, 10)`, `string.byte("\255\0\128", 1, 3)`,
		`string.byte("abc", 1, 0)`, `string.byte("abc", -10, -10)`,
		`(function() local n, s = 0, 0 for i, v in ipairs({5, 6, nil, 8}) do n, s = n + i, s + v end return n, s end)()`,
		`(function() local n = 0 for i in ipairs({}) do n = n + 1 end return n end)()`,
		`(function() local t = {} for i = 1, 1500 do t[i] = i end local n = 0 for i, v in ipairs(t) do n = n + i - v end return n end)()`,
		`(function() local t = setmetatable({}, {__index = function() return 1 end}) local n = 0 for _ in ipairs(t) do n = n + 1 end return n end)()`,
	}
	ref, ours := lua.NewState(), NewState(Options{})
	defer ref.Close()
	defer ours.Close()
	for _, e := range exprs {
		want, err1 := results(ref, e)
		got, err2 := results(ours, e)
		if (err1 == nil) != (err2 == nil) || got != want {
			t.Errorf("%s: got %q (%v), gopher-lua %q (%v)", e, got, err2, want, err1)
		}
	}
	for _, e := range []string{`ipairs(nil)`, `string.byte(nil)`, `string.byte("a", "x")`} {
		if _, err := results(ours, e); err == nil {
			t.Errorf("%s: no error", e)
		}
	}
}

func results(L *lua.LState, expr string) (string, error) {
	top := L.GetTop()
	if err := L.DoString("return " + expr); err != nil {
		return "", err
	}
	out := ""
	for i := top + 1; i <= L.GetTop(); i++ {
		out += L.Get(i).String() + ","
	}
	L.SetTop(top)
	return out, nil
}
