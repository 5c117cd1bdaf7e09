package lua

import (
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/scripting"
)

// bindShared fills the `shared` global with get/set/incr over t.
func (st *state) bindShared(t *scripting.SharedTable) {
	L := st.L
	m := L.GetGlobal("shared").(*lua.LTable)
	m.RawSetString("get", L.NewFunction(func(L *lua.LState) int {
		v, ok := t.Get(L.CheckString(1))
		if !ok {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(toLua(v))
		return 1
	}))
	m.RawSetString("set", L.NewFunction(func(L *lua.LState) int {
		k := L.CheckString(1)
		v := fromLua(L, 2)
		L.Push(lua.LBool(t.Set(k, v, ttlArg(L, 3))))
		return 1
	}))
	m.RawSetString("incr", L.NewFunction(func(L *lua.LState) int {
		k := L.CheckString(1)
		d := float64(L.OptNumber(2, 1))
		n, ok := t.Incr(k, d, ttlArg(L, 3))
		if !ok {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LNumber(n))
		return 1
	}))
	L.SetMetatable(m, readOnlyMeta(L))
}

func ttlArg(L *lua.LState, i int) time.Duration {
	s := float64(L.OptNumber(i, 0))
	if s <= 0 {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

func toLua(v any) lua.LValue {
	switch x := v.(type) {
	case string:
		return lua.LString(x)
	case float64:
		return lua.LNumber(x)
	case bool:
		return lua.LBool(x)
	}
	return lua.LNil
}

// fromLua accepts what a shared table may hold: strings, numbers,
// booleans, nil (delete).
func fromLua(L *lua.LState, i int) any {
	switch v := L.Get(i).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return float64(v)
	case lua.LBool:
		return bool(v)
	case *lua.LNilType:
		return nil
	default:
		L.ArgError(i, "shared values are strings, numbers or booleans, not "+v.Type().String())
	}
	return nil
}

func readOnlyMeta(L *lua.LState) *lua.LTable {
	mt := L.NewTable()
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("shared is read-only: use shared.set")
		return 0
	}))
	return mt
}
