package wasm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/scripting"
)

// instance is one module instance and the state of the call it is in.
// Only one goroutine uses an instance at a time (the pool hands it out),
// so none of this is locked.
type instance struct {
	p     *Policy
	mod   api.Module
	mem   api.Memory
	fn    [nEntries]api.Function
	stack []uint64

	// The call's context: wazero watches Done (WithCloseOnContextDone) and
	// host functions find the instance through it, with no allocation.
	// Its deadline is closed by scripting's watchdog when a call overruns
	// (no timer per call: resetting and stopping one cost 0.15-0.3 us of
	// a constant-answering module's ~1.2 us call).
	ctx callCtx
	dl  *scripting.Deadline

	// What the current call may look at.
	req     core.Request
	src     netip.Addr
	servers []*core.Server
	judged  *core.ServerView // health: the server judged (index 0)
	check   *core.CheckResult

	out     boundedBuf // the guest's stdout/stderr
	buf     []byte     // host function output scratch
	scratch []byte
	sctx    sample.Ctx
	exprs   map[string]*sample.Expr
	names   map[string]string // interned backend names
}

// callCtx is the context.Context of an instance's calls: its deadline's.
// When a call overruns the instance is dropped, so the deadline is never
// reset (wazero's watcher may still read Done).
type callCtx struct{ in *instance }

func (c *callCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *callCtx) Done() <-chan struct{}       { return c.in.dl.Done() }
func (c *callCtx) Value(any) any               { return nil }
func (c *callCtx) Err() error                  { return c.in.dl.Err() }

const maxExprs = 64 // fetch expressions cached per instance

func (p *Policy) newInstance() (*instance, error) {
	in := &instance{p: p, stack: make([]uint64, 1), dl: scripting.NewDeadline(),
		buf: make([]byte, 0, 256), scratch: make([]byte, 0, 256), exprs: map[string]*sample.Expr{}, names: map[string]string{}}
	in.ctx.in = in
	cfg := p.modCfg.WithStdout(&in.out).WithStderr(&in.out)
	mod, err := p.rt.InstantiateModule(context.Background(), p.code, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w%s", err, in.out.tail())
	}
	in.mod, in.mem = mod, mod.ExportedMemory("memory")
	if instrumentLoops {
		stop, ok := mod.ExportedGlobal(stopGlobal).(api.MutableGlobal)
		if !ok {
			mod.Close(context.Background())
			return nil, errors.New("instantiate: the stop global is missing")
		}
		in.dl.SetOnCut(func() { stop.Set(1) })
	}
	for i, ok := range p.has {
		if ok {
			in.fn[i] = mod.ExportedFunction(entryNames[i])
		}
	}
	if err := in.initialize(); err != nil {
		mod.Close(context.Background())
		return nil, err
	}
	p.live.Add(1)
	return in, nil
}

// initialize runs the module's _initialize (a Go guest's runtime start-up)
// under a generous deadline: it allocates the guest's heap.
func (in *instance) initialize() error {
	init := in.mod.ExportedFunction("_initialize")
	if init == nil {
		return nil
	}
	in.dl.Arm(100*in.p.timeout + time.Second)
	_, err := init.Call(&in.ctx)
	if in.dl.Disarm() {
		return fmt.Errorf("instantiate: _initialize ran longer than %v", 100*in.p.timeout+time.Second)
	}
	if err != nil {
		return fmt.Errorf("instantiate: %w%s", err, in.out.tail())
	}
	return nil
}

func (in *instance) close() {
	// The hook reaches the module's memory: dropped here, or (oddly) the
	// deadline kept every closed instance's memory alive (TestGoPolicyReloads).
	in.dl.SetOnCut(nil)
	in.mod.Close(context.Background())
	in.p.live.Add(-1)
}

var errTimeout = errors.New("deadline exceeded")

// call runs entry e under the policy's deadline. A call the watchdog cut
// is reported as a timeout even when it returned at that very moment: the
// deadline is done for good, so the instance must go.
func (in *instance) call(e int) (uint64, error) {
	in.stack[0] = 0
	in.dl.Arm(in.p.timeout)
	err := in.fn[e].CallWithStack(&in.ctx, in.stack)
	if in.dl.Disarm() {
		return 0, errTimeout
	}
	return in.stack[0], err
}

// reason classifies a failed call for Stats. An instance at its memory
// cap is reported as "memory" even when the deadline cut it: a guest
// whose heap is full spends its time collecting, and the cap is what the
// operator must look at.
func (in *instance) reason(err error) string {
	var ee *sys.ExitError
	switch {
	case in.nearCap() || bytes.Contains(in.out.b, []byte("out of memory")):
		return scripting.ReasonMemory
	case errors.Is(err, errTimeout) || in.dl.Err() != nil:
		return scripting.ReasonTimeout
	case errors.As(err, &ee) && ee.ExitCode() == sys.ExitCodeDeadlineExceeded:
		return scripting.ReasonTimeout
	}
	return scripting.ReasonError
}

// nearCap reports whether the instance's memory came close to the cap
// (within an eighth of it: a failed grow asked for more than was left, and
// a Go guest grows its heap in large steps).
func (in *instance) nearCap() (near bool) {
	defer func() {
		if recover() != nil {
			near = false
		}
	}()
	return uint64(in.mem.Size()) > in.p.memCap-in.p.memCap/8
}

// reset forgets the call's inputs so a pooled instance pins nothing.
func (in *instance) reset() {
	in.req, in.servers, in.judged, in.check = nil, nil, nil, nil
	in.src = netip.Addr{}
	in.sctx.Reset()
}

// result reads the (ptr<<32 | len) string an entry point returned. The
// bytes alias the guest's memory: valid until the instance runs again.
func (in *instance) result(res uint64) ([]byte, bool) {
	b, ok := in.mem.Read(uint32(res>>32), uint32(res))
	return b, ok && len(b) > 0
}

// boundedBuf keeps the first bytes a guest prints (a Go panic's message
// and stack head) for the error log, and drops the rest.
type boundedBuf struct{ b []byte }

const maxOut = 1024

func (w *boundedBuf) Write(p []byte) (int, error) {
	if room := maxOut - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (w *boundedBuf) tail() string {
	if len(w.b) == 0 {
		return ""
	}
	return fmt.Sprintf(" (module printed %q)", w.b)
}
