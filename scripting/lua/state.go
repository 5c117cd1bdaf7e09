package lua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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
	dl   *deadline
	sctx sample.Ctx
	scr  []byte

	srvSnap *poolSnap
	srvList *lua.LTable
	srvUD   map[string]*lua.LUserData
}

// newState builds a sandboxed state and runs the script's top level in it
// under loadTimeout.
func (p *Policy) newState() (*state, error) {
	L := luacompat.NewState(luacompat.Options{})
	st := &state{p: p, L: L, dl: newDeadline()}
	L.SetContext(st.dl)
	st.installReq()
	st.installServerMeta()
	st.installHelpers()
	L.SetGlobal("shared", L.NewTable()) // filled by bindShared
	L.Push(L.NewFunctionFromProto(p.proto))
	st.dl.arm(loadTimeout)
	err := L.PCall(0, 0, nil)
	fired := st.dl.disarm()
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
// first result. ok is false when the call failed: the reason is counted
// and logged, and the caller falls back to the built-in.
func (p *Policy) call(i int, push func(st *state) int) (v lua.LValue, ok bool) {
	st := p.get()
	if st == nil {
		p.fail(i, scripting.ReasonError, errors.New("no Lua state (policy closed or failed to load)"))
		return nil, false
	}
	start := time.Now()
	keep := true
	defer func() {
		if r := recover(); r != nil {
			keep, ok = false, false
			p.fail(i, scripting.ReasonPanic, fmt.Errorf("%v", r))
		}
		p.ent[i].Observe(time.Since(start))
		if keep {
			p.pool.Put(st)
		}
	}()
	L := st.L
	L.Push(st.fns[i])
	n := push(st)
	st.dl.arm(p.timeout)
	err := L.PCall(n, 1, nil)
	fired := st.dl.disarm()
	if err != nil {
		reason := scripting.ReasonError
		switch msg := err.Error(); {
		case fired:
			reason, keep = scripting.ReasonTimeout, false
			err = fmt.Errorf("%s: %s exceeded its %v deadline", p.name, entryNames[i], p.timeout)
		case strings.Contains(msg, "sandbox") || strings.Contains(msg, "stack overflow") || strings.Contains(msg, "registry overflow"):
			reason, keep = scripting.ReasonMemory, false
			err = errors.New(luaErr(err))
		default:
			err = errors.New(luaErr(err))
		}
		L.SetTop(0)
		p.fail(i, reason, err)
		return nil, false
	}
	v = L.Get(-1)
	L.Pop(1)
	return v, true
}

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

// deadline is the context a state's VM polls before every instruction
// (gopher-lua's SetContext). One per state, reused by every call: arming
// resets a timer, disarming stops it, and the channel is replaced only
// after it fired, so a call costs no allocation.
type deadline struct {
	mu    sync.Mutex
	ch    chan struct{}
	t     *time.Timer
	at    time.Time
	armed bool
	fired bool
}

func newDeadline() *deadline {
	d := &deadline{ch: make(chan struct{})}
	d.t = time.AfterFunc(time.Hour, d.fire)
	d.t.Stop()
	return d
}

func (d *deadline) arm(timeout time.Duration) {
	d.mu.Lock()
	d.at, d.armed = time.Now().Add(timeout), true
	d.mu.Unlock()
	d.t.Reset(timeout)
}

// fire cuts the running call. A stale fire (from an earlier arm that raced
// with Stop) arrives before the current deadline and is ignored; the timer
// was reset and fires again.
func (d *deadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.armed && !d.fired && !time.Now().Before(d.at) {
		d.fired = true
		close(d.ch)
	}
}

// disarm ends a call and reports whether the deadline cut it.
func (d *deadline) disarm() bool {
	d.t.Stop()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.armed = false
	fired := d.fired
	if fired {
		d.ch, d.fired = make(chan struct{}), false
	}
	return fired
}

func (d *deadline) Deadline() (time.Time, bool) { return d.at, true }
func (d *deadline) Done() <-chan struct{}       { return d.ch }
func (d *deadline) Value(any) any               { return nil }
func (d *deadline) Err() error {
	select {
	case <-d.ch:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
