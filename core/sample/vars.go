package sample

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Scope is a variable's scope, HAProxy's vars_scope.
type Scope uint8

const (
	ScopeNone Scope = iota
	ScopeProc       // the whole process (procvars.go)
	ScopeSess       // the client connection: every transaction on it
	ScopeTxn        // one transaction, request and response
	ScopeReq        // the request's processing only
	ScopeRes        // the response's processing only
	// ScopeCheck is one health check run (http-check/tcp-check set-var).
	// Elsewhere it names nothing: set-var sets nothing and var() has no
	// sample, as HAProxy 2.6 accepts it there and finds no variables.
	ScopeCheck
)

var scopeNames = [...]string{"", "proc", "sess", "txn", "req", "res", "check"}

// VarRef is a compiled variable name: the full name ("txn.user"), used as
// the storage key, and its scope.
type VarRef struct {
	Name  string
	Scope Scope
}

// ParseVarName compiles SCOPE.NAME. The name part may hold 'a-z', 'A-Z',
// '0-9', '.' and '_', as HAProxy 2.6 accepts.
func ParseVarName(s string) (VarRef, error) {
	scope, rest, ok := strings.Cut(s, ".")
	if !ok || rest == "" {
		return VarRef{}, &Error{Msg: "bad variable name " + strconv.Quote(s), Hint: "SCOPE.NAME with SCOPE one of proc, sess, txn, req, res, check"}
	}
	sc := ScopeNone
	for i, n := range scopeNames {
		if i > 0 && n == scope {
			sc = Scope(i)
		}
	}
	if sc == ScopeNone {
		return VarRef{}, &Error{Msg: "unknown variable scope " + strconv.Quote(scope) + " in " + strconv.Quote(s), Hint: "proc, sess, txn, req, res or check"}
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return VarRef{}, &Error{Msg: "bad character " + strconv.QuoteRune(rune(c)) + " in variable name " + strconv.Quote(s), Hint: "a variable name holds a-z, A-Z, 0-9, '.' and '_'"}
		}
	}
	return VarRef{Name: s, Scope: sc}, nil
}

// SetCond is the set of set-var conditions (HAProxy 2.6's VF_COND_*):
// every one given must hold for the variable to be set.
type SetCond uint16

const (
	IfExists SetCond = 1 << iota
	IfNotExists
	IfEmpty
	IfNotEmpty
	IfSet
	IfNotSet
	IfGT
	IfLT
)

var condNames = [...]string{"ifexists", "ifnotexists", "ifempty", "ifnotempty", "ifset", "ifnotset", "ifgt", "iflt"}

// ParseSetCond reads one condition word.
func ParseSetCond(w string) (SetCond, error) {
	for i, n := range condNames {
		if n == w {
			return 1 << i, nil
		}
	}
	return 0, &Error{Msg: "unknown condition " + strconv.Quote(w), Hint: strings.Join(condNames[:], ", ")}
}

// VarLimits are the tune.vars.*-max-size settings in bytes, 0 for no
// limit. Accounting is hierarchical as in HAProxy: a request variable
// counts in reqres, txn, sess and global; a session variable in sess and
// global; a process variable in proc and global.
type VarLimits struct {
	ReqRes, Txn, Sess, Proc, Global int64
}

// varEntryBytes is what HAProxy 2.6 accounts for a variable besides its
// bytes: sizeof(struct var) on 64-bit Linux.
const varEntryBytes = 80

var (
	varLimits  atomic.Pointer[VarLimits]
	globalSize atomic.Int64 // every scope's bytes, counted when Global or Proc is set
)

// SetVarLimits installs the process's limits (the engine does it when a
// generation starts; nil or zero fields: no limit).
func SetVarLimits(l *VarLimits) {
	if l != nil && *l == (VarLimits{}) {
		l = nil
	}
	varLimits.Store(l)
}

func limits() *VarLimits { return varLimits.Load() }

// varList is one scope's variables: few in practice, so a slice searched
// in order. Entries keep their byte buffers across resets (pooled
// sessions reuse them); an entry of TypeAny exists but is not set.
type varList struct {
	e    []varEntry
	size int64
}

