package luacompat

import lua "github.com/yuin/gopher-lua"

// smallInts are the numbers 0..len-1 boxed once. Converting an LNumber to
// an LValue allocates (Go boxes the float64); gopher-lua's own ipairs does
// it twice per step, which made `for _, s in ipairs(servers)` the largest
// source of garbage in a policy call.
var smallInts [1024]lua.LValue

func init() {
	for i := range smallInts {
		smallInts[i] = lua.LNumber(i)
	}
}

// Int boxes i, without allocating for small non-negative integers.
func Int(i int) lua.LValue {
	if i >= 0 && i < len(smallInts) {
		return smallInts[i]
	}
	return lua.LNumber(i)
}

// installIpairs replaces ipairs with one of the same meaning (gopher-lua's,
// as Lua 5.1: raw reads from 1 to the first nil) that allocates nothing
// for lists shorter than len(smallInts).
func installIpairs(L *lua.LState) {
	aux := L.NewFunction(ipairsStep)
	L.SetGlobal("ipairs", L.NewFunction(func(L *lua.LState) int {
		tb := L.CheckTable(1)
		L.Push(aux)
		L.Push(tb)
		L.Push(smallInts[0])
		return 3
	}))
}

func ipairsStep(L *lua.LState) int {
	tb := L.CheckTable(1)
	i := L.CheckInt(2) + 1
	v := tb.RawGetInt(i)
	if v == lua.LNil {
		return 0
	}
	L.Push(Int(i))
	L.Push(v)
	return 2
}

// strByte is gopher-lua's string.byte (same arguments and results,
// including its reading of a missing j as "to the end") with the codes
// pushed pre-boxed: a script hashing a key byte by byte allocated once
// per byte.
func strByte(L *lua.LState) int {
	str := L.CheckString(1)
	start := L.OptInt(2, 1) - 1
	end := L.OptInt(3, -1)
	l := len(str)
	if start < 0 {
		start = l + start + 1
	}
	if end < 0 {
		end = l + end + 1
	}
	if L.GetTop() == 2 {
		if start < 0 || start >= l {
			return 0
		}
		L.Push(smallInts[str[start]])
		return 1
	}
	start, end = max(start, 0), min(end, l)
	if end < 0 || end <= start || start >= l {
		return 0
	}
	for i := start; i < end; i++ {
		L.Push(smallInts[str[i]])
	}
	return end - start
}
