package luacompat

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core/sample"
)

// FromSample is a sample as Lua sees it, in both of varde's Lua engines
// (policies' req:fetch/req:var, lua-load's txn.f): an integer as a number,
// a boolean as a boolean, an address and anything else as a string.
func FromSample(s *sample.Value) lua.LValue {
	switch s.Type {
	case sample.TypeInt:
		return lua.LNumber(s.Int)
	case sample.TypeBool:
		return lua.LBool(s.Int != 0)
	case sample.TypeAddr:
		return lua.LString(s.Addr.String())
	}
	return lua.LString(s.Str)
}
