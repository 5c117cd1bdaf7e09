package lua

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/scripting/luacompat"
)

// poolSnap is the pool choose_server sees (Update), with its servers by
// name for checking the verdict.
type poolSnap struct {
	servers []*core.Server
	byName  map[string]*core.Server
}

// installServerMeta registers the metatable of the live fields: they are
// read from the core.Server when the script asks, so an unread field costs
// nothing. The fields that never change (name, backend, backup) sit in a
// per-server table found without a Go call (newServerUD).
func (st *state) installServerMeta() {
	L := st.L
	live := L.NewTypeMetatable("varde.server")
	live.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		r := st.srvByStatic[L.CheckTable(1)]
		if r == nil {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(r.field(L.CheckString(2)))
		return 1
	}))
	st.roNewIndex = L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("servers are read-only")
		return 0
	})
}

// newServerUD is a server of the servers list: a userdata whose metatable
// indexes a table of the static fields, itself falling back to the live
// ones.
func (st *state) newServerUD(s *core.Server) *lua.LUserData {
	L := st.L
	r := &srvRef{s: s, name: lua.LString(s.Name)}
	static := L.CreateTable(0, 3+len(st.p.live))
	r.static = static
	static.RawSetString("name", r.name)
	static.RawSetString("backend", lua.LString(s.Backend))
	static.RawSetString("backup", lua.LBool(s.Backup))
	L.SetMetatable(static, L.GetTypeMetatable("varde.server"))
	mt := L.CreateTable(0, 3)
	mt.RawSetString("__index", static)
	mt.RawSetString("__newindex", st.roNewIndex)
	mt.RawSetString("__metatable", lua.LString("server"))
	if st.srvByStatic == nil {
		st.srvByStatic = map[*lua.LTable]*srvRef{}
	}
	st.srvByStatic[static] = r
	ud := L.NewUserData()
	ud.Value, ud.Metatable = r, mt
	return ud
}

// srvRef is a server of the servers list, with its name already boxed
// (the field scripts read most).
type srvRef struct {
	s      *core.Server
	name   lua.LValue
	static *lua.LTable
	// the live fields last copied into static (refresh)
	seen  [len(liveFields)]float64
	boxed [len(liveFields)]lua.LValue
}

// liveFields are the fields that change while a pool stands.
var liveFields = [...]string{"active", "weight", "rtime", "maxconn", "queue", "up"}

const liveUp = 5 // index of "up", the boolean one

// liveValue is live field i as a number (up: 1 or 0).
func (r *srvRef) liveValue(i int) float64 {
	s := r.s
	switch i {
	case 0:
		return float64(s.Active.Load())
	case 1:
		return float64(s.Weight())
	case 2:
		return float64(s.RTime.Load()) / 1e6
	case 3:
		return float64(s.MaxConn())
	case 4:
		return float64(s.Queued.Load())
	}
	if s.IsUp() {
		return 1
	}
	return 0
}

// refresh copies the live fields the script names (Policy.live) into the
// server's static table at the start of a call, so `s.active` is a table
// read instead of a Go call (which also boxes the key: an allocation). A
// value is re-boxed only when it changed. Fields the script does not name
// as constants (s[k]) are still read by the Go __index.
func (r *srvRef) refresh(used []int) {
	for _, i := range used {
		v := r.liveValue(i)
		if r.boxed[i] != nil && v == r.seen[i] {
			continue
		}
		var lv lua.LValue
		switch {
		case i == liveUp:
			lv = lua.LBool(v != 0)
		case v == float64(int(v)):
			lv = luacompat.Int(int(v))
		default:
			lv = lua.LNumber(v)
		}
		r.seen[i], r.boxed[i] = v, lv
		r.static.RawSetString(liveFields[i], lv)
	}
}

// liveUsed lists the live fields whose names appear as string constants
// anywhere in the script.
func liveUsed(proto *lua.FunctionProto) []int {
	names := map[string]bool{}
	constStrings(proto, names)
	var used []int
	for i, f := range liveFields {
		if names[f] {
			used = append(used, i)
		}
	}
	return used
}

