package wasm

import (
	"context"
	"encoding/binary"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/sample"
)

// hostModule is the import module name of varde's host functions.
const hostModule = "varde"

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
	f64 = api.ValueTypeF64
)

type hostFunc struct {
	fn          api.GoModuleFunc
	params, res []api.ValueType
}

// absent is the length returned for a value that does not exist.
const absent = -1

// hostFuncs is the ABI of module "varde" (docs/wasm-abi.md). A string
// result is written to (buf, cap) only when it fits; the full length is
// returned either way, -1 when there is no value.
var hostFuncs = map[string]hostFunc{
	"req_method":        {strFn(func(in *instance) ([]byte, bool) { return reqBytes(in, core.Request.Method) }), p(i32, i32), p(i32)},
	"req_path":          {strFn(func(in *instance) ([]byte, bool) { return reqBytes(in, core.Request.Path) }), p(i32, i32), p(i32)},
	"req_query":         {strFn(func(in *instance) ([]byte, bool) { return reqBytes(in, core.Request.Query) }), p(i32, i32), p(i32)},
	"req_host":          {strFn(reqHost), p(i32, i32), p(i32)},
	"req_src":           {strFn(reqSrc), p(i32, i32), p(i32)},
	"req_ssl":           {reqSSL, nil, p(i32)},
	"req_header":        {keyStrFn(reqHeader), p(i32, i32, i32, i32), p(i32)},
	"req_cookie":        {keyStrFn(reqCookie), p(i32, i32, i32, i32), p(i32)},
	"req_fetch":         {keyStrFn(reqFetch), p(i32, i32, i32, i32), p(i32)},
	"servers":           {strFn(serverList), p(i32, i32), p(i32)},
	"hash":              {hashFn, p(i32, i32), p(i64)},
	"server_count":      {serverCount, nil, p(i32)},
	"server_name":       {serverName, p(i32, i32, i32), p(i32)},
	"server_weight":     {serverInt(func(v *core.ServerView) int64 { return int64(v.Weight) }, false), p(i32), p(i32)},
	"server_up":         {serverInt(func(v *core.ServerView) int64 { return b2i(v.Up) }, false), p(i32), p(i32)},
	"server_admin":      {serverInt(func(v *core.ServerView) int64 { return int64(v.Admin) }, false), p(i32), p(i32)},
	"server_backup":     {serverInt(func(v *core.ServerView) int64 { return b2i(v.Backup) }, false), p(i32), p(i32)},
	"server_active":     {serverInt(func(v *core.ServerView) int64 { return v.Active }, true), p(i32), p(i64)},
	"server_queue":      {serverInt(func(v *core.ServerView) int64 { return v.Queued }, true), p(i32), p(i64)},
	"server_maxconn":    {serverInt(func(v *core.ServerView) int64 { return v.MaxConn }, true), p(i32), p(i64)},
	"check_ok":          {checkInt(func(c *core.CheckResult) int64 { return b2i(c.OK) }, false), nil, p(i32)},
	"check_code":        {checkInt(func(c *core.CheckResult) int64 { return int64(c.Code) }, false), nil, p(i32)},
	"check_duration_us": {checkInt(func(c *core.CheckResult) int64 { return c.Duration.Microseconds() }, true), nil, p(i64)},
	"check_status":      {strFn(func(in *instance) ([]byte, bool) { return checkStr(in, false) }), p(i32, i32), p(i32)},
	"check_info":        {strFn(func(in *instance) ([]byte, bool) { return checkStr(in, true) }), p(i32, i32), p(i32)},
	"shared_get":        {keyStrFn(sharedGet), p(i32, i32, i32, i32), p(i32)},
	"shared_set":        {sharedSet, p(i32, i32, i32, i32, i64), p(i32)},
	"shared_incr":       {sharedIncr, p(i32, i32, f64, i64), p(f64)},
	"shared_del":        {sharedDel, p(i32, i32), nil},
	"log":               {guestLogFn, p(i32, i32, i32), nil},
}

