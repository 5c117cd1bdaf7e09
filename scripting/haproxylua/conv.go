package haproxylua

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/scripting/luacompat"
)

// compiledConv is one txn.c:NAME(value, args...) converter with its
// arguments compiled, cached per state.
type compiledConv struct {
	c    *sample.Converter
	args sample.Args
}

// convObject is txn.c (strs false: native types, nil when the converter
// fails) or txn.sc (strings, "" on failure): txn.c:lower("ABC") runs the
// converter lower on the value "ABC".
func (v *vm) convObject(strs bool) *lua.LTable {
	L := v.L
	t := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(2)
		if _, ok := sample.LookupConverter(name); !ok {
			L.RaiseError("txn.c:%s: converter not supported by varde", name)
		}
		fn := L.NewFunction(func(L *lua.LState) int { return v.evalConv(L, name, strs) })
		t.RawSetString(name, fn)
		L.Push(fn)
		return 1
	}))
	L.SetMetatable(t, mt)
	return t
}

func (v *vm) compileConv(L *lua.LState, name string) *compiledConv {
	var key strings.Builder
	key.WriteString(name)
	var args []string
	for i := 3; i <= L.GetTop(); i++ {
		a := luaString(L.Get(i))
		args = append(args, a)
		key.WriteByte(0)
		key.WriteString(a)
	}
	if cc, ok := v.convs[key.String()]; ok {
		return cc
	}
	c, _ := sample.LookupConverter(name)
	cc := &compiledConv{c: c}
	if len(args) < c.MinArgs || len(args) > c.MaxArgs || len(args) > len(cc.args.Str) {
		L.RaiseError("txn.c:%s takes %d to %d argument(s), got %d", name, c.MinArgs, c.MaxArgs, len(args))
	}
	cc.args.N = len(args)
	copy(cc.args.Str[:], args)
	if c.Compile != nil {
		if err := c.Compile(args, &cc.args); err != nil {
			L.RaiseError("txn.c:%s: %v", name, err)
		}
	}
	if len(v.convs) >= maxCached {
		clear(v.convs)
	}
	v.convs[key.String()] = cc
	return cc
}

func (v *vm) evalConv(L *lua.LState, name string, strs bool) int {
	cc := v.compileConv(L, name)
	val := toSample(L.Get(2))
	scratch, ok := sample.Cast(&val, cc.c.In, v.scratch[:0])
	if ok {
		if cc.c.EvalCtx != nil {
			ok = false // lua.NAME converters are not reachable from Lua
		} else {
			scratch, ok = cc.c.Eval(&cc.args, &val, scratch)
		}
	}
	v.scratch = scratch
	L.Push(sampleResult(ok, strs, &val))
	return 1
}

// sampleResult is what txn.f/sf and txn.c/sc give Lua: the sample (as a
// string for the sf/sc forms), or the absent value of the form when
// there is none.
func sampleResult(ok, strs bool, val *sample.Value) lua.LValue {
	switch {
	case !ok:
		return absent(strs)
	case strs:
		return lua.LString(sample.AppendString(nil, val))
	default:
		return luacompat.FromSample(val)
	}
}