type varEntry struct {
	name string
	v    Value
	buf  []byte
	live bool
}

func (l *varList) find(name string) *varEntry {
	for i := range l.e {
		if l.e[i].live && l.e[i].name == name {
			return &l.e[i]
		}
	}
	return nil
}

// add returns a free entry (a dead one first, keeping its buffer).
func (l *varList) add(name string) *varEntry {
	for i := range l.e {
		if !l.e[i].live {
			e := &l.e[i]
			e.name, e.live, e.v = name, true, Value{}
			return e
		}
	}
	l.e = append(l.e, varEntry{name: name, live: true})
	return &l.e[len(l.e)-1]
}

func (l *varList) clear() int64 {
	freed := l.size
	for i := range l.e {
		l.e[i].live, l.e[i].v, l.e[i].name = false, Value{}, ""
	}
	l.size = 0
	return freed
}

// SessVars are a client connection's sess. variables. The connection's
// owner keeps them between transactions (an idle keep-alive connection
// holds them while parked); HTTP/2 streams of one connection share them,
// hence the lock.
type SessVars struct {
	mu sync.Mutex
	l  varList
	// total is the bytes accounted in the sess. scope: its own variables
	// and those of its transactions (hierarchical, as HAProxy's), atomic
	// as concurrent HTTP/2 streams add to it.
	total atomic.Int64
}

var sessVarsPool = sync.Pool{New: func() any { return new(SessVars) }}

// NewSessVars returns pooled storage for a connection's variables.
func NewSessVars() *SessVars { return sessVarsPool.Get().(*SessVars) }

// Release forgets the variables and returns the storage to the pool.
func (sv *SessVars) Release() {
	if sv == nil {
		return
	}
	sv.mu.Lock()
	sv.l.clear()
	sv.mu.Unlock()
	accountGlobal(-sv.total.Swap(0))
	sessVarsPool.Put(sv)
}

// Vars are the variables one transaction sees: its txn. and req./res.
// scopes, its connection's sess. scope (Sess, set by the engine; nil when
// the connection keeps none) and the process's proc. scope. Reset between
// transactions keeps the storage, so a warm session allocates nothing.
type Vars struct {
	txn, reqres varList
	// response is true once the response's processing began: req.
	// variables were dropped and res. ones may be set (HAProxy moves
	// vars_reqres from SCOPE_REQ to SCOPE_RES there).
	response bool
	Sess     *SessVars
	// InCheck marks a health check's variables: the check. scope is
	// usable (kept in the txn list, which a check does not use).
	InCheck bool
}

// EnterResponse starts the response's processing: the request's req.
// variables are dropped, res. ones become usable.
func (vs *Vars) EnterResponse() {
	if vs == nil || vs.response {
		return
	}
	vs.response = true
	if len(vs.reqres.e) > 0 {
		vs.drop(vs.reqres.clear(), true)
	}
}

// Reset ends the transaction: txn., req. and res. variables are dropped;
// sess. ones stay with the connection.
func (vs *Vars) Reset() {
	if vs == nil {
		return
	}
	vs.response = false
	if len(vs.txn.e) == 0 && len(vs.reqres.e) == 0 {
		return
	}
	vs.reqres.clear()
	vs.drop(vs.txn.clear(), false) // txn's size includes reqres's
}

// drop takes n freed bytes off the totals above the cleared list: txn's
// (when a req./res. list was cleared), the session's and the global one.
func (vs *Vars) drop(n int64, inTxn bool) {
	if n == 0 {
		return
	}
	if inTxn {
		vs.txn.size -= n
	}
	if vs.Sess != nil {
		vs.Sess.total.Add(-n) // sess counts what its transactions hold
	}
	accountGlobal(-n)
}

func accountGlobal(n int64) {
	if l := limits(); l != nil && (l.Global > 0 || l.Proc > 0) && n != 0 {
		globalSize.Add(n)
	}
}

// usable reports whether the scope can be used now: req. only while the
// request is processed, res. only during the response, sess. only when
// the connection keeps variables.
func (vs *Vars) usable(s Scope) bool {
	switch s {
	case ScopeReq:
		return !vs.response
	case ScopeRes:
		return vs.response
	case ScopeCheck:
		return vs.InCheck
	}
	return true
}

