package lua

import (
	"errors"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/scripting"
	"github.com/varde-lb/varde/scripting/luacompat"
)

// state is one Lua state of a policy with what a call reuses: the entry
// functions, the req userdata, the deadline, sample evaluation storage and
// the servers list of the last pool seen.
type state struct {
	p    *Policy
	L    *lua.LState
	fns  [4]*lua.LFunction
	req  *lua.LUserData
	rv   reqView
	dl   *scripting.Deadline
	sctx sample.Ctx
	scr  []byte

	calls   uint32 // calls made in this state, for sampling call times
	srvSnap *poolSnap
	srvList *lua.LTable
	srvRefs []*srvRef   // srvList's servers, in order
	reqTab  *lua.LTable // req's methods, where pushReq puts req.src
	srvUD   map[string]*lua.LUserData
	// srvByStatic finds a server from its static-field table (the live
	// fields' __index receives that table).
	srvByStatic map[*lua.LTable]*srvRef
	roNewIndex  *lua.LFunction
}

// newState builds a sandboxed state and runs the script's top level in it
// under loadTimeout.
func (p *Policy) newState() (*state, error) {
	L := luacompat.NewState(luacompat.Options{})
	st := &state{p: p, L: L, dl: scripting.NewDeadline()}
	L.SetContext(st.dl)
	st.installReq()
	st.installServerMeta()
	st.installHelpers()
	L.SetGlobal("shared", L.NewTable()) // filled by bindShared
	L.Push(L.NewFunctionFromProto(p.proto))
	st.dl.Arm(loadTimeout)
	err := L.PCall(0, 0, nil)
	fired := st.dl.Disarm()
	if fired {
		st.dl.Reset()
	}
	if err != nil {
		if fired {
			return nil, fmt.Errorf("%s: top-level code ran longer than %v", p.name, loadTimeout)
		}
		return nil, fmt.Errorf("%s", luaErr(err))
	}
	for i, n := range entryNames {
		switch v := L.GetGlobal(n).(type) {
		case *lua.LFunction:
			st.fns[i] = v
		case *lua.LNilType:
		default:
			return nil, fmt.Errorf("%s: %s is a %s, not a function", p.name, n, v.Type())
		}
	}
	return st, nil
}

// luaErr is an error's message without gopher-lua's stack traceback.
func luaErr(err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		msg := ae.Object.String()
		if i := strings.Index(msg, "\nstack traceback:"); i >= 0 {
			msg = msg[:i]
		}
		return msg
	}
	return err.Error()
}

func (p *Policy) get() *state {
	if p.closed.Load() {
		return nil
	}
	st, _ := p.pool.Get().(*state)
	return st
}

// call runs entry i with nargs arguments pushed by push and returns its
// first result. failed is "" on success, else the reason the call failed
// (scripting.Reason*): counted and logged here, noted on the request by
// the caller, which falls back to the built-in.
func (p *Policy) call(i int, push func(st *state) int) (v lua.LValue, failed string) {
	st := p.get()
	if st == nil {
		// Still a call the engine made and fell back from: counted. Past
		// the first state (loaded at compile), the only way to get none
		// while open is a new state's top-level code overrunning
		// loadTimeout on a loaded machine: a timeout.
		p.ent[i].Calls.Add(1)
		reason, err := scripting.ReasonTimeout, errors.New("no Lua state: creating one ran past its load deadline")
		if p.closed.Load() {
			reason, err = scripting.ReasonError, errors.New("no Lua state (policy closed)")
		}
		p.fail(i, reason, err)
		return nil, reason
	}
	// One call in timeEvery is timed (see scripting.Entry.Sample); a cut
	// call is recorded at its timeout.
	st.calls++
	var start time.Time
	timed := st.calls%timeEvery == 0
	if timed {
		start = time.Now()
	}
	keep, cut := true, false
	defer func() {
		if r := recover(); r != nil {
			keep, v, failed = false, nil, scripting.ReasonPanic
			p.fail(i, scripting.ReasonPanic, fmt.Errorf("%v", r))
		}
		e := p.ent[i]
		e.Calls.Add(1)
		switch {
		case cut:
			e.Sample(p.timeout)
		case timed:
			e.Sample(time.Since(start))
		}
		if keep {
			p.pool.Put(st)
		}
	}()
	L := st.L
	L.Push(st.fns[i])
	n := push(st)
	st.dl.Arm(p.timeout)
	err := L.PCall(n, 1, nil)
	fired := st.dl.Disarm()
	if fired {
		st.dl.Reset() // the state is dropped below unless the call had already returned
	}
	if err != nil {
		reason := scripting.ReasonError
		switch msg := err.Error(); {
		case fired:
			reason, keep, cut = scripting.ReasonTimeout, false, true
			err = fmt.Errorf("%s: %s exceeded its %v deadline", p.name, entryNames[i], p.timeout)
		case strings.Contains(msg, "sandbox") || strings.Contains(msg, "stack overflow") || strings.Contains(msg, "registry overflow"):
			reason, keep = scripting.ReasonMemory, false
			err = errors.New(luaErr(err))
		default:
			err = errors.New(luaErr(err))
		}
		L.SetTop(0)
		p.fail(i, reason, err)
		return nil, reason
	}
	v = L.Get(-1)
	L.Pop(1)
	return v, ""
}

// timeEvery is how often a call is timed for the p99 (1 in 8).
const timeEvery = 8

// fail counts and logs a call whose verdict the built-in replaces.
func (p *Policy) fail(i int, reason string, err error) {
	if e := p.ent[i]; e != nil {
		e.Error(reason)
	}
	p.errlog.Report(p.name, entryNames[i], reason, err)
	if p.hook != nil {
		p.hook(entryNames[i], reason, err)
	}
}

// declined counts a call that returned nil.
func (p *Policy) declined(i int) { p.ent[i].Declined.Add(1) }
