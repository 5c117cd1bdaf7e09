package haproxylua

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/scripting/luacompat"
)

// newSandbox is the one place a Lua state is made: luacompat's sandbox
// (base, string, table and math only; no io, os, debug, package, load*;
// the Lua 5.3 library functions; bounded patterns and string.rep), plus
// print and a require limited to the lua-prepend-path directories.
func newSandbox(paths []string) *lua.LState {
	L := luacompat.NewState(luacompat.Options{CallStackSize: 256, RegistryMax: 1024 * 256, MaxString: maxRep})
	// HAProxy's Lua prints to its standard output; scripts use print for
	// traces, so it stays (luacompat drops it from policy sandboxes).
	L.SetGlobal("print", L.NewFunction(luaPrint))
	L.SetGlobal("require", L.NewFunction(requireIn(paths)))
	return L
}

// luaPrint writes its arguments to standard output, tab-separated, as
// Lua's print.
func luaPrint(L *lua.LState) int {
	var b strings.Builder
	for i := 1; i <= L.GetTop(); i++ {
		if i > 1 {
			b.WriteByte('\t')
		}
		b.WriteString(L.ToStringMeta(L.Get(i)).String())
	}
	b.WriteByte('\n')
	os.Stdout.WriteString(b.String())
	return 0
}

// maxRep bounds string.rep's result.
const maxRep = 64 << 20

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
