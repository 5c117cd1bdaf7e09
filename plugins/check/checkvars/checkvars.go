// Package checkvars runs the variable lines of health checks
// (http-check and tcp-check set-var, set-var-fmt, unset-var) and renders
// their log-format strings, as HAProxy 2.6 does at each check run. The
// variables live for the run (check. and sess. scopes; proc. is the
// process's); core/config lets only constants and var() be read.
package checkvars

import (
	"bytes"

	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/sample"
)

// Var is one compiled variable line.
type Var struct {
	ref   sample.VarRef
	cond  sample.SetCond
	expr  *sample.Expr
	tmpl  *sample.Template
	unset bool
}

// Compile compiles a variable line.
func Compile(v health.CheckVar) (*Var, error) {
	ref, err := sample.ParseVarName(v.Name)
	if err != nil {
		return nil, err
	}
	cv := &Var{ref: ref, unset: v.Unset}
	for _, c := range v.Conds {
		f, err := sample.ParseSetCond(c)
		if err != nil {
			return nil, err
		}
		cv.cond |= f
	}
	switch {
	case v.Unset:
	case v.Fmt != "":
		cv.tmpl, err = sample.ParseTemplate(v.Fmt, sample.Options{})
	default:
		cv.expr, err = sample.Parse(v.Expr, sample.Options{})
	}
	return cv, err
}

// Run is one check run's variables and evaluation context.
type Run struct {
	vs sample.Vars
	c  sample.Ctx
}

// NewRun starts a check run's variables.
func NewRun() *Run {
	r := &Run{vs: sample.Vars{InCheck: true}}
	r.c.Vars = &r.vs
	return r
}

// Close drops the run's variables.
func (r *Run) Close() {
	r.vs.Reset()
	r.vs.Sess.Release()
	r.vs.Sess = nil
}

// Do runs a variable line; a value that cannot be computed leaves the
// variable as it was.
func (r *Run) Do(cv *Var) {
	if cv.unset {
		r.vs.UnsetRef(cv.ref)
		return
	}
	if cv.tmpl != nil {
		var v sample.Value
		v.SetStr([]byte(r.Render(cv.tmpl)))
		r.vs.SetRef(cv.ref, v, cv.cond)
		return
	}
	if v, _, ok := cv.expr.Eval(&r.c, nil); ok {
		r.vs.SetRef(cv.ref, v, cv.cond)
	}
}

// Render renders a log-format string with the run's variables.
func (r *Run) Render(t *sample.Template) string {
	out, _ := t.Append(nil, &r.c, nil)
	return string(bytes.Clone(out))
}
