package proxy

import (
	"errors"
	"strings"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
)

// set-var, set-var-fmt and unset-var as http-request/http-response
// actions, with HAProxy 2.6's meaning (docs/variables.md): the variables
// live in the session's sample.Vars (shared with lua's txn:set_var and the
// var() fetch), txn./req./res. for one transaction, sess. for the client
// connection (kept while it is parked, released when it closes), proc.
// for the process.

func init() {
	registerActor(buildVarActor, "set-var", "set-var-fmt", "unset-var")
}

// varActor is one compiled variable action.
type varActor struct {
	ref   sample.VarRef
	cond  sample.SetCond
	expr  *sample.Expr     // set-var
	tmpl  *sample.Template // set-var-fmt
	unset bool
}

func buildVarActor(r *config.HTTPRule) (Actor, error) {
	va := r.Var
	if va == nil {
		return nil, errors.New("variable action without its variable")
	}
	ref, err := sample.ParseVarName(va.Name)
	if err != nil {
		return nil, err
	}
	a := &varActor{ref: ref, unset: actionBase(r.Action) == "unset-var"}
	for _, c := range va.Conds {
		f, err := sample.ParseSetCond(c)
		if err != nil {
			return nil, err
		}
		a.cond |= f
	}
	o := sample.Options{Where: sample.AtRequest | sample.AtResponse}
	switch {
	case a.unset:
	case strings.HasPrefix(r.Action, "set-var-fmt"):
		if a.tmpl, err = sample.ParseTemplate(va.Fmt, o); err != nil {
			return nil, err
		}
	default:
		if a.expr, err = sample.Parse(va.Expr, o); err != nil {
			return nil, err
		}
	}
	if ref.Scope == sample.ScopeProc {
		sample.DeclareProcVar(ref.Name) // exists from the start, as HAProxy's
	}
	return a, nil
}

// Do evaluates the value with the transaction's facts and stores it; a
// value that cannot be fetched leaves the variable as it was (HAProxy's
// action_store).
func (a *varActor) Do(s *session, resp bool) Verdict {
	vs := &s.scr.vars
	if a.unset {
		vs.UnsetRef(a.ref)
		return Verdict{}
	}
	ev := ruleEvals.Get().(*ruleEval)
	s.evalCtx(&ev.ctx, resp)
	a.eval(vs, ev)
	ev.ctx.Reset()
	ruleEvals.Put(ev)
	return Verdict{}
}

// varLimitsOf reads tune.vars.*-max-size.
func varLimitsOf(c *config.Config) *sample.VarLimits {
	t := c.Global.TuneVars
	if t == nil {
		return nil
	}
	l := &sample.VarLimits{ReqRes: t.ReqRes, Txn: t.Txn, Sess: t.Sess, Proc: t.Proc, Global: t.Global}
	if *l == (sample.VarLimits{}) {
		return nil
	}
	return l
}

// closeConn ends an HTTP/1 client connection for good, releasing the
// connection's sess. variables.
func (e *Engine) closeConn(p *parked) {
	p.vars.Release()
	p.vars = nil
	if p.up != nil {
		p.up.closeIdle()
		p.up = nil
	}
	e.closeHTTP(p.f, p.c)
}

// detachVars ends the session's last transaction's variables and hands
// the connection's sess. variables back to their owner (the session goes
// back to the pool, the connection may be parked).
func (s *session) detachVars() *sample.SessVars {
	vs := &s.scr.vars
	vs.Reset()
	sv := vs.Sess
	vs.Sess = nil
	return sv
}

// snapVars appends the variables a log line reads to dst, at most
// logVarBytes (nothing when there are none). An answer, even a local one (deny, return...), went
// through HAProxy's after-response stage, which drops the req. variables
// and moves to res.: a log line sees them as that stage left them.
func (s *session) snapVars(r *logrec.Record, dst []byte) []byte {
	vs := &s.scr.vars
	if r.Status > 0 {
		vs.EnterResponse()
	}
	return vs.AppendSnapshot(dst, logVarBytes)
}

// logVarBytes bounds the variables a log line can read.
const logVarBytes = 512

// tcpVarRuleOf builds a tcp-request content variable action.
func tcpVarRuleOf(rule *TCPRule, r *config.TCPRule) error {
	if r.Var == nil {
		return nil
	}
	a, err := buildVarActor(&config.HTTPRule{Action: r.Action, Var: r.Var})
	if err != nil {
		return err
	}
	rule.Var = a.(*varActor)
	return nil
}

// ScriptState gives a mode tcp connection's evaluations its variables
// (var() in tcp-request content rules and conditions).
func (v *tcpView) ScriptState() (sample.Dynamic, *sample.Vars) { return nil, v.vars }

// doTCP runs the action in a mode tcp connection's content rules. The
// rules run again from the first when more bytes are awaited: an action
// before a rule that waits may run more than once (HAProxy resumes at
// the rule that waited).
func (a *varActor) doTCP(v *tcpView) { a.doView(v.vars, v) }

// doView runs the action with req's facts (a tcp-request or tcp-response
// rule's view) on vs.
func (a *varActor) doView(vs *sample.Vars, req core.Request) {
	if vs == nil {
		return
	}
	if a.unset {
		vs.UnsetRef(a.ref)
		return
	}
	ev := ruleEvals.Get().(*ruleEval)
	sample.RequestCtx(&ev.ctx, req)
	a.eval(vs, ev)
	ev.ctx.Reset()
	ruleEvals.Put(ev)
}

// eval computes the value in ev's context and stores it.
func (a *varActor) eval(vs *sample.Vars, ev *ruleEval) {
	if a.expr != nil {
		v, scratch, ok := a.expr.Eval(&ev.ctx, ev.scratch[:0])
		if ok {
			vs.SetRef(a.ref, v, a.cond)
		}
		ev.scratch = scratch
		return
	}
	var out []byte
	out, ev.scratch = a.tmpl.Append(ev.body[:0], &ev.ctx, ev.scratch[:0])
	var v sample.Value
	v.SetStr(out)
	vs.SetRef(a.ref, v, a.cond)
	ev.body = out[:0]
}

// logReadsVars reports whether the proxy's log-format may read variables
// (a var( in its text): only then are they copied for the log line.
func logReadsVars(p *config.Proxy) bool {
	return p.LogFormat != nil && strings.Contains(p.LogFormat.Value, "var(")
}

// setProcVars applies the global section's set-var lines, in order (a
// later line may read an earlier one with var(proc.NAME)).
func setProcVars(list []*config.GlobalSetVar) {
	for _, sv := range list {
		sample.DeclareProcVar(sv.Name)
		if v, err := sv.Value(); err == nil {
			sample.SetProcVar(sv.Name, v)
		}
	}
}
