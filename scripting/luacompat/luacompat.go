// Package luacompat is varde's Lua sandbox and Lua 5.3 compatibility layer
// over gopher-lua (a Lua 5.1 implementation). Policies (scripting/lua) and
// HAProxy `lua-load` scripts use it the same way:
//
//	proto, err := luacompat.Compile(src, "canary.lua") // once per generation
//	L := luacompat.NewState(luacompat.Options{})        // per pooled state
//	L.Push(L.NewFunctionFromProto(proto))
//	err = L.PCall(0, lua.MultRet, nil)
//
// The API is these two functions, Options and Check53; everything else is
// unexported on purpose.
//
// Sandbox: only the base, string, table and math libraries are opened, and
// from base the functions that reach the file system, load code at run time
// or print to varde's stdout are removed (dofile, loadfile, load,
// loadstring, require, module, print, collectgarbage, getfenv, setfenv,
// newproxy, _printregs, string.dump). io, os, debug, package, channel and
// coroutine are not opened.
//
// Compatibility: table.pack, table.unpack, math.tointeger, math.type,
// math.maxinteger/mininteger, string.format with Lua 5.3's width and
// integer rules, string.rep with a separator and a bounded result, and
// string.find/match/gmatch/gsub on a matcher of our own with Lua 5.3's
// semantics (gmatch and gsub skip an empty match right after the previous
// one) and a step budget: gopher-lua's backtracking matcher runs inside
// one Go call where no deadline can stop a pathological pattern.
// Lua 5.3-only syntax (integer division //, bitwise operators, goto) is
// refused by Compile with file:line rather than misparsed.
package luacompat

import (
	"bytes"
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Options bound a state. Zero values take the defaults below.
type Options struct {
	// CallStackSize bounds nested Lua calls (recursion depth).
	CallStackSize int
	// RegistryMax bounds the value stack (registers) a state may grow to.
	RegistryMax int
	// MaxString bounds the result of string.rep and string.format.
	MaxString int
	// PatternSteps bounds the work of one string.find, match, gsub or
	// gmatch step (DefaultPatternSteps).
	PatternSteps int
}

// Defaults for Options.
const (
	DefaultCallStack   = 200
	DefaultRegistryMax = 64 * 1024
	DefaultMaxString   = 1 << 20
)

func (o Options) withDefaults() Options {
	if o.CallStackSize <= 0 {
		o.CallStackSize = DefaultCallStack
	}
	if o.RegistryMax <= 0 {
		o.RegistryMax = DefaultRegistryMax
	}
	if o.MaxString <= 0 {
		o.MaxString = DefaultMaxString
	}
	if o.PatternSteps <= 0 {
		o.PatternSteps = DefaultPatternSteps
	}
	return o
}

// removed are the base functions a sandboxed script must not reach.
var removed = []string{"dofile", "loadfile", "load", "loadstring", "require", "module", "print",
	"collectgarbage", "getfenv", "setfenv", "newproxy", "_printregs", "_GOPHER_LUA_VERSION"}

// NewState returns a sandboxed state with the compatibility functions.
func NewState(o Options) *lua.LState {
	o = o.withDefaults()
	L := lua.NewState(lua.Options{
		SkipOpenLibs:    true,
		CallStackSize:   o.CallStackSize,
		RegistrySize:    1024,
		RegistryMaxSize: o.RegistryMax,
		// grow in large steps: growing by the default 32 slots up to the
		// maximum copies the stack thousands of times inside one Go call
		RegistryGrowStep: 4096,
	})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	for _, name := range removed {
		g.RawSetString(name, lua.LNil)
	}
	g.RawSetString("_VERSION", lua.LString("Lua 5.3"))
	addCompat(L, o)
	return L
}

// Compile checks src for Lua 5.3-only syntax, parses and compiles it. The
// result is immutable and may be shared by every state of a generation
// (L.NewFunctionFromProto). Errors name the file and line.
func Compile(src []byte, name string) (*lua.FunctionProto, error) {
	if err := Check53(src, name); err != nil {
		return nil, err
	}
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		var pe *parse.Error
		if errors.As(err, &pe) {
			if pe.Pos.Line == parse.EOF {
				return nil, fmt.Errorf("%s: at end of file: %s", name, pe.Message)
			}
			return nil, fmt.Errorf("%s:%d: near '%s': %s", name, pe.Pos.Line, pe.Token, pe.Message)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		var ce *lua.CompileError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("%s:%d: %s", name, ce.Line, ce.Message)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return proto, nil
}
