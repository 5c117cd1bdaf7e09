package haproxylua

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// newSandbox is the one place a Lua state is made: base, string, table
// and math only (no io, os, debug, package, load*), plus the few Lua 5.3
// library functions HAProxy scripts use and a require limited to the
// lua-prepend-path directories. When scripting/luacompat lands, this
// function is what switches to it.
func newSandbox(paths []string) *lua.LState {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 256, RegistrySize: 1024 * 16, RegistryMaxSize: 1024 * 256})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	for _, name := range []string{"dofile", "loadfile", "load", "loadstring", "module", "newproxy", "collectgarbage"} {
		L.SetGlobal(name, lua.LNil)
	}
	shim53(L)
	L.SetGlobal("require", L.NewFunction(requireIn(paths)))
	return L
}

// maxRep bounds string.rep's result.
const maxRep = 64 << 20

// shim53 adds the Lua 5.2/5.3 library functions scripts written for
// HAProxy's Lua 5.3 call.
func shim53(L *lua.LState) {
	tbl := L.GetGlobal("table").(*lua.LTable)
	if unpack := L.GetGlobal("unpack"); unpack != lua.LNil {
		tbl.RawSetString("unpack", unpack)
	}
	tbl.RawSetString("pack", L.NewFunction(func(L *lua.LState) int {
		t := L.NewTable()
		n := L.GetTop()
		for i := 1; i <= n; i++ {
			t.RawSetInt(i, L.Get(i))
		}
		t.RawSetString("n", lua.LNumber(n))
		L.Push(t)
		return 1
	}))
	// string.rep builds its result in Go, out of reach of the call
	// deadline: bound it so one call cannot ask for gigabytes.
	str := L.GetGlobal("string").(*lua.LTable)
	rep := str.RawGetString("rep").(*lua.LFunction)
	str.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		s, n := L.CheckString(1), L.CheckInt(2)
		if n > 0 && len(s) > 0 && n > maxRep/len(s) {
			L.RaiseError("string.rep: result larger than %d bytes", maxRep)
		}
		L.Push(rep)
		L.Push(lua.LString(s))
		L.Push(lua.LNumber(n))
		L.Call(2, 1)
		return 1
	}))
	m := L.GetGlobal("math").(*lua.LTable)
	m.RawSetString("tointeger", L.NewFunction(func(L *lua.LState) int {
		v, ok := L.Get(1).(lua.LNumber)
		if !ok || float64(v) != math.Trunc(float64(v)) || math.IsInf(float64(v), 0) {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(v)
		return 1
	}))
	m.RawSetString("type", L.NewFunction(func(L *lua.LState) int {
		v, ok := L.Get(1).(lua.LNumber)
		switch {
		case !ok:
			L.Push(lua.LNil)
		case float64(v) == math.Trunc(float64(v)) && !math.IsInf(float64(v), 0):
			L.Push(lua.LString("integer"))
		default:
			L.Push(lua.LString("float"))
		}
		return 1
	}))
	m.RawSetString("maxinteger", lua.LNumber(math.MaxInt64))
	m.RawSetString("mininteger", lua.LNumber(math.MinInt64))
}

// requireIn loads modules from the lua-prepend-path patterns (?.lua),
// once per state, as package.loaded does.
func requireIn(paths []string) lua.LGFunction {
	return func(L *lua.LState) int {
		name := L.CheckString(1)
		loaded, _ := L.GetField(L.Get(lua.RegistryIndex), "_varde_loaded").(*lua.LTable)
		if loaded == nil {
			loaded = L.NewTable()
			L.SetField(L.Get(lua.RegistryIndex), "_varde_loaded", loaded)
		}
		if v := loaded.RawGetString(name); v != lua.LNil {
			L.Push(v)
			return 1
		}
		file, tried := findModule(name, paths)
		if file == "" {
			L.RaiseError("module %q not found (lua-prepend-path directories tried: %s)", name, strings.Join(tried, ", "))
		}
		src, err := os.ReadFile(file)
		if err != nil {
			L.RaiseError("module %q: %v", name, err)
		}
		if err := check53(file, string(src)); err != nil {
			L.RaiseError("%v", err)
		}
		fn, err := L.Load(strings.NewReader(string(src)), file)
		if err != nil {
			L.RaiseError("module %q: %v", name, err)
		}
		L.Push(fn)
		L.Push(lua.LString(name))
		L.Call(1, 1)
		v := L.Get(-1)
		if v == lua.LNil {
			v = lua.LTrue
		}
		loaded.RawSetString(name, v)
		L.Push(v)
		return 1
	}
}

func findModule(name string, paths []string) (string, []string) {
	rel := strings.ReplaceAll(name, ".", string(filepath.Separator))
	var tried []string
	for _, p := range paths {
		for _, pat := range strings.Split(p, ";") {
			if pat == "" {
				continue
			}
			f := strings.ReplaceAll(pat, "?", rel)
			tried = append(tried, f)
			if st, err := os.Stat(f); err == nil && !st.IsDir() {
				return f, tried
			}
		}
	}
	return "", tried
}

// luaString renders a value passed to HAProxy (a header value, a status,
// a variable): whole numbers as integers (200, never 200.0), as HAProxy's
// Lua 5.3 does for integers.
func luaString(v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return numString(float64(x))
	case lua.LBool:
		if x {
			return "true"
		}
		return "false"
	case *lua.LNilType:
		return ""
	}
	return v.String()
}

func numString(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprintf("%.14g", f)
}