func constStrings(proto *lua.FunctionProto, into map[string]bool) {
	for _, c := range proto.Constants {
		if s, ok := c.(lua.LString); ok {
			into[string(s)] = true
		}
	}
	for _, f := range proto.FunctionPrototypes {
		constStrings(f, into)
	}
}

// field reads one field live from the server; only what is asked is read.
func (r *srvRef) field(key string) lua.LValue {
	s := r.s
	switch key {
	case "name":
		return r.name
	case "active":
		return lua.LNumber(s.Active.Load())
	case "weight":
		return lua.LNumber(s.Weight())
	case "rtime":
		return lua.LNumber(float64(s.RTime.Load()) / 1e6)
	case "maxconn":
		return lua.LNumber(s.MaxConn())
	case "queue":
		return lua.LNumber(s.Queued.Load())
	case "up":
		return lua.LBool(s.IsUp())
	case "backup":
		return lua.LBool(s.Backup)
	}
	return serverField(s.View(), key)
}

// serverField is one field of a server as scripts see it.
func serverField(v core.ServerView, key string) lua.LValue {
	switch key {
	case "name":
		return lua.LString(v.Name)
	case "backend":
		return lua.LString(v.Backend)
	case "weight":
		return lua.LNumber(v.Weight)
	case "up":
		return lua.LBool(v.Up)
	case "admin":
		return lua.LString(v.Admin.String())
	case "backup":
		return lua.LBool(v.Backup)
	case "active":
		return lua.LNumber(v.Active)
	case "queue":
		return lua.LNumber(v.Queued)
	case "maxconn":
		return lua.LNumber(v.MaxConn)
	case "rtime":
		return lua.LNumber(float64(v.RTime) / 1e6) // milliseconds
	}
	return lua.LNil
}

// serverFields lists what serverField answers, for tables built from a view.
var serverFields = []string{"name", "backend", "weight", "up", "admin", "backup", "active", "queue", "maxconn", "rtime"}

// pushServers pushes the list of the current pool, rebuilt only when the
// pool changed since this state last built it.
func (st *state) pushServers(snap *poolSnap) {
	if st.srvSnap != snap || st.srvList == nil {
		L := st.L
		if st.srvUD == nil {
			st.srvUD = map[string]*lua.LUserData{}
		}
		t := L.CreateTable(len(snap.servers), 0)
		st.srvRefs = st.srvRefs[:0]
		for i, s := range snap.servers {
			ud := st.srvUD[s.Name]
			if r, _ := udRef(ud); r == nil || r.s != s {
				if r != nil {
					delete(st.srvByStatic, ud.Metatable.(*lua.LTable).RawGetString("__index").(*lua.LTable))
				}
				ud = st.newServerUD(s)
				st.srvUD[s.Name] = ud
			}
			t.RawSetInt(i+1, ud)
			r, _ := udRef(ud)
			st.srvRefs = append(st.srvRefs, r)
		}
		st.srvList, st.srvSnap = t, snap
	}
	if len(st.p.live) > 0 {
		for _, r := range st.srvRefs {
			r.refresh(st.p.live)
		}
	}
	st.L.Push(st.srvList)
}

// viewTable is a plain table of a server view (health's server argument).
func viewTable(L *lua.LState, v core.ServerView) *lua.LTable {
	t := L.CreateTable(0, len(serverFields))
	for _, f := range serverFields {
		t.RawSetString(f, serverField(v, f))
	}
	return t
}

func udRef(ud *lua.LUserData) (*srvRef, bool) {
	if ud == nil {
		return nil, false
	}
	r, ok := ud.Value.(*srvRef)
	return r, ok
}

// namesConst reports whether the script has the string constant name.
func namesConst(proto *lua.FunctionProto, name string) bool {
	names := map[string]bool{}
	constStrings(proto, names)
	return names[name]
}
