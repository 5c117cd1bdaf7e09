package core

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// The interfaces below are the extension points through which Lua and WASM
// policies (package scripting) take decisions, and where the engine asks
// them:
//
//   - choose_backend(req): a BackendChooser in proxy.FrontendConfig.Policy,
//     asked before the frontend's use_backend rules (route.PolicyChooser).
//   - choose_server(req, servers): a Balancer in
//     proxy.BackendConfig.ServerPolicy, asked before the backend's algorithm
//     with the current pool (pool.WithPolicy).
//   - sticky_key(req): a Stickiness in proxy.BackendConfig.Sticky, asked
//     before cookie persistence and the algorithm.
//   - health(server, result): a HealthJudge in health.Options.Judge.
//
// A policy that declines, panics or returns a verdict the built-in may not
// use falls back to the built-in, and each fallback is counted by reason
// (Fallbacks). Deadlines and instruction budgets are the scripting
// package's business: a slow script is cut short there and declines.

// BackendChooser decides which backend a frontend sends a request to. The
// built-in evaluates `use_backend ... if COND` rules then `default_backend`.
type BackendChooser interface {
	// ChooseBackend returns the backend's name and true, or false to leave the
	// decision to the next chooser (ultimately default_backend).
	ChooseBackend(req Request) (backend string, ok bool)
}

// ServerView is the read-only state of a server a policy may look at.
type ServerView struct {
	Backend string
	Name    string
	Weight  int
	Up      bool
	Admin   AdminState
	Backup  bool
	Active  int64
	Queued  int64
	MaxConn int64
	RTime   time.Duration // moving average of the response time, 0 before any
}

// View snapshots s for a policy.
func (s *Server) View() ServerView {
	return ServerView{
		Backend: s.Backend, Name: s.Name, Weight: s.Weight(), Up: s.IsUp(), Admin: s.Admin(), Backup: s.Backup,
		Active: s.Active.Load(), Queued: s.Queued.Load(), MaxConn: s.MaxConn(), RTime: time.Duration(s.RTime.Load()),
	}
}

// Stickiness maps a request to the server an earlier response bound it to
// (cookie persistence, `balance source`, policy-defined keys).
type Stickiness interface {
	// Lookup returns the server the request is bound to, or nil.
	Lookup(req Request, servers []*Server) *Server
}

// CheckResult is what one health probe observed.
type CheckResult struct {
	OK       bool
	Status   string        // HAProxy's status word: L4OK, L4TOUT, L4CON, L6OK, L7OK, L7STS, L7RSP, ...
	Code     int           // L7 status code, 0 when none
	Info     string        // short human text ("Connection refused", "HTTP status check returned code <503>")
	Duration time.Duration // how long the probe took
	// Body is the start of an HTTP probe's response body (at most
	// MaxCheckBody bytes), nil for other probes; health policies look for
	// a keyword in it.
	Body []byte
}

// MaxCheckBody bounds CheckResult.Body.
const MaxCheckBody = 4096

// HealthJudge turns a probe's result into a verdict. The built-in keeps the
// probe's own OK; a policy may overrule it (e.g. treat 429 as healthy).
type HealthJudge interface {
	Judge(server ServerView, r CheckResult) (ok bool)
}

// Fallbacks counts, by reason, the times a built-in decided because a
// policy's verdict could not be used. Safe for concurrent use.
type Fallbacks struct {
	declined, rejected, panics atomic.Uint64
}

// Declined counts a policy that gave no verdict.
func (f *Fallbacks) Declined() { f.declined.Add(1) }

// Rejected counts a verdict the built-in may not use (unknown backend, a
// server outside the pool or full).
func (f *Fallbacks) Rejected() { f.rejected.Add(1) }

// Panicked counts a policy that panicked.
func (f *Fallbacks) Panicked() { f.panics.Add(1) }

// Stats returns the counts.
func (f *Fallbacks) Stats() FallbackStats {
	return FallbackStats{Declined: f.declined.Load(), Rejected: f.rejected.Load(), Panics: f.panics.Load()}
}

// FallbackStats is a snapshot of Fallbacks.
type FallbackStats struct {
	Declined, Rejected, Panics uint64
}

// Total is the number of fallbacks of any reason.
func (s FallbackStats) Total() uint64 { return s.Declined + s.Rejected + s.Panics }

// PolicySpec is one `policy FILE [timeout DURATION] [fallback ALGO]` line,
// resolved: Path is absolute (relative paths are taken from the directory
// of the configuration file that names them).
type PolicySpec struct {
	Path     string
	Timeout  time.Duration // per call; 0 means the engine's default (1 ms)
	Fallback string        // built-in algorithm when the script declines; "" = the backend's own
	Proxy    string        // the frontend/backend/listen it belongs to
	Frontend bool          // true in a frontend or listen (choose_backend may be used)
	Backend  bool          // true in a backend or listen (choose_server, sticky_key, health)
	// Backends names the backends choose_backend may return (a frontend's
	// known backends of its mode); nil accepts any name.
	Backends []string
	// Servers names the section's servers, so that a verdict naming a
	// server outside the current pool is told apart (down, maintenance:
	// "unusable") from a name that does not exist ("unknown").
	Servers []string
}

