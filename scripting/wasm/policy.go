// Package wasm runs policies compiled to WebAssembly (docs/wasm-abi.md)
// with wazero: a module exports the entry points it implements
// (choose_backend, choose_server, sticky_key, health) and reads the request
// view and the servers through host functions of module "varde".
//
// A policy file is compiled once (ahead of time on amd64/arm64, with a
// process-wide compilation cache so a reload of an unchanged file is cheap)
// and run in pooled instances, one per caller at a time: no lock on the
// request path. Every call runs under a wall-clock deadline and a memory
// cap; an error, trap, timeout or unusable answer declines (the built-in
// decides), is counted by reason in scripting.Stats and logged at a bounded
// rate, and the instance that failed is dropped for a fresh one.
package wasm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/scripting"
)

const (
	// DefaultTimeout bounds one call when the policy line sets none.
	DefaultTimeout = time.Millisecond
	// DefaultMemoryPages caps an instance's linear memory (64 KiB pages):
	// 64 MiB. A Go (wasip1) reactor starts at 2 MiB and a routing policy
	// stays well under 8 MiB; a module that grows past the cap fails its
	// call (reason "memory") and is replaced.
	DefaultMemoryPages = 1024
)

// Entry point names, as exported by a module and as counted in Stats.
const (
	EntryChooseBackend = "choose_backend"
	EntryChooseServer  = "choose_server"
	EntryStickyKey     = "sticky_key"
	EntryHealth        = "health"
)

const (
	eBackend = iota
	eServer
	eSticky
	eHealth
	nEntries
)

var entryNames = [nEntries]string{EntryChooseBackend, EntryChooseServer, EntryStickyKey, EntryHealth}

// entryResult is each export's only result type; none takes parameters.
var entryResult = [nEntries]api.ValueType{api.ValueTypeI64, api.ValueTypeI64, api.ValueTypeI64, api.ValueTypeI32}

// cache keeps compiled machine code across generations: recompiling a
// Go-built module costs about half a second, a cache hit tens of
// milliseconds. It is keyed by the module's content, so a changed file
// compiles anew; entries of files no longer used stay until exit.
var cache = wazero.NewCompilationCache()

// ensureTermination is wazero's WithCloseOnContextDone: compiled code exits
// to Go at every loop header to check for a closed module and each call
// starts a watcher goroutine. It is off: modules are instrumented instead
// (instrument.go); benchmarks turn it on to compare.
var ensureTermination = false

// instrumentLoops adds the stop global and its test at every loop
// (instrument.go). Only benchmarks turn it off, to measure its price.
var instrumentLoops = true

func init() {
	core.RegisterPolicyEngine(".wasm", func(s core.PolicySpec) (core.Policy, error) { return Compile(s) })
}

// Policy is one compiled module and its instance pool. It implements
// core.Policy.
type Policy struct {
	spec    core.PolicySpec
	name    string
	timeout time.Duration
	memCap  uint64 // bytes

	rt     wazero.Runtime
	code   wazero.CompiledModule
	modCfg wazero.ModuleConfig
	has    [nEntries]bool
	entry  [nEntries]*scripting.Entry

	stats  *scripting.Stats
	elog   *scripting.ErrorLog
	glog   guestLog
	table  *scripting.SharedTable
	pool   pool
	live   atomic.Int64 // instances alive, for tests and `show policies`
	closed atomic.Bool
	// inflight counts callers between take and put/discard, so that Close
	// releases the runtime only once no call can still touch it.
	inflight atomic.Int64

	servers atomic.Pointer[[]*core.Server] // choose_server's pool (Update)
}

// Compile reads and compiles spec.Path and instantiates the first
// instances, so that a module with a bad import or a failing start-up is
// an error at `varde check`, not at the first request.
func Compile(spec core.PolicySpec) (*Policy, error) {
	bin, err := os.ReadFile(spec.Path)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", spec.Path, err)
	}
	p := &Policy{spec: spec, name: filepath.Base(spec.Path), timeout: spec.Timeout,
		memCap: DefaultMemoryPages * 65536,
		stats:  scripting.NewStats(filepath.Base(spec.Path), spec.Proxy, "wasm"),
		elog:   &scripting.ErrorLog{Log: slog.Default()}}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if err := p.compile(bin); err != nil {
		if p.rt != nil {
			p.rt.Close(context.Background())
		}
		return nil, fmt.Errorf("policy %s: %w", spec.Path, err)
	}
	sum := sha256.Sum256(bin)
	p.table = scripting.SharedTables.Acquire(spec.Path, hex.EncodeToString(sum[:]))
	return p, nil
}

func (p *Policy) compile(bin []byte) error {
	ctx := context.Background()
	p.rt = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCompilationCache(cache).
		WithMemoryLimitPages(DefaultMemoryPages).
		WithCloseOnContextDone(ensureTermination))
	if instrumentLoops {
		var err error
		if bin, err = instrument(bin); err != nil {
			return fmt.Errorf("not a valid WebAssembly module: %w", err)
		}
	}
	code, err := p.rt.CompileModule(ctx, bin)
	if err != nil {
		return fmt.Errorf("not a valid WebAssembly module: %w", err)
	}
	p.code = code
	if err := p.checkExports(); err != nil {
		return err
	}
	wasi, err := checkImports(code)
	if err != nil {
		return err
	}
	if wasi {
		if _, err := wasi_snapshot_preview1.Instantiate(ctx, p.rt); err != nil {
			return fmt.Errorf("wasi: %w", err)
		}
	}
	if err := instantiateHost(ctx, p.rt); err != nil {
		return err
	}
	p.modCfg = moduleConfig()
	for i := range p.has {
		if p.has[i] {
			p.entry[i] = p.stats.Entry(entryNames[i])
		}
	}
	return p.pool.init(p, poolSize())
}

