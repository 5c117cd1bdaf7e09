// Package lua runs policy scripts written in Lua (gopher-lua, sandboxed by
// scripting/luacompat) behind core's policy interfaces. It registers the
// ".lua" engine with core.RegisterPolicyEngine; plugins/all imports it.
//
// A script is parsed and compiled once per configuration generation; the
// compiled prototype is shared read-only by states taken from a sync.Pool
// (one per P in practice), so the request path takes no lock. Every call
// runs under a wall-clock deadline; whatever goes wrong, the call declines
// and the engine's built-in decides (see docs/policies.md).
package lua

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/scripting"
	"github.com/varde-lb/varde/scripting/luacompat"
)

func init() { core.RegisterPolicyEngine(".lua", Compile) }

// Entry point names.
const (
	EntryChooseBackend = "choose_backend"
	EntryChooseServer  = "choose_server"
	EntryStickyKey     = "sticky_key"
	EntryHealth        = "health"
)

var entryNames = []string{EntryChooseBackend, EntryChooseServer, EntryStickyKey, EntryHealth}

// DefaultTimeout is a call's deadline when the policy line sets none.
const DefaultTimeout = time.Millisecond

// loadTimeout bounds the script's top-level code, run once per state.
const loadTimeout = 100 * time.Millisecond

// Logger receives the policies' rate-limited error lines; nil logs to
// slog.Default().
var Logger *slog.Logger

// Policy is one compiled Lua policy.
type Policy struct {
	spec    core.PolicySpec
	name    string // file base name, the `policy` label
	proto   *lua.FunctionProto
	timeout time.Duration
	entries []string
	has     [4]bool
	stats   *scripting.Stats
	ent     [4]*scripting.Entry
	errlog  *scripting.ErrorLog
	shared  *scripting.SharedTable
	backs   map[string]bool
	servers map[string]bool
	exprs   exprCache
	live    []int // liveFields the script names (srvRef.refresh)
	useSrc  bool  // the script names "src" (pushReq)

	pool     sync.Pool
	closed   atomic.Bool
	poolSnap atomic.Pointer[poolSnap]
	hook     func(entry, reason string, err error)
}

// Compile reads and compiles spec.Path; it is the engine's
// core.PolicyCompiler.
func Compile(spec core.PolicySpec) (core.Policy, error) {
	p, err := compile(spec)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func compile(spec core.PolicySpec) (*Policy, error) {
	src, err := os.ReadFile(spec.Path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	name := filepath.Base(spec.Path)
	proto, err := luacompat.Compile(src, name)
	if err != nil {
		return nil, err
	}
	p := &Policy{spec: spec, name: name, proto: proto, timeout: spec.Timeout,
		stats: scripting.NewStats(name, spec.Proxy, "lua")}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if err := p.exprs.precompile(src, name); err != nil {
		return nil, err
	}
	p.backs, p.servers = setOf(spec.Backends), setOf(spec.Servers)
	p.live = liveUsed(proto)
	p.useSrc = namesConst(proto, "src")
	p.errlog = &scripting.ErrorLog{Log: Logger}
	if p.errlog.Log == nil {
		p.errlog.Log = slog.Default()
	}
	// A first state runs the top level and tells which entries exist.
	st, err := p.newState()
	if err != nil {
		return nil, err
	}
	for i, n := range entryNames {
		if st.fns[i] != nil {
			p.has[i] = true
			p.entries = append(p.entries, n)
			p.ent[i] = p.stats.Entry(n)
		}
	}
	if len(p.entries) == 0 {
		return nil, fmt.Errorf("%s: defines none of the entry points %v (hint: function choose_server(req, servers) ... end)", name, entryNames)
	}
	sum := sha256.Sum256(src)
	p.shared = scripting.SharedTables.Acquire(spec.Path, hex.EncodeToString(sum[:]))
	st.bindShared(p.shared)
	p.pool.New = func() any {
		s, err := p.newState()
		if err != nil {
			return nil // the first state loaded: a later failure is a timeout under load
		}
		s.bindShared(p.shared)
		return s
	}
	p.pool.Put(st)
	p.poolSnap.Store(&poolSnap{})
	return p, nil
}

func setOf(names []string) map[string]bool {
	if names == nil {
		return nil
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Name is the policy file's base name.
func (p *Policy) Name() string { return p.name }

// Entries implements core.Policy.
func (p *Policy) Entries() []string { return p.entries }

// Stats are the policy's call counters.
func (p *Policy) Stats() *scripting.Stats { return p.stats }

// PolicyStats implements core.PolicyStatser.
func (p *Policy) PolicyStats() []core.PolicyEntryStats { return p.stats.PolicyStats() }

// Shared is the policy's shared table (admin `set policy var`).
func (p *Policy) Shared() *scripting.SharedTable { return p.shared }

// Close implements core.Policy: the shared table is released (kept for the
// next generation when it holds the same file) and later calls decline.
// States hold no goroutine or file; the pool's are left to the collector.
func (p *Policy) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	scripting.SharedTables.Release(p.spec.Path, p.shared)
	return nil
}

// BackendChooser implements core.Policy.
func (p *Policy) BackendChooser() core.BackendChooser {
	if !p.has[0] {
		return nil
	}
	return backendChooser{p}
}

// ServerChooser implements core.Policy.
func (p *Policy) ServerChooser() core.Balancer {
	if !p.has[1] {
		return nil
	}
	return serverChooser{p}
}

// Stickiness implements core.Policy.
func (p *Policy) Stickiness() core.Stickiness {
	if !p.has[2] {
		return nil
	}
	return stickiness{p}
}

// HealthJudge implements core.Policy.
func (p *Policy) HealthJudge() core.HealthJudge {
	if !p.has[3] {
		return nil
	}
	return healthJudge{p}
}

// SetErrorHook makes every failed call also reported to h (`varde policy
// test` shows the script's error with its line). Set it before calls.
func (p *Policy) SetErrorHook(h func(entry, reason string, err error)) { p.hook = h }

// Var implements core.PolicyVars.
func (p *Policy) Var(key string) (any, bool) { return p.shared.Get(key) }

// SetVar implements core.PolicyVars (no expiry; nil deletes).
func (p *Policy) SetVar(key string, v any) bool { return p.shared.Set(key, v, 0) }

// VarKeys implements core.PolicyVars.
func (p *Policy) VarKeys() []string { return p.shared.Keys() }