func (vs *Vars) list(s Scope) *varList {
	switch s {
	case ScopeTxn, ScopeCheck:
		return &vs.txn
	case ScopeReq, ScopeRes:
		return &vs.reqres
	}
	return &vs.Sess.l
}

// GetRef returns a variable's value; false when it is not set or its
// scope is not usable now (req. during the response...). The value's
// bytes are valid until the variable is set again.
func (vs *Vars) GetRef(r VarRef) (Value, bool) {
	if r.Scope == ScopeProc {
		return ProcVar(r.Name)
	}
	if vs == nil || !vs.usable(r.Scope) || r.Scope == ScopeSess && vs.Sess == nil {
		return Value{}, false
	}
	if r.Scope == ScopeSess {
		vs.Sess.mu.Lock()
		defer vs.Sess.mu.Unlock()
	}
	e := vs.list(r.Scope).find(r.Name)
	if e == nil || e.v.Type == TypeAny {
		return Value{}, false
	}
	return e.v, true
}

// SetRef sets a variable under the conditions c, as HAProxy's var_set: it
// reports whether the variable was set.
func (vs *Vars) SetRef(r VarRef, v Value, c SetCond) bool {
	if r.Scope == ScopeProc {
		return setProcVarCond(r.Name, v, c)
	}
	if vs == nil || !vs.usable(r.Scope) {
		return false
	}
	if r.Scope == ScopeSess {
		if vs.Sess == nil {
			vs.Sess = NewSessVars()
			vs.Sess.total.Store(vs.txn.size) // sess counts its transaction's
		}
		vs.Sess.mu.Lock()
		defer vs.Sess.mu.Unlock()
	}
	return vs.set(r, v, c)
}

func (vs *Vars) set(r VarRef, v Value, c SetCond) bool {
	l := vs.list(r.Scope)
	e := l.find(r.Name)
	if e != nil && c&IfNotExists != 0 || e == nil && c&IfExists != 0 {
		return false
	}
	if e == nil {
		if !vs.reserve(r.Scope, varEntryBytes) {
			return false
		}
		e = l.add(r.Name)
	}
	return assign(&e.v, &e.buf, v, c, func(n int64) bool { return vs.reserve(r.Scope, n) })
}

// assign stores v in a variable under the value conditions (ifset,
// ifempty, ifgt...), as HAProxy's var_set once the entry exists. reserve
// accounts n more bytes (negative: freed) and says whether they fit.
func assign(dst *Value, buf *[]byte, v Value, c SetCond, reserve func(int64) bool) bool {
	prev := dst.Type
	if c&IfSet != 0 && prev == TypeAny || c&IfNotSet != 0 && prev != TypeAny {
		return false
	}
	isText := v.Type == TypeStr || v.Type == TypeBin
	if c&IfEmpty != 0 && !isText && v.Type != TypeAny {
		return false // a scalar is never empty
	}
	if isText && (c&IfNotEmpty != 0 && len(v.Str) == 0 || c&IfEmpty != 0 && len(v.Str) > 0) {
		return false
	}
	if v.Type == TypeInt && prev == TypeInt &&
		(c&IfGT != 0 && !(dst.Int > v.Int) || c&IfLT != 0 && !(dst.Int < v.Int)) {
		return false
	}
	if prev == TypeStr || prev == TypeBin {
		reserve(-int64(len(dst.Str)))
	}
	if !isText {
		*dst = v
		dst.Str = nil
		return true
	}
	if !reserve(int64(len(v.Str))) {
		// HAProxy leaves a boolean in place of a value that does not
		// fit its limit; varde leaves the variable set to false.
		*dst = Value{Type: TypeBool}
		return false
	}
	*buf = append((*buf)[:0], v.Str...)
	*dst = Value{Type: v.Type, Str: *buf}
	return true
}

