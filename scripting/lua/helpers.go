package lua

import (
	"time"

	"github.com/cespare/xxhash/v2"
	lua "github.com/yuin/gopher-lua"
)

// installHelpers adds the `varde` table: what a policy needs that the
// sandbox removed (a clock) or that is slow to write in Lua (a hash).
//
//	varde.now()    -> seconds since the Unix epoch, with sub-second digits
//	varde.hash(s)  -> a stable 32-bit hash of s (xxhash64's low bits), for
//	                  percentages and buckets: varde.hash(uid) % 100
func (st *state) installHelpers() {
	L := st.L
	t := L.NewTable()
	t.RawSetString("now", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(float64(time.Now().UnixNano()) / 1e9))
		return 1
	}))
	t.RawSetString("hash", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(xxhash.Sum64String(L.CheckString(1)) & 0xffffffff))
		return 1
	}))
	L.SetMetatable(t, readOnlyMeta(L))
	L.SetGlobal("varde", t)
}