// PolicyEntryStats are the counters of one entry point of one policy, for
// the stats page, Prometheus and `show policies`.
type PolicyEntryStats struct {
	Policy, Proxy, Engine, Entry string
	Calls, Declined              uint64
	Errors                       map[string]uint64 // by reason
	P99                          time.Duration
}

// PolicyStatser is implemented by policies that count their calls (both
// engines do, through package scripting).
type PolicyStatser interface {
	PolicyStats() []PolicyEntryStats
}

// Policy is one compiled policy script or module, owned by a configuration
// generation and closed with it. An accessor returns nil when the script
// does not define that entry point; the engine then uses its built-in.
type Policy interface {
	BackendChooser() BackendChooser // choose_backend(req)
	ServerChooser() Balancer        // choose_server(req, servers)
	Stickiness() Stickiness         // sticky_key(req)
	HealthJudge() HealthJudge       // health(server, result)
	// Entries names the entry points the script defines, for `show
	// policies` and the rule that two policies of a section may not define
	// the same one.
	Entries() []string
	Close() error
}

// PolicyCompiler compiles a policy file. It reports errors with the
// script's own file:line. It runs at configuration preparation (`varde
// check` compiles every policy) and must not keep anything open on error.
type PolicyCompiler func(spec PolicySpec) (Policy, error)

var policyEngines = struct {
	sync.RWMutex
	m map[string]PolicyCompiler
}{m: map[string]PolicyCompiler{}}

// RegisterPolicyEngine makes files ending in ext (".lua", ".wasm")
// compilable by CompilePolicy. Engines register from their package's init
// (package scripting/...), so core never imports an engine.
func RegisterPolicyEngine(ext string, c PolicyCompiler) {
	policyEngines.Lock()
	defer policyEngines.Unlock()
	if _, dup := policyEngines.m[ext]; dup {
		panic("core: policy engine " + ext + " registered twice")
	}
	policyEngines.m[ext] = c
}

// CompilePolicy compiles spec with the engine registered for its file
// extension.
func CompilePolicy(spec PolicySpec) (Policy, error) {
	ext := filepath.Ext(spec.Path)
	policyEngines.RLock()
	c := policyEngines.m[ext]
	policyEngines.RUnlock()
	if c == nil {
		return nil, fmt.Errorf("policy %s: no policy engine for %q files in this build", spec.Path, ext)
	}
	return c(spec)
}

// PolicyVars is implemented by policies with a shared table the admin
// socket may read and set (`set policy var FILE KEY VALUE`): a blue/green
// switch, a maintenance flag, a canary percentage. Values are strings,
// numbers (float64) or booleans; nil deletes.
type PolicyVars interface {
	Var(key string) (any, bool)
	SetVar(key string, v any) bool
	VarKeys() []string
}

// PolicyNoter is implemented by request views that keep, for the log, what
// the policy calls of the transaction decided (the policy.verdict fetch):
// the backend or server name a policy chose, PolicyDeclined, or
// "fallback:REASON" when its verdict was not used. The last call of the
// transaction wins (choose_backend, then sticky_key, then choose_server).
// Notes outlive the request: they must not alias request buffers
// (configuration names, engine-made strings and the constants here are
// fine). Noting costs a type assertion, only where a policy is configured.
type PolicyNoter interface {
	NotePolicy(verdict string)
	PolicyNote() string
}

// PolicyDeclined is the note of a policy call that returned nil.
const PolicyDeclined = "declined"

// NotePolicy records verdict on req's view when the view keeps notes.
func NotePolicy(req Request, verdict string) {
	if n, ok := req.(PolicyNoter); ok {
		n.NotePolicy(verdict)
	}
}

// StartPolicyCall clears req's note before a policy call, so that
// EndPolicyCall can tell whether the engine noted a failure's reason.
func StartPolicyCall(req Request) {
	NotePolicy(req, "")
}

// DeclinedPolicyCall notes PolicyDeclined after a call that gave no
// verdict, unless the engine already noted why (a fallback reason).
func DeclinedPolicyCall(req Request) {
	if n, ok := req.(PolicyNoter); ok && n.PolicyNote() == "" {
		n.NotePolicy(PolicyDeclined)
	}
}

// PolicyFallback is the note of a call whose verdict the built-in
// replaced: "fallback:" and the reason of varde_policy_errors_total,
// without allocating for the known reasons.
func PolicyFallback(reason string) string {
	switch reason {
	case "error":
		return "fallback:error"
	case "timeout":
		return "fallback:timeout"
	case "memory":
		return "fallback:memory"
	case "type":
		return "fallback:type"
	case "unknown":
		return "fallback:unknown"
	case "unusable":
		return "fallback:unusable"
	case "panic":
		return "fallback:panic"
	}
	return "fallback"
}
