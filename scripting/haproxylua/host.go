// Package haproxylua runs HAProxy's lua-load scripts: the part of
// HAProxy's Lua API real scripts use (docs/haproxy-lua.md), on gopher-lua,
// behind core/proxy's ScriptHost and core/sample's Dynamic seams.
package haproxylua

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/proxy"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/scripting"
	"github.com/varde-lb/varde/scripting/luacompat"
)

// Deadlines: a Lua call runs on an event loop, so it is cut well before
// HAProxy's 4 s tune.lua.session-timeout would (HAProxy yields; varde
// cannot). Loading (bodies, register_init) may take longer.
const (
	defaultTimeout = 100 * time.Millisecond
	loadTimeout    = 5 * time.Second
)

type script struct {
	file string
	src  string
	args []string
}

// Host is one generation's loaded scripts: what they registered and a
// pool of states to run them.
type Host struct {
	scripts     []script
	paths       []string
	timeout     time.Duration
	loadTimeout time.Duration
	log         *slog.Logger
	cfg         *config.Config

	proto *vm // the state loaded at Prepare: registrations come from it

	// With any lua-load line, all scripts share one state under a lock,
	// as HAProxy's lua-load (its global variables are the same for every
	// request: a counter or rate limiter in a global table means what it
	// says). With lua-load-per-thread lines only, states are pooled (per
	// P, no lock), as HAProxy's per-thread states.
	// slot is the shared state's lock, a channel so that a call waits for
	// it at most its deadline (get): a slow script delays other calls, it
	// cannot queue them without bound.
	shared bool
	slot   chan struct{}
	closed bool // while holding slot
	pool   sync.Pool
	eng    atomic.Pointer[proxy.Engine]

	// Calls counts request-time calls; Errors the failed ones (logged at a
	// bounded rate: the first, then one per 10 s with the count).
	Calls  atomic.Uint64
	Errors atomic.Uint64
	errlog scripting.ErrorLog
}

var _ proxy.ScriptHost = (*Host)(nil)

