package haproxylua

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core/proxy"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/scripting"
)

// vm is one Lua state with every lua-load script loaded in it. A state
// runs one call at a time: the host shares one under a lock (lua-load) or
// pools them (lua-load-per-thread only).
type vm struct {
	h *Host
	L *lua.LState

	actions    map[string]*actionReg
	fetches    map[string]*lua.LFunction
	converters map[string]*lua.LFunction
	services   map[string]*serviceReg
	inits      []*lua.LFunction
	loading    bool // register_* are allowed only in the body context

	// The transaction of the call in progress, and the objects reused
	// for each call (txn, txn.http, txn.f, txn.sf).
	cur     proxy.ScriptTxn
	curCtx  *sample.Ctx // fetch context (read only) when cur is nil
	txn     *lua.LTable
	ctx     sample.Ctx
	scratch []byte
	exprs   map[string]*sample.Expr
	convs   map[string]*compiledConv
	app     *appletCall
	isDone  bool
	broken  bool                // saw a Go panic: closed instead of reused
	dl      *scripting.Deadline // the context of the state's calls
	sockets []*luaSocket        // opened by the call in progress
}

type actionReg struct {
	fn       *lua.LFunction
	req, res bool
	nargs    int
}

type serviceReg struct {
	fn   *lua.LFunction
	mode string
}

// newVM builds a state and runs every script body, then the
// register_init functions, as HAProxy does after parsing the
// configuration.
func newVM(h *Host) (*vm, error) {
	v := &vm{h: h, L: newSandbox(h.paths), actions: map[string]*actionReg{}, fetches: map[string]*lua.LFunction{},
		converters: map[string]*lua.LFunction{}, services: map[string]*serviceReg{}, exprs: map[string]*sample.Expr{}, convs: map[string]*compiledConv{}}
	v.dl = scripting.NewDeadline()
	v.installCore()
	v.txn = v.newTxnObject()
	v.loading = true
	ctx, cancel := context.WithTimeout(context.Background(), h.loadTimeout)
	defer cancel()
	v.L.SetContext(ctx)
	defer v.L.RemoveContext()
	for _, s := range h.scripts {
		fn, err := v.L.Load(strings.NewReader(s.src), s.file)
		if err != nil {
			v.L.Close()
			return nil, fmt.Errorf("%s", cleanErr(err))
		}
		v.L.Push(fn)
		for _, a := range s.args {
			v.L.Push(lua.LString(a))
		}
		if err := v.L.PCall(len(s.args), 0, nil); err != nil {
			v.L.Close()
			return nil, fmt.Errorf("%s", cleanErr(err))
		}
	}
	v.loading = false
	for _, fn := range v.inits {
		if err := v.L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}); err != nil {
			v.L.Close()
			return nil, fmt.Errorf("register_init: %s", cleanErr(err))
		}
	}
	return v, nil
}

// cleanErr keeps the first line of a Lua error (file:line: message),
// without gopher-lua's stack traceback.
func cleanErr(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\nstack traceback:"); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimPrefix(msg, "<string>:")
}

// call runs fn under the host's deadline, with the state's transaction set
// for its duration.
func (v *vm) call(fn *lua.LFunction, nret int, args ...lua.LValue) error {
	v.h.Calls.Add(1)
	// The shared watchdog deadline (scripting.Deadline): no timer per call.
	v.dl.Arm(v.h.timeout)
	v.L.SetContext(v.dl)
	err := v.L.CallByParam(lua.P{Fn: fn, NRet: nret, Protect: true}, args...)
	v.closeSockets()
	if v.dl.Disarm() {
		// The call was cut (a Lua error unwound it): only this state's
		// goroutine reads Done, so the deadline can be rearmed.
		v.dl.Reset()
	}
	v.L.RemoveContext()
	if err != nil {
		v.L.SetTop(0) // what the failed call left
		if ae, ok := err.(*lua.ApiError); ok && ae.Type == lua.ApiErrorPanic {
			v.broken = true // a Go panic inside: do not trust the state
		}
	}
	return err
}

func (v *vm) installCore() {
	L := v.L
	core := L.NewTable()
	L.SetFuncs(core, map[string]lua.LGFunction{
		"register_action":     v.registerAction,
		"register_fetches":    v.registerNamed("register_fetches", v.fetches),
		"register_converters": v.registerNamed("register_converters", v.converters),
		"register_service":    v.registerService,
		"register_init":       v.registerInit,
		"Debug":               v.logAt("debug"),
		"Info":                v.logAt("info"),
		"Warning":             v.logAt("warning"),
		"Alert":               v.logAt("alert"),
		"log":                 v.coreLog,
		"now":                 coreNow,
		"tokenize":            coreTokenize,
		"sleep":               v.sleep(time.Second),
		"msleep":              v.sleep(time.Millisecond),
		"yield":               func(*lua.LState) int { return 0 },
		"tcp":                 v.coreTCP,
	})
	for i, n := range []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"} {
		core.RawSetString(n, lua.LNumber(i))
	}
	core.RawSetString("thread", lua.LNumber(0))
	core.RawSetString("backends", v.backendsTable())
	strictTable(L, core, "core.")
	L.SetGlobal("core", core)
	act := L.NewTable()
	for i, n := range []string{"CONTINUE", "STOP", "YIELD", "ERROR", "DONE", "DENY", "ABORT", "INVALID"} {
		act.RawSetString(n, lua.LNumber(i))
	}
	act.RawSetString("INVALID", lua.LNumber(-1))
	strictTable(L, act, "act.")
	L.SetGlobal("act", act)
}

