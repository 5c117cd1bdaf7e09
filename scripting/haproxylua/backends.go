package haproxylua

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core"
)

// backendsTable is core.backends: name -> {name=, servers={name -> server}},
// from the configuration; server:get_stats() reads the running engine's
// counters once it started (before that: the configured values).
func (v *vm) backendsTable() *lua.LTable {
	L := v.L
	t := L.NewTable()
	if v.h.cfg == nil {
		return t
	}
	for _, p := range v.h.cfg.Backends {
		pt := L.NewTable()
		pt.RawSetString("name", lua.LString(p.Name))
		servers := L.NewTable()
		for i, s := range p.Servers {
			servers.RawSetString(s.Name, v.serverObject(p.Name, s.Name, s.Address.Raw, i+1))
		}
		pt.RawSetString("servers", servers)
		t.RawSetString(p.Name, pt)
	}
	return t
}

// serverObject is a Server: the name and puid fields of HAProxy 2.6,
// get_addr, get_stats, and get_name (HAProxy 2.8's, for newer scripts).
func (v *vm) serverObject(backend, name, addr string, puid int) *lua.LTable {
	L := v.L
	s := L.NewTable()
	s.RawSetString("name", lua.LString(name))
	s.RawSetString("puid", lua.LNumber(puid))
	L.SetFuncs(s, map[string]lua.LGFunction{
		"get_name": func(L *lua.LState) int { L.Push(lua.LString(name)); return 1 },
		"get_addr": func(L *lua.LState) int {
			if cs := v.h.server(backend, name); cs != nil && cs.Address().IsValid() {
				L.Push(lua.LString(cs.Address().String()))
				return 1
			}
			L.Push(lua.LString(addr))
			return 1
		},
		"get_stats": func(L *lua.LState) int {
			st := L.NewTable()
			st.RawSetString("pxname", lua.LString(backend))
			st.RawSetString("svname", lua.LString(name))
			if cs := v.h.server(backend, name); cs != nil {
				st.RawSetString("status", lua.LString(cs.StateString()))
				st.RawSetString("weight", lua.LNumber(cs.Weight()))
				st.RawSetString("scur", lua.LNumber(cs.Active.Load()))
				st.RawSetString("smax", lua.LNumber(cs.MaxActive.Load()))
				st.RawSetString("stot", lua.LNumber(cs.Total.Load()))
				st.RawSetString("qcur", lua.LNumber(cs.Queued.Load()))
				st.RawSetString("slim", lua.LNumber(cs.MaxConn()))
				st.RawSetString("bin", lua.LNumber(cs.BytesIn.Load()))
				st.RawSetString("bout", lua.LNumber(cs.BytesOut.Load()))
			}
			L.Push(st)
			return 1
		},
	})
	strictTable(L, s, "server:")
	return s
}

// server finds a running server, nil before the engine started.
func (h *Host) server(backend, name string) *core.Server {
	e := h.eng.Load()
	if e == nil {
		return nil
	}
	b := e.Backend(backend)
	if b == nil {
		return nil
	}
	for _, s := range b.Pool().Servers() {
		if s.Name == name {
			return s
		}
	}
	return nil
}