// poolSize is one instance per event loop (GOMAXPROCS), plus one for the
// health checker's goroutines.
func poolSize() int { return runtime.GOMAXPROCS(0) + 1 }

// checkExports records the entry points the module implements and refuses
// a wrong signature (it would trap or lie at every call).
func (p *Policy) checkExports() error {
	exp := p.code.ExportedFunctions()
	if _, ok := exp["_start"]; ok {
		if _, ok := exp["_initialize"]; !ok {
			return errors.New("module is a command (exports _start, whose main runs and exits); build a reactor: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared")
		}
	}
	n := 0
	for i, name := range entryNames {
		def, ok := exp[name]
		if !ok {
			continue
		}
		if len(def.ParamTypes()) != 0 || len(def.ResultTypes()) != 1 || def.ResultTypes()[0] != entryResult[i] {
			return fmt.Errorf("export %s: signature %v -> %v, want () -> %s (docs/wasm-abi.md)",
				name, typeNames(def.ParamTypes()), typeNames(def.ResultTypes()), api.ValueTypeName(entryResult[i]))
		}
		p.has[i] = true
		n++
	}
	if n == 0 {
		return errors.New("module exports none of choose_backend, choose_server, sticky_key, health (docs/wasm-abi.md)")
	}
	if _, ok := p.code.ExportedMemories()["memory"]; !ok {
		return errors.New(`module exports no memory named "memory"`)
	}
	return nil
}

func typeNames(ts []api.ValueType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = api.ValueTypeName(t)
	}
	return out
}

// checkImports allows functions of "varde" and of WASI preview 1 only
// (the latter with no files, network, arguments or environment: see
// moduleConfig) and reports whether WASI is needed.
func checkImports(code wazero.CompiledModule) (wasi bool, err error) {
	for _, def := range code.ImportedFunctions() {
		mod, name, _ := def.Import()
		switch mod {
		case hostModule:
			if _, ok := hostFuncs[name]; !ok {
				return false, fmt.Errorf("imports %s.%s, which varde does not provide (docs/wasm-abi.md)", mod, name)
			}
		case wasi_snapshot_preview1.ModuleName:
			wasi = true
		default:
			return false, fmt.Errorf("imports %s.%s: only module %q (and %q) can be imported", mod, name, hostModule, wasi_snapshot_preview1.ModuleName)
		}
	}
	for _, def := range code.ImportedMemories() {
		mod, name, _ := def.Import()
		return false, fmt.Errorf("imports memory %s.%s: a policy must define its own memory", mod, name)
	}
	return wasi, nil
}

// moduleConfig is what an instance may see of the system: real clocks,
// crypto-grade random bytes, no arguments, no environment, no preopened
// directory (so no file), no socket; stdout and stderr go to a small
// per-instance buffer quoted in error logs (a Go guest prints its panics
// there). Sleeping does not block: the call's deadline still holds.
func moduleConfig() wazero.ModuleConfig {
	// No start function: newInstance calls _initialize itself, under the
	// instance's deadline, once the stop global can be reached.
	return wazero.NewModuleConfig().WithName("").WithStartFunctions().
		WithSysWalltime().WithSysNanotime().WithRandSource(rand.Reader)
}

// Stats returns the policy's call statistics (calls, declines, errors by
// reason, p99) per entry point.
func (p *Policy) Stats() *scripting.Stats { return p.stats }

// SharedTable returns the policy's shared table.
func (p *Policy) SharedTable() *scripting.SharedTable { return p.table }

// Var reads the shared table (the admin socket's `show policy var`).
func (p *Policy) Var(key string) (any, bool) { return p.table.Get(key) }

// SetVar sets a shared-table value with no expiry; nil deletes (the admin
// socket's `set policy var`). Strings, numbers (float64) and booleans
// reach the module as text through shared_get.
func (p *Policy) SetVar(key string, v any) bool { return p.table.Set(key, v, 0) }

// VarKeys lists the shared table's keys (core.PolicyVars, `show policy var`).
func (p *Policy) VarKeys() []string { return p.table.Keys() }

// PolicyStats reports the calls per entry point (core.PolicyStatser): the
// module appears in `show policies`, the stats page and Prometheus.
func (p *Policy) PolicyStats() []core.PolicyEntryStats { return p.stats.PolicyStats() }

var (
	_ core.PolicyVars    = (*Policy)(nil)
	_ core.PolicyStatser = (*Policy)(nil)
)

// Instances is the number of live instances (pooled or in a call).
func (p *Policy) Instances() int64 { return p.live.Load() }

// Entries implements core.Policy.
func (p *Policy) Entries() []string {
	var out []string
	for i, ok := range p.has {
		if ok {
			out = append(out, entryNames[i])
		}
	}
	return out
}

// Close implements core.Policy: it releases the pooled instances, the
// compiled module, the runtime and the shared table reference. Instances
// still in a call are closed by the runtime (their call fails and
// declines); they are not pooled again.
func (p *Policy) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	p.pool.drain()
	p.pool.refills.Wait()
	// Calls in flight end within their deadline; wait for them (bounded,
	// in case a caller is stuck outside the module).
	for end := time.Now().Add(p.timeout + time.Second); p.inflight.Load() > 0 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	p.pool.drain()
	err := p.rt.Close(context.Background())
	scripting.SharedTables.Release(p.spec.Path, p.table)
	return err
}