// strictTable makes reading a missing member of t an error naming it: a
// script calling an API varde lacks fails loudly (at check when in the
// body), never with "attempt to call a nil value".
func strictTable(L *lua.LState, t *lua.LTable, prefix string) {
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s%s is not supported by varde's HAProxy Lua API (docs/haproxy-lua.md)", prefix, luaString(L.Get(2)))
		return 0
	}))
	L.SetMetatable(t, mt)
}

func (v *vm) checkLoading(fn string) {
	if !v.loading {
		v.L.RaiseError("core.%s can only be called while the script loads (body context)", fn)
	}
}

func (v *vm) registerAction(L *lua.LState) int {
	v.checkLoading("register_action")
	name := L.CheckString(1)
	kinds := L.CheckTable(2)
	fn := L.CheckFunction(3)
	r := &actionReg{fn: fn, nargs: L.OptInt(4, 0)}
	var bad string
	kinds.ForEach(func(_, k lua.LValue) {
		switch luaString(k) {
		case "http-req":
			r.req = true
		case "http-res":
			r.res = true
		case "tcp-req", "tcp-res", "http-after-res":
			// Registering is harmless; varde has no rule that could use
			// them (tcp-request, http-after-response are refused).
		default:
			bad = luaString(k)
		}
	})
	if bad != "" {
		L.ArgError(2, fmt.Sprintf("unknown action kind %q (http-req, http-res, tcp-req, tcp-res, http-after-res)", bad))
	}
	v.actions[name] = r
	return 0
}

func (v *vm) registerNamed(what string, into map[string]*lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		v.checkLoading(what)
		into[L.CheckString(1)] = L.CheckFunction(2)
		return 0
	}
}

func (v *vm) registerService(L *lua.LState) int {
	v.checkLoading("register_service")
	name := L.CheckString(1)
	mode := L.CheckString(2)
	if mode != "http" && mode != "tcp" {
		L.ArgError(2, "mode must be http or tcp")
	}
	v.services[name] = &serviceReg{fn: L.CheckFunction(3), mode: mode}
	return 0
}

func (v *vm) registerInit(L *lua.LState) int {
	v.checkLoading("register_init")
	v.inits = append(v.inits, L.CheckFunction(1))
	return 0
}

func (v *vm) logAt(level string) lua.LGFunction {
	return func(L *lua.LState) int {
		v.h.scriptLog(level, luaString(L.Get(1)))
		return 0
	}
}

func (v *vm) coreLog(L *lua.LState) int {
	lvl := L.CheckInt(1)
	names := []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}
	level := "info"
	if lvl >= 0 && lvl < len(names) {
		level = names[lvl]
	}
	v.h.scriptLog(level, luaString(L.Get(2)))
	return 0
}

// coreNow is core.now(): {sec=..., usec=...}.
func coreNow(L *lua.LState) int {
	now := time.Now()
	t := L.NewTable()
	t.RawSetString("sec", lua.LNumber(now.Unix()))
	t.RawSetString("usec", lua.LNumber(now.Nanosecond()/1000))
	L.Push(t)
	return 1
}

// coreTokenize is core.tokenize(str, separators [, noblank]).
func coreTokenize(L *lua.LState) int {
	s := L.CheckString(1)
	seps := L.CheckString(2)
	noblank := L.OptBool(3, false)
	t := L.NewTable()
	n := 0
	start := 0
	emit := func(p string) {
		if noblank && p == "" {
			return
		}
		n++
		t.RawSetInt(n, lua.LString(p))
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(seps, s[i]) >= 0 {
			emit(s[start:i])
			start = i + 1
		}
	}
	emit(s[start:])
	L.Push(t)
	return 1
}

// sleep is core.sleep/core.msleep. The call blocks its event loop, so it
// is bounded by the call's deadline: a sleep that would outlast it fails
// the call (the deadline error names it).
func (v *vm) sleep(unit time.Duration) lua.LGFunction {
	return func(L *lua.LState) int {
		d := time.Duration(L.CheckNumber(1) * lua.LNumber(unit))
		if left, ok := v.dl.Remaining(); ok && left < d {
			L.RaiseError("core.sleep/msleep of %v exceeds the Lua call deadline (%v): varde runs Lua on its event loops", d, v.h.timeout)
		}
		time.Sleep(d)
		return 0
	}
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
