package luacompat

import (
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// addCompat installs the Lua 5.2/5.3 library functions scripts written for
// HAProxy's Lua 5.3 use, and bounds the string functions that can build a
// large string in one Go call (where no deadline can cut them short).
func addCompat(L *lua.LState, o Options) {
	installIpairs(L)
	tab := L.GetGlobal(lua.TabLibName).(*lua.LTable)
	tab.RawSetString("pack", L.NewFunction(tablePack))
	tab.RawSetString("unpack", L.GetGlobal("unpack"))
	sortFn := tab.RawGetString("sort").(*lua.LFunction).GFunction
	tab.RawSetString("sort", L.NewFunction(func(L *lua.LState) int {
		// Sorting runs in one Go call: bound it as string.rep is bounded.
		if n := L.CheckTable(1).Len(); n > MaxSort {
			L.RaiseError("table.sort: %d elements exceed the sandbox's %d", n, MaxSort)
		}
		return sortFn(L)
	}))
	m := L.GetGlobal(lua.MathLibName).(*lua.LTable)
	m.RawSetString("tointeger", L.NewFunction(mathToInteger))
	m.RawSetString("type", L.NewFunction(mathType))
	m.RawSetString("maxinteger", lua.LNumber(1<<53))
	m.RawSetString("mininteger", lua.LNumber(-(1 << 53)))
	str := L.GetGlobal(lua.StringLibName).(*lua.LTable)
	str.RawSetString("dump", lua.LNil)
	str.RawSetString("byte", L.NewFunction(strByte))
	str.RawSetString("rep", L.NewFunction(strRep(o.MaxString)))
	str.RawSetString("find", L.NewFunction(strFind(o.PatternSteps, true)))
	str.RawSetString("match", L.NewFunction(strFind(o.PatternSteps, false)))
	str.RawSetString("gmatch", L.NewFunction(strGmatch(o.PatternSteps)))
	str.RawSetString("gsub", L.NewFunction(strGsub(o.PatternSteps)))
	orig := str.RawGetString("format").(*lua.LFunction)
	str.RawSetString("format", L.NewFunction(strFormat(orig.GFunction, o.MaxString)))
}

// MaxSort bounds table.sort (without a comparator the whole sort is one Go
// call, out of the deadline's reach).
const MaxSort = 1 << 16

// tablePack is Lua 5.2's table.pack: the arguments with n set.
func tablePack(L *lua.LState) int {
	n := L.GetTop()
	t := L.CreateTable(n, 1)
	for i := 1; i <= n; i++ {
		t.RawSetInt(i, L.Get(i))
	}
	t.RawSetString("n", lua.LNumber(n))
	L.Push(t)
	return 1
}

// mathToInteger is Lua 5.3's math.tointeger: the number when it has an
// integer value, else nil (gopher-lua's numbers are all float64).
func mathToInteger(L *lua.LState) int {
	v := L.Get(1)
	if _, isStr := v.(lua.LString); isStr {
		v = L.ToNumber(1) // 5.3 converts numeric strings
	}
	n, ok := v.(lua.LNumber)
	if !ok || math.IsInf(float64(n), 0) || float64(n) != math.Trunc(float64(n)) {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(n)
	return 1
}

// mathType is Lua 5.3's math.type: "integer" for a whole number (there is
// no separate integer subtype here), "float" otherwise, nil for a
// non-number.
func mathType(L *lua.LState) int {
	n, ok := L.Get(1).(lua.LNumber)
	switch {
	case !ok:
		L.Push(lua.LNil)
	case float64(n) == math.Trunc(float64(n)) && !math.IsInf(float64(n), 0):
		L.Push(lua.LString("integer"))
	default:
		L.Push(lua.LString("float"))
	}
	return 1
}

// strRep is string.rep(s, n [, sep]) (5.2's separator) whose result may not
// exceed max bytes: one call could otherwise allocate gigabytes before any
// deadline is looked at.
func strRep(max int) lua.LGFunction {
	return func(L *lua.LState) int {
		s := L.CheckString(1)
		n := L.CheckInt(2)
		sep := L.OptString(3, "")
		if n <= 0 {
			L.Push(lua.LString(""))
			return 1
		}
		if size := float64(len(s)+len(sep))*float64(n) - float64(len(sep)); size > float64(max) {
			L.RaiseError("string.rep: result of %.0f bytes exceeds the sandbox's %d", size, max)
		}
		if sep == "" {
			L.Push(lua.LString(strings.Repeat(s, n)))
			return 1
		}
		var b strings.Builder
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(s)
		}
		L.Push(lua.LString(b.String()))
		return 1
	}
}

// strFormat checks a format as Lua 5.3 does before gopher-lua's
// string.format runs it: width and precision of at most two digits (a
// large width would allocate without bound in one Go call), integer
// conversions only of numbers with an integer value.
func strFormat(orig lua.LGFunction, max int) lua.LGFunction {
	return func(L *lua.LState) int {
		f := L.CheckString(1)
		arg := 1
		for i := 0; i < len(f); i++ {
			if f[i] != '%' {
				continue
			}
			i++
			if i < len(f) && f[i] == '%' {
				continue
			}
			arg++
			j := i
			for j < len(f) && strings.IndexByte("-+ #0", f[j]) >= 0 {
				j++
			}
			w := j
			for j < len(f) && f[j] >= '0' && f[j] <= '9' {
				j++
			}
			p := j - w
			if j < len(f) && f[j] == '.' {
				j++
				k := j
				for j < len(f) && f[j] >= '0' && f[j] <= '9' {
					j++
				}
				p = max2(p, j-k)
			}
			if p > 2 {
				L.RaiseError("invalid format (width or precision too long)")
			}
			if j >= len(f) {
				L.RaiseError("invalid conversion '%s' to 'format'", f[i-1:])
			}
			switch f[j] {
			case 'd', 'i', 'x', 'X', 'o', 'c':
				n, ok := L.Get(arg).(lua.LNumber)
				if ok && float64(n) != math.Trunc(float64(n)) {
					L.ArgError(arg, "number has no integer representation")
				}
			}
			i = j
		}
		n := orig(L)
		if s, ok := L.Get(-1).(lua.LString); ok && len(s) > max {
			L.RaiseError("string.format: result exceeds the sandbox's %d bytes", max)
		}
		return n
	}
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}
