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
// tune.vars.proc-max-size, which varde enforces too when set).
const maxProcVars = 10000

// procVars are HAProxy's proc. scope: one set per process, shared by every
// transaction and event loop. They are set by set-var(proc.NAME), on the
// admin socket (`set var proc.NAME EXPR`, in experimental mode as HAProxy
// 2.6 asks) or by a lua-load script (txn:set_var), and read by
// var(proc.NAME) and txn:get_var. A name the configuration uses exists
// from the start, not set (DeclareProcVar), as HAProxy creates them at
// parsing: ifexists holds for it. Unlike HAProxy, whose reload starts a
// new process, a varde reload keeps them: a maintenance flag stays set.
var procVars = struct {
	mu   sync.RWMutex // reads, on the request path, share it
	m    map[string]*procVar
	size int64
}{m: map[string]*procVar{}}

type procVar struct {
	v         Value // TypeAny: exists, not set
	buf       []byte
	permanent bool
}

// IsProcVar reports whether name is in the proc. scope.
func IsProcVar(name string) bool { return strings.HasPrefix(name, procPrefix) }

// DeclareProcVar creates a configuration's proc. variable, not set; it is
// never removed (unset-var leaves it not set).
func DeclareProcVar(name string) {
	procVars.mu.Lock()
	defer procVars.mu.Unlock()
	if p := procVars.m[name]; p != nil {
		p.permanent = true
		return
	}
	if len(procVars.m) < maxProcVars {
		procVars.m[name] = &procVar{permanent: true}
	}
}

// ProcVar returns a process-wide variable. Its bytes are never changed
// afterwards (a new value gets a fresh buffer), so the value may be kept.
func ProcVar(name string) (Value, bool) {
	procVars.mu.RLock()
	p := procVars.m[name]
	var v Value
	if p != nil {
		v = p.v
	}
	procVars.mu.RUnlock()
	return v, v.Type != TypeAny
}

// SetProcVar stores a copy of v; false when the table is full.
func SetProcVar(name string, v Value) bool { return setProcVarCond(name, v, 0) }

func setProcVarCond(name string, v Value, c SetCond) bool {
	procVars.mu.Lock()
	defer procVars.mu.Unlock()
	p := procVars.m[name]
	if p != nil && c&IfNotExists != 0 || p == nil && c&IfExists != 0 {
		return false
	}
	if p == nil {
		if len(procVars.m) >= maxProcVars || !procReserve(varEntryBytes) {
			return false
		}
		p = &procVar{}
		procVars.m[name] = p
	}
	// A fresh buffer each time: readers may still hold the old bytes.
	p.buf = nil
	return assign(&p.v, &p.buf, v, c, procReserve)
}

// procReserve accounts n bytes in the proc. scope (procVars.mu held).
func procReserve(n int64) bool {
	if l := limits(); n > 0 && l != nil {
		if l.Proc > 0 && procVars.size+n > l.Proc || !globalFits(l, n) {
			return false
		}
	}
	procVars.size += n
	accountGlobal(n)
	return true
}

// UnsetProcVar removes a process-wide variable (one the configuration
// declared stays, not set).
func UnsetProcVar(name string) {
	procVars.mu.Lock()
	defer procVars.mu.Unlock()
	p := procVars.m[name]
	if p == nil {
		return
	}
	n := int64(len(p.v.Str))
	p.v, p.buf = Value{}, nil
	if !p.permanent {
		delete(procVars.m, name)
		n += varEntryBytes
	}
	procReserve(-n)
}

// ProcVarNames lists the process-wide variables that are set, sorted.
func ProcVarNames() []string {
	procVars.mu.RLock()
	out := make([]string, 0, len(procVars.m))
	for k, p := range procVars.m {
		if p.v.Type != TypeAny {
			out = append(out, k)
		}
	}
	procVars.mu.RUnlock()
	sort.Strings(out)
	return out
}
