package sample

import (
	"sort"
	"strings"
	"sync"
)

// procPrefix starts HAProxy's process-wide variables.
const procPrefix = "proc."

// maxProcVars bounds the process-wide variables: a script setting one per
// client cannot grow the process without end (HAProxy bounds them with
// tune.vars.proc-max-size).
const maxProcVars = 10000

// procVars are HAProxy's proc. scope: one set per process, shared by every
// transaction and event loop. They are set on the admin socket (`set var
// proc.NAME EXPR`, in experimental mode as HAProxy 2.6 asks) or by a
// lua-load script (txn:set_var), and read by var(proc.NAME) and
// txn:get_var. Unlike HAProxy, whose reload starts a new process, a varde
// reload keeps them: a maintenance flag stays set across a reload.
var procVars = struct {
	mu sync.RWMutex // reads, on the request path, share it
	m  map[string]Value
}{m: map[string]Value{}}

// IsProcVar reports whether name is in the proc. scope.
func IsProcVar(name string) bool { return strings.HasPrefix(name, procPrefix) }

// ProcVar returns a process-wide variable. Its bytes are never changed
// afterwards (SetProcVar stores a fresh copy), so the value may be kept.
func ProcVar(name string) (Value, bool) {
	procVars.mu.RLock()
	v, ok := procVars.m[name]
	procVars.mu.RUnlock()
	return v, ok
}

// SetProcVar stores a copy of v; false when the table is full.
func SetProcVar(name string, v Value) bool {
	if v.Type == TypeStr || v.Type == TypeBin {
		v.Str = append([]byte(nil), v.Str...)
	}
	procVars.mu.Lock()
	defer procVars.mu.Unlock()
	if _, ok := procVars.m[name]; !ok && len(procVars.m) >= maxProcVars {
		return false
	}
	procVars.m[name] = v
	return true
}

// UnsetProcVar removes a process-wide variable.
func UnsetProcVar(name string) {
	procVars.mu.Lock()
	delete(procVars.m, name)
	procVars.mu.Unlock()
}

// ProcVarNames lists the process-wide variables, sorted.
func ProcVarNames() []string {
	procVars.mu.RLock()
	out := make([]string, 0, len(procVars.m))
	for k := range procVars.m {
		out = append(out, k)
	}
	procVars.mu.RUnlock()
	sort.Strings(out)
	return out
}
