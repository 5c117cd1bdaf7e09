package proxy

import (
	"fmt"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/sample"
)

// The actions of tcp-request connection and session rules beyond accept,
// reject and track-scN, with HAProxy 2.6's meaning:
//
//   - set-var, set-var-fmt, unset-var: in the sess. scope the variable
//     belongs to the connection from then on (every later rule, every
//     request of it, the log line); proc. as anywhere. There is no
//     transaction yet: HAProxy accepts txn., req. and res. there and sets
//     nothing, and so does varde;
//   - set-src, set-src-port, set-dst, set-dst-port: the connection's
//     addresses from then on, for the later rules, every request of the
//     connection, X-Forwarded-For, stick keys and the log (%ci, %cp, %fi,
//     %fp); a PROXY header read after the connection rules replaces them;
//   - sc-inc-gpc0(N), sc-inc-gpc1(N), sc-set-gpt0(N): on the counter an earlier rule of
//     the connection tracked (nothing when none).
//
// They do not end the rule list. Their expressions can read only what
// exists before any byte is read (tcpFetchesOnly).

// l4Do runs r's action when it is one of those (or a track-scN) and
// reports whether it was; false: r is accept or reject.
func (f *Frontend) l4Do(r *TCPRule, v *tcpView) bool {
	switch {
	case r.Track != nil && r.Track.Kind == TrackSC:
		f.connTrack(r.Track, v)
	case r.Track != nil:
		if v.st != nil {
			r.Track.scAction(v.st)
		}
	case r.Var != nil:
		if !r.noVar {
			r.Var.doTCP(v)
		}
	case r.Addr != nil:
		r.Addr.doTCP(v)
	default:
		return false
	}
	return true
}

// doTCP rewrites v's address or port; a value of the wrong kind changes
// nothing.
func (a *setAddrActor) doTCP(v *tcpView) {
	ev := ruleEvals.Get().(*ruleEval)
	sample.RequestCtx(&ev.ctx, v)
	val, ok := a.value(ev) // setsrc.go
	if !ok {
		return
	}
	at := &v.src
	if a.dst {
		at = &v.dst
	}
	*at = a.rewrite(*at, val)
}

// l4RuleOf compiles the set-src family and checks what the expressions of
// a connection or session rule read.
func l4RuleOf(rule *TCPRule, r *config.TCPRule) error {
	if r.Value != "" {
		a, err := buildSetAddr(&config.HTTPRule{Action: r.Action, Value: r.Value})
		if err != nil {
			return err
		}
		rule.Addr = a.(*setAddrActor)
	}
	if r.Layer == "content" {
		return nil
	}
	if rule.Var != nil {
		sc := rule.Var.ref.Scope
		rule.noVar = sc != sample.ScopeSess && sc != sample.ScopeProc
	}
	for _, e := range l4Exprs(rule) {
		if n := e.FetchName(); !l4Fetches[n] && !isStickFetch(n) {
			return fmt.Errorf("fetch %q cannot be used in a tcp-request %s rule: what it reads is not there yet", n, r.Layer)
		}
	}
	return nil
}

// l4Exprs are the expressions an action evaluates.
func l4Exprs(rule *TCPRule) []*sample.Expr {
	switch {
	case rule.Addr != nil:
		return []*sample.Expr{rule.Addr.expr}
	case rule.Var != nil && rule.Var.expr != nil:
		return []*sample.Expr{rule.Var.expr}
	case rule.Var != nil && rule.Var.tmpl != nil:
		return rule.Var.tmpl.Exprs()
	}
	return nil
}

// l4Vars gives connection and session rules the connection's sess.
// variables (*sv, created by the first sess. set-var) through a view;
// done hands them back.
type l4Vars struct{ vs sample.Vars }

func (l *l4Vars) begin(v *tcpView, sv *sample.SessVars) {
	l.vs.Sess = sv
	v.vars = &l.vs
}

func (l *l4Vars) done(sv **sample.SessVars) {
	*sv = l.vs.Sess
	l.vs.Sess = nil
}

// releaseVars lets go of a refused connection's variables.
func releaseVars(sv **sample.SessVars) {
	(*sv).Release()
	*sv = nil
}