func p(ts ...api.ValueType) []api.ValueType { return ts }

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// instantiateHost adds module "varde" to rt; every instance of the
// policy's module imports the same host functions, which find the calling
// instance through the call's context.
func instantiateHost(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(hostModule)
	for name, h := range hostFuncs {
		b.NewFunctionBuilder().WithGoModuleFunction(h.fn, h.params, h.res).Export(name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return err
	}
	return nil
}

// callerOf is the instance whose call is running. A host function called
// outside an entry point (from the guest's start-up code) has none.
func callerOf(ctx context.Context) *instance {
	if c, ok := ctx.(*callCtx); ok {
		return c.in
	}
	return nil
}

// badPointer traps the guest: a buffer outside its memory is a bug in the
// module, and the call fails (reason "error") rather than guess.
type badPointer struct{}

func (badPointer) Error() string { return "varde host function: buffer outside the module's memory" }

// guestBytes reads (ptr, len) from the caller's memory.
func guestBytes(mod api.Module, ptr, n uint64) []byte {
	b, ok := mod.Memory().Read(api.DecodeU32(ptr), api.DecodeU32(n))
	if !ok {
		panic(badPointer{})
	}
	return b
}

// writeOut implements the (buf, cap) -> len convention.
func writeOut(mod api.Module, buf, cp uint64, v []byte, ok bool) uint64 {
	if !ok {
		return api.EncodeI32(absent)
	}
	if len(v) > 0 && len(v) <= int(api.DecodeU32(cp)) {
		if !mod.Memory().Write(api.DecodeU32(buf), v) {
			panic(badPointer{})
		}
	}
	return api.EncodeI32(int32(len(v)))
}

// strFn adapts a string getter to (buf, cap) -> len.
func strFn(get func(in *instance) ([]byte, bool)) api.GoModuleFunc {
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		in := callerOf(ctx)
		if in == nil {
			stack[0] = api.EncodeI32(absent)
			return
		}
		v, ok := get(in)
		stack[0] = writeOut(mod, stack[0], stack[1], v, ok)
	}
}

// keyStrFn adapts a keyed string getter to (key, klen, buf, cap) -> len.
// The key aliases guest memory, which does not change while the host
// function runs.
func keyStrFn(get func(in *instance, key []byte) ([]byte, bool)) api.GoModuleFunc {
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		in := callerOf(ctx)
		if in == nil {
			stack[0] = api.EncodeI32(absent)
			return
		}
		v, ok := get(in, guestBytes(mod, stack[0], stack[1]))
		stack[0] = writeOut(mod, stack[2], stack[3], v, ok)
	}
}

func reqBytes(in *instance, f func(core.Request) []byte) ([]byte, bool) {
	if in.req == nil {
		return nil, false
	}
	return f(in.req), true
}

func reqHost(in *instance) ([]byte, bool) {
	if in.req == nil {
		return nil, false
	}
	return in.req.Header("host")
}

func reqSrc(in *instance) ([]byte, bool) {
	if !in.src.IsValid() {
		return nil, false
	}
	in.buf = in.src.AppendTo(in.buf[:0])
	return in.buf, true
}

func reqSSL(ctx context.Context, _ api.Module, stack []uint64) {
	in := callerOf(ctx)
	stack[0] = api.EncodeI32(int32(b2i(in != nil && in.req != nil && in.req.TLS())))
}

// reqHeader reads the first value of a header. The name is viewed as a
// string without a copy: Header does not keep it.
func reqHeader(in *instance, name []byte) ([]byte, bool) {
	if in.req == nil || len(name) == 0 {
		return nil, false
	}
	return in.req.Header(unsafe.String(&name[0], len(name)))
}

// reqCookie finds a cookie in every Cookie header, as req.cook() does.
func reqCookie(in *instance, name []byte) ([]byte, bool) {
	if in.req == nil || len(name) == 0 {
		return nil, false
	}
	return sample.Cookie(in.req, unsafe.String(&name[0], len(name)))
}

