package lua

import (
	"net/netip"

	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/scripting/luacompat"
)

// reqView is what `req` shows a script: the sanitised request, or in mode
// tcp only the client address.
type reqView struct {
	r   core.Request // nil in mode tcp
	src netip.AddrPort
	// req.src of the last address asked for, kept across calls: a
	// keep-alive client asks with the same address every time, and
	// formatting and boxing it cost two allocations.
	srcAddr netip.Addr
	srcVal  lua.LValue
}

// installReq creates the state's one req userdata; calls point it at their
// request (st.rv), so passing req costs no allocation.
func (st *state) installReq() {
	L := st.L
	// Methods are found in a table (no Go call to look them up); fields
	// fall through to that table's own __index, a Go function reading the
	// current request.
	methods := L.NewTable()
	methods.RawSetString("header", L.NewFunction(st.reqHeader))
	methods.RawSetString("cookie", L.NewFunction(st.reqCookie))
	methods.RawSetString("var", L.NewFunction(reqVar))
	methods.RawSetString("fetch", L.NewFunction(st.reqFetch))
	fields := L.NewTable()
	fields.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.Push(st.reqField(L.CheckString(2)))
		return 1
	}))
	L.SetMetatable(methods, fields)
	mt := L.NewTable()
	mt.RawSetString("__index", methods)
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("req is read-only")
		return 0
	}))
	mt.RawSetString("__metatable", lua.LString("req"))
	st.reqTab = methods
	st.req = L.NewUserData()
	st.req.Value = &st.rv
	st.req.Metatable = mt
}

func (st *state) pushReq(r core.Request, src netip.AddrPort) {
	st.rv.r, st.rv.src = r, src
	if r != nil {
		st.rv.src = r.Src()
	}
	if st.p.useSrc {
		// set for every call (nil deletes it): a table read for the
		// script instead of a Go call that boxes the key
		st.reqTab.RawSetString("src", st.rv.srcString())
	}
	st.L.Push(st.req)
}

// reqField is req.method, req.path, req.query, req.host, req.src, req.ssl.
func (st *state) reqField(key string) lua.LValue {
	r := st.rv.r
	switch key {
	case "src":
		return st.rv.srcString()
	case "ssl":
		return lua.LBool(r != nil && r.TLS())
	}
	if r == nil {
		return lua.LNil
	}
	switch key {
	case "method":
		return lua.LString(r.Method())
	case "path":
		return lua.LString(r.Path())
	case "query":
		return lua.LString(r.Query())
	case "uri":
		return lua.LString(r.URI())
	case "host":
		h, ok := r.Header("host")
		if !ok {
			return lua.LNil
		}
		return lua.LString(h)
	}
	return lua.LNil
}

// srcString is req.src: the client address as a string, or nil.
func (rv *reqView) srcString() lua.LValue {
	if !rv.src.IsValid() {
		return lua.LNil
	}
	a := rv.src.Addr().Unmap()
	if rv.srcVal == nil || a != rv.srcAddr {
		rv.srcAddr, rv.srcVal = a, lua.LString(a.String())
	}
	return rv.srcVal
}

// reqHeader is req:header(name): the first value, or nil.
func (st *state) reqHeader(L *lua.LState) int {
	name := L.CheckString(2)
	if st.rv.r == nil {
		L.Push(lua.LNil)
		return 1
	}
	v, ok := st.rv.r.Header(name)
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(v))
	return 1
}

// reqCookie is req:cookie(name): the value of the first cookie of that
// name in any Cookie header (req.cook), or nil. Names are case-sensitive.
func (st *state) reqCookie(L *lua.LState) int {
	name := L.CheckString(2)
	if r := st.rv.r; r != nil {
		if v, ok := sample.Cookie(r, name); ok {
			L.Push(lua.LString(v))
			return 1
		}
	}
	L.Push(lua.LNil)
	return 1
}

// reqVar is req:var(name): a process-wide variable (`proc.NAME`, set by
// the admin socket's `set var` or a lua-load script), or nil. Transaction
// variables are not visible to policies: they run before any rule that
// could set one.
func reqVar(L *lua.LState) int {
	name := L.CheckString(2)
	if !sample.IsProcVar(name) {
		L.Push(lua.LNil)
		return 1
	}
	v, ok := sample.ProcVar(name)
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(luacompat.FromSample(&v))
	return 1
}

// reqFetch is req:fetch("sample expression"): the sample as a string,
// number or boolean, or nil when there is none. A bad expression raises
// an error at the calling line.
func (st *state) reqFetch(L *lua.LState) int {
	text := L.CheckString(2)
	e, err := st.p.exprs.get(text, true)
	if err != nil {
		L.RaiseError("req:fetch(%q): %v", text, err)
	}
	sample.RequestCtx(&st.sctx, st.rv.r)
	if st.rv.r == nil {
		st.sctx.Src = st.rv.src
	}
	st.sctx.Frontend = st.p.spec.Proxy
	v, scr, ok := e.Eval(&st.sctx, st.scr[:0])
	st.scr = scr
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(luacompat.FromSample(&v))
	return 1
}