// reserve accounts n bytes in scope s and above; false (nothing
// accounted) when a limit would be passed. Negative n frees.
func (vs *Vars) reserve(s Scope, n int64) bool {
	l := limits()
	sess := vs.Sess
	if n > 0 && l != nil {
		if s == ScopeReq || s == ScopeRes {
			if l.ReqRes > 0 && vs.reqres.size+n > l.ReqRes {
				return false
			}
		}
		if s != ScopeSess && l.Txn > 0 && vs.txn.size+n > l.Txn {
			return false
		}
		if sess != nil && l.Sess > 0 && sess.total.Load()+n > l.Sess {
			return false
		}
		if !globalFits(l, n) {
			return false
		}
	}
	if s == ScopeReq || s == ScopeRes {
		vs.reqres.size += n
	}
	if s != ScopeSess {
		vs.txn.size += n
	}
	if sess != nil {
		sess.total.Add(n)
	}
	accountGlobal(n)
	return true
}

func globalFits(l *VarLimits, n int64) bool {
	g := globalSize.Load() + n
	return !(l.Proc > 0 && g > l.Proc || l.Global > 0 && g > l.Global)
}

// UnsetRef removes a variable (a proc. one declared by the configuration
// stays, not set, as HAProxy's permanent variables).
func (vs *Vars) UnsetRef(r VarRef) {
	if r.Scope == ScopeProc {
		UnsetProcVar(r.Name)
		return
	}
	if vs == nil || !vs.usable(r.Scope) || r.Scope == ScopeSess && vs.Sess == nil {
		return
	}
	if r.Scope == ScopeSess {
		vs.Sess.mu.Lock()
		defer vs.Sess.mu.Unlock()
	}
	e := vs.list(r.Scope).find(r.Name)
	if e == nil {
		return
	}
	n := int64(varEntryBytes)
	if e.v.Type == TypeStr || e.v.Type == TypeBin {
		n += int64(len(e.v.Str))
	}
	e.live, e.v, e.name = false, Value{}, ""
	vs.reserve(r.Scope, -n)
}

// Set stores v under name (scope included: "txn.user"), as a script's
// txn:set_var does; a bad name sets nothing.
func (vs *Vars) Set(name string, v Value) {
	if r, err := ParseVarName(name); err == nil {
		vs.SetRef(r, v, 0)
	}
}

// SetIfExists is txn:set_var(name, value, true): only an existing
// variable is changed.
func (vs *Vars) SetIfExists(name string, v Value) {
	if r, err := ParseVarName(name); err == nil {
		vs.SetRef(r, v, IfExists)
	}
}

// Get returns the named variable (a proc. name: the process-wide one).
func (vs *Vars) Get(name string) (Value, bool) {
	r, err := ParseVarName(name)
	if err != nil {
		return Value{}, false
	}
	return vs.GetRef(r)
}

// Unset removes the named variable.
func (vs *Vars) Unset(name string) {
	if r, err := ParseVarName(name); err == nil {
		vs.UnsetRef(r)
	}
}

// ValidVarName reports whether name is SCOPE.NAME with a scope HAProxy
// knows.
func ValidVarName(name string) bool {
	_, err := ParseVarName(name)
	return err == nil
}

// varArg is the var() fetch's compiled state.
type varArg struct {
	ref VarRef
	def []byte
	has bool // a default was given (it may be empty)
}

func init() {
	RegisterFetch(&Fetch{
		Name: "var", MinArgs: 1, MaxArgs: 2, Out: TypeStr, Where: AtAny,
		Compile: func(args []string, a *Args) error {
			r, err := ParseVarName(args[0])
			if err != nil {
				return err
			}
			va := &varArg{ref: r}
			if len(args) > 1 {
				va.def, va.has = []byte(args[1]), true
			}
			a.P = va
			return nil
		},
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			va := a.P.(*varArg)
			if v, ok := c.Vars.GetRef(va.ref); ok {
				*out = v
				return true
			}
			if va.has {
				out.SetStr(va.def)
				return true
			}
			return false
		},
		Doc: "var(SCOPE.NAME[,DEFAULT]): a variable set by set-var, set-var-fmt, a lua-load script (txn:set_var) or, proc.NAME, on the admin socket (set var); the DEFAULT string when it is not set",
	})
}