// reqFetch evaluates a sample expression; each instance compiles an
// expression once. An expression that does not compile returns -2 (and is
// remembered as such).
func reqFetch(in *instance, expr []byte) ([]byte, bool) {
	e, seen := in.exprs[string(expr)]
	if !seen {
		var err error
		e, err = sample.Parse(string(expr), sample.Options{Where: sample.AtRequest, Place: "in a WASM policy", Runtime: true})
		if err != nil {
			e = nil
			in.p.elog.Report(in.p.name, "fetch", "error", err)
		}
		if len(in.exprs) < maxExprs {
			in.exprs[string(expr)] = e
		}
	}
	if e == nil {
		return nil, false
	}
	sample.RequestCtx(&in.sctx, in.req)
	if in.req == nil && in.src.IsValid() {
		in.sctx.Src = netip.AddrPortFrom(in.src, 0)
	}
	var ok bool
	in.buf, in.scratch, ok = e.AppendTo(in.buf[:0], &in.sctx, in.scratch[:0])
	return in.buf, ok
}

// serverRecord is the size of a server's fixed fields in the servers()
// encoding (docs/wasm-abi.md), before its name.
const serverRecord = 42

// serverList encodes every server of the call in one buffer, so a policy
// reads the pool with one host call instead of several per server:
// u32 count, then per server i64 active, i64 queue, i64 maxconn,
// i64 rtime_us, i32 weight, u8 up, u8 admin, u8 backup, u8 usable,
// u16 name length, name; little-endian. rtime_us is the moving average
// of the server's response time (core.ServerView.RTime), 0 before any.
func serverList(in *instance) ([]byte, bool) {
	n := len(in.servers)
	if in.judged != nil {
		n = 1
	}
	in.buf = binary.LittleEndian.AppendUint32(in.buf[:0], uint32(n))
	var v core.ServerView
	for i := range n {
		in.server(int32(i), &v)
		usable := v.Up && v.Admin == core.AdminReady && v.Weight > 0 && (v.MaxConn == 0 || v.Active < v.MaxConn)
		b := binary.LittleEndian.AppendUint64(in.buf, uint64(v.Active))
		b = binary.LittleEndian.AppendUint64(b, uint64(v.Queued))
		b = binary.LittleEndian.AppendUint64(b, uint64(v.MaxConn))
		b = binary.LittleEndian.AppendUint64(b, uint64(v.RTime.Microseconds()))
		b = binary.LittleEndian.AppendUint32(b, uint32(v.Weight))
		b = append(b, byte(b2i(v.Up)), byte(v.Admin), byte(b2i(v.Backup)), byte(b2i(usable)))
		b = binary.LittleEndian.AppendUint16(b, uint16(min(len(v.Name), 0xffff)))
		in.buf = append(b, v.Name[:min(len(v.Name), 0xffff)]...)
	}
	return in.buf, true
}

// hashFn is a stable 64-bit hash (xxHash64) of guest bytes: the same on
// every instance, reload and version, and computed natively (a hash loop
// in the guest pays wazero's per-iteration termination check).
func hashFn(_ context.Context, mod api.Module, stack []uint64) {
	stack[0] = xxhash.Sum64(guestBytes(mod, stack[0], stack[1]))
}

func serverCount(ctx context.Context, _ api.Module, stack []uint64) {
	in := callerOf(ctx)
	n := 0
	switch {
	case in == nil:
	case in.judged != nil:
		n = 1
	default:
		n = len(in.servers)
	}
	stack[0] = api.EncodeI32(int32(n))
}

// server returns the view of server i of the call, false when out of
// range. A live server's counters are read at the moment of the call.
func (in *instance) server(i int32, v *core.ServerView) bool {
	switch {
	case in.judged != nil && i == 0:
		*v = *in.judged
		return true
	case i < 0 || int(i) >= len(in.servers):
		return false
	}
	*v = in.servers[i].View()
	return true
}

func serverName(ctx context.Context, mod api.Module, stack []uint64) {
	in := callerOf(ctx)
	var v core.ServerView
	if in == nil || !in.server(api.DecodeI32(stack[0]), &v) {
		stack[0] = api.EncodeI32(absent)
		return
	}
	in.buf = append(in.buf[:0], v.Name...)
	stack[0] = writeOut(mod, stack[1], stack[2], in.buf, true)
}

// serverInt adapts a numeric server field; -1 for a server out of range.
func serverInt(get func(*core.ServerView) int64, wide bool) api.GoModuleFunc {
	return func(ctx context.Context, _ api.Module, stack []uint64) {
		in := callerOf(ctx)
		var v core.ServerView
		n := int64(absent)
		if in != nil && in.server(api.DecodeI32(stack[0]), &v) {
			n = get(&v)
		}
		stack[0] = encodeInt(n, wide)
	}
}

