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