// NewHost loads the scripts in a first state (the body context), which
// is where script errors and unsupported API surface, with file:line.
func NewHost(c *config.Config, log *slog.Logger) (*Host, []error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Host{timeout: defaultTimeout, loadTimeout: loadTimeout, log: log, cfg: c, slot: make(chan struct{}, 1)}
	for _, p := range c.Global.LuaPaths {
		h.paths = append([]string{p.Path}, h.paths...)
	}
	var errs []error
	for _, l := range c.Global.LuaLoad {
		src, err := readFile(l.File)
		if err != nil {
			errs = append(errs, fmt.Errorf("lua-load %s: %w", l.File, err))
			continue
		}
		bad := false
		if err := check53(l.File, src); err != nil {
			errs, bad = append(errs, err), true
		}
		if e := scanAPI(l.File, src, func(n string) bool { _, ok := fetchName(n); return ok }); len(e) > 0 {
			errs, bad = append(errs, e...), true
		}
		if e := checkRequires(l.File, src, h.paths); len(e) > 0 {
			errs, bad = append(errs, e...), true
		}
		if bad {
			continue
		}
		h.scripts = append(h.scripts, script{file: l.File, src: src, args: l.Args})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	v, err := newVM(h)
	if err != nil {
		return nil, []error{err}
	}
	h.proto = v
	for _, l := range c.Global.LuaLoad {
		h.shared = h.shared || !l.PerThread
	}
	if h.shared {
		return h, nil
	}
	h.pool.New = func() any {
		v, err := newVM(h)
		if err != nil {
			h.report("load", "state", err)
			return nil
		}
		return v
	}
	h.pool.Put(v)
	return h, nil
}

// Close releases the states' Lua memory (the pool drops the rest).
func (h *Host) Close() {
	if h.shared {
		h.slot <- struct{}{}
		if !h.closed {
			h.closed = true
			h.proto.L.Close()
		}
		<-h.slot
		return
	}
	h.pool.New = nil // Get must not load a new state now
	for {
		v, _ := h.pool.Get().(*vm)
		if v == nil {
			return
		}
		v.L.Close()
	}
}

// get returns a state for one call (nil: none, the call fails); put
// gives it back.
func (h *Host) get() *vm {
	if !h.shared {
		v, _ := h.pool.Get().(*vm)
		return v
	}
	if !h.acquire() {
		return nil
	}
	if h.closed {
		<-h.slot
		return nil
	}
	if h.proto.broken {
		// Only a Go panic breaks a state; its globals are lost with it.
		h.proto.L.Close()
		v, err := newVM(h)
		if err != nil {
			h.closed = true
			<-h.slot
			h.report("load", "state", err)
			return nil
		}
		h.proto = v
	}
	return h.proto
}

// acquire takes the shared state's lock, waiting at most the call
// deadline: past it the call fails as a timeout (counted and logged; the
// request is answered as after any Lua error).
func (h *Host) acquire() bool {
	select {
	case h.slot <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(h.timeout)
	defer t.Stop()
	select {
	case h.slot <- struct{}{}:
		return true
	case <-t.C:
		h.report("call", "lock", fmt.Errorf("waited %v for the shared Lua state (lua-load): another call held it", h.timeout))
		return false
	}
}

func (h *Host) put(v *vm) {
	v.cur, v.curCtx, v.app, v.isDone = nil, nil, nil, false
	if h.shared {
		<-h.slot
		return
	}
	if v.broken {
		v.L.Close()
		return
	}
	h.pool.Put(v)
}

// HasAction, HasService, HasFetch and HasConverter answer the check of the
// configuration's lua.NAME references.
func (h *Host) HasAction(name string, resp bool) (registered, kindOK bool) {
	r, ok := h.proto.actions[name]
	if !ok {
		return false, false
	}
	if resp {
		return true, r.res
	}
	return true, r.req
}

func (h *Host) HasService(name string) (registered, httpMode bool) {
	s, ok := h.proto.services[name]
	return ok, ok && s.mode == "http"
}

// ActionArgs is the number of arguments the action was registered with.
func (h *Host) ActionArgs(name string) int {
	if r := h.proto.actions[name]; r != nil {
		return r.nargs
	}
	return 0
}

func (h *Host) HasFetch(name string) bool     { _, ok := h.proto.fetches[name]; return ok }
func (h *Host) HasConverter(name string) bool { _, ok := h.proto.converters[name]; return ok }

// Names lists what the scripts registered, for hints.
func (h *Host) Names(kind string) []string {
	var out []string
	switch kind {
	case "action":
		for n := range h.proto.actions {
			out = append(out, n)
		}
	case "service":
		for n := range h.proto.services {
			out = append(out, n)
		}
	case "fetch":
		for n := range h.proto.fetches {
			out = append(out, n)
		}
	case "converter":
		for n := range h.proto.converters {
			out = append(out, n)
		}
	}
	return out
}

// Action binds a registered action to a rule's arguments.
func (h *Host) Action(name string, args []string, resp bool) (proxy.ScriptAction, error) {
	if reg, kind := h.HasAction(name, resp); !reg || !kind {
		return nil, fmt.Errorf("lua action %q is not registered for %s", name, map[bool]string{false: "http-req", true: "http-res"}[resp])
	}
	return &boundAction{h: h, name: name, args: args}, nil
}

type boundAction struct {
	h    *Host
	name string
	args []string
}

// Run calls the action; any failure is logged (bounded) and the rules go
// on, as HAProxy does after a Lua runtime error in an action.
func (a *boundAction) Run(t proxy.ScriptTxn) proxy.ScriptVerdict {
	v := a.h.get()
	if v == nil {
		return proxy.ScriptContinue
	}
	defer a.h.put(v)
	reg := v.actions[a.name]
	if reg == nil {
		return proxy.ScriptContinue
	}
	v.cur = t
	args := make([]lua.LValue, 0, 1+len(a.args))
	args = append(args, v.txn)
	for _, s := range a.args {
		args = append(args, lua.LString(s))
	}
	err := v.call(reg.fn, 1, args...)
	if v.isDone {
		return proxy.ScriptDone
	}
	if err != nil {
		a.h.report("action", a.name, err)
		return proxy.ScriptContinue
	}
	ret := v.L.Get(-1)
	v.L.Pop(1)
	n, ok := ret.(lua.LNumber)
	if !ok {
		return proxy.ScriptContinue
	}
	switch int(n) {
	case 1:
		return proxy.ScriptStop
	case 3, -1:
		return proxy.ScriptError
	case 4:
		return proxy.ScriptDone
	case 5:
		return proxy.ScriptDeny
	case 6:
		return proxy.ScriptAbort
	}
	return proxy.ScriptContinue
}

// Fetch evaluates a lua.NAME sample fetch.
func (h *Host) Fetch(c *sample.Ctx, name string, a *sample.Args, out *sample.Value) bool {
	v := h.get()
	if v == nil {
		return false
	}
	defer h.put(v)
	fn := v.fetches[strings.TrimPrefix(name, sample.DynamicPrefix)]
	if fn == nil {
		return false
	}
	v.curCtx = c
	args := []lua.LValue{v.txn}
	for i := 0; i < a.N; i++ {
		args = append(args, lua.LString(a.Str[i]))
	}
	if err := v.call(fn, 1, args...); err != nil {
		h.report("fetch", name, err)
		return false
	}
	ret := v.L.Get(-1)
	v.L.Pop(1)
	if ret == lua.LNil {
		return false
	}
	*out = toSample(ret)
	return true
}

// Convert runs a lua.NAME converter on v; new bytes go to scratch.
func (h *Host) Convert(c *sample.Ctx, name string, a *sample.Args, val *sample.Value, scratch []byte) ([]byte, bool) {
	v := h.get()
	if v == nil {
		return scratch, false
	}
	defer h.put(v)
	fn := v.converters[strings.TrimPrefix(name, sample.DynamicPrefix)]
	if fn == nil {
		return scratch, false
	}
	args := []lua.LValue{luacompat.FromSample(val)}
	for i := 0; i < a.N; i++ {
		args = append(args, lua.LString(a.Str[i]))
	}
	if err := v.call(fn, 1, args...); err != nil {
		h.report("converter", name, err)
		return scratch, false
	}
	ret := v.L.Get(-1)
	v.L.Pop(1)
	if ret == lua.LNil {
		return scratch, false
	}
	s := toSample(ret)
	if s.Type == sample.TypeStr {
		start := len(scratch)
		scratch = append(scratch, s.Str...)
		s.Str = scratch[start:]
	}
	*val = s
	return scratch, true
}

// report logs a request-time script failure at a bounded rate (the
// policies' bound: the first, then one line per 10 s with the count).
func (h *Host) report(kind, name string, err error) {
	h.Errors.Add(1)
	if n, ok := h.errlog.Allow(); ok {
		h.log.Warn("lua runtime error", "kind", kind, "name", name, "err", cleanErr(err), "suppressed_since_last", n)
	}
}

// scriptLog is core.Info & co: HAProxy sends them to its logs and stderr.
func (h *Host) scriptLog(level, msg string) {
	switch level {
	case "debug":
		h.log.Debug(msg, "source", "lua")
	case "info", "notice":
		h.log.Info(msg, "source", "lua")
	case "warning":
		h.log.Warn(msg, "source", "lua")
	default:
		h.log.Error(msg, "source", "lua", "level", level)
	}
}

// Service returns the handler of a registered http service.
func (h *Host) Service(name string) (http.Handler, error) {
	if ok, isHTTP := h.HasService(name); !ok || !isHTTP {
		return nil, fmt.Errorf("lua service %q is not registered in http mode", name)
	}
	return &appletHandler{h: h, name: name}, nil
}