func encodeInt(n int64, wide bool) uint64 {
	if wide {
		return uint64(n)
	}
	return api.EncodeI32(int32(n))
}

// checkInt adapts a numeric field of the probe health() judges; -1
// outside health().
func checkInt(get func(*core.CheckResult) int64, wide bool) api.GoModuleFunc {
	return func(ctx context.Context, _ api.Module, stack []uint64) {
		n := int64(absent)
		if in := callerOf(ctx); in != nil && in.check != nil {
			n = get(in.check)
		}
		stack[0] = encodeInt(n, wide)
	}
}

func checkStr(in *instance, info bool) ([]byte, bool) {
	if in.check == nil {
		return nil, false
	}
	s := in.check.Status
	if info {
		s = in.check.Info
	}
	in.buf = append(in.buf[:0], s...)
	return in.buf, true
}

// sharedGet reads the policy's shared table; numbers come back in the
// shortest decimal form.
func sharedGet(in *instance, key []byte) ([]byte, bool) {
	if len(key) == 0 {
		return nil, false
	}
	// Get does not keep the key: view it without a copy.
	v, ok := in.p.table.Get(unsafe.String(&key[0], len(key)))
	if !ok {
		return nil, false
	}
	switch x := v.(type) {
	case string:
		in.buf = append(in.buf[:0], x...)
	case float64:
		in.buf = strconv.AppendFloat(in.buf[:0], x, 'g', -1, 64)
	case bool:
		in.buf = strconv.AppendBool(in.buf[:0], x)
	default:
		return nil, false
	}
	return in.buf, true
}

func sharedSet(ctx context.Context, mod api.Module, stack []uint64) {
	in := callerOf(ctx)
	if in == nil {
		stack[0] = 0
		return
	}
	key := string(guestBytes(mod, stack[0], stack[1]))
	val := string(guestBytes(mod, stack[2], stack[3]))
	ok := in.p.table.Set(key, val, ttlOf(stack[4]))
	stack[0] = api.EncodeI32(int32(b2i(ok)))
}

func sharedIncr(ctx context.Context, mod api.Module, stack []uint64) {
	in := callerOf(ctx)
	n, ok := math.NaN(), false
	if in != nil {
		key := guestBytes(mod, stack[0], stack[1])
		n, ok = in.p.table.Incr(string(key), api.DecodeF64(stack[2]), ttlOf(stack[3]))
	}
	if !ok {
		n = math.NaN()
	}
	stack[0] = api.EncodeF64(n)
}

func sharedDel(ctx context.Context, mod api.Module, stack []uint64) {
	if in := callerOf(ctx); in != nil {
		in.p.table.Set(string(guestBytes(mod, stack[0], stack[1])), nil, 0)
	}
}

func ttlOf(ms uint64) time.Duration {
	if n := int64(ms); n > 0 {
		return time.Duration(n) * time.Millisecond
	}
	return 0
}

// guestLog bounds what a module may log: 10 lines per second per policy,
// the rest counted and reported with the next line that passes.
type guestLog struct {
	sec, n, dropped atomic.Int64
}

const guestLogPerSec = 10

func (g *guestLog) allow() (dropped int64, ok bool) {
	now := time.Now().Unix()
	if s := g.sec.Load(); s != now && g.sec.CompareAndSwap(s, now) {
		g.n.Store(0)
	}
	if g.n.Add(1) > guestLogPerSec {
		g.dropped.Add(1)
		return 0, false
	}
	return g.dropped.Swap(0), true
}

var guestLevels = [...]slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}

func guestLogFn(ctx context.Context, mod api.Module, stack []uint64) {
	in := callerOf(ctx)
	if in == nil {
		return
	}
	dropped, ok := in.p.glog.allow()
	if !ok {
		return
	}
	lvl := slog.LevelInfo
	if l := api.DecodeI32(stack[0]); l >= 0 && int(l) < len(guestLevels) {
		lvl = guestLevels[l]
	}
	msg := string(guestBytes(mod, stack[1], stack[2]))
	slog.Default().Log(context.Background(), lvl, msg, "policy", in.p.name, "dropped_since_last", dropped)
}
