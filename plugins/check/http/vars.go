package http

import (
	"bytes"
	"strings"

	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/sample"
)

// The variable lines of an HTTP check (http-check set-var, set-var-fmt,
// unset-var) and the log-format parts of its request (hdr values of
// http-check send, uri-lf, body-lf), as HAProxy 2.6 runs them: at each
// check, in order, before the request is sent. The variables live for the
// check (check. and sess. scopes; proc. is the process's). core/config
// lets only constants and var() be read there.

type checkVar struct {
	ref   sample.VarRef
	cond  sample.SetCond
	expr  *sample.Expr
	tmpl  *sample.Template
	unset bool
}

// dynReq is a request with log-format parts, built at each check.
type dynReq struct {
	vars       []checkVar
	spec       health.HTTPSpec
	uri, body  *sample.Template
	hdrs       []*sample.Template // nil for a literal value
	needsBuild bool
}

func compileDyn(spec health.HTTPSpec) (*dynReq, error) {
	d := &dynReq{spec: spec, hdrs: make([]*sample.Template, len(spec.Headers))}
	for _, v := range spec.Vars {
		cv, err := compileVar(v)
		if err != nil {
			return nil, err
		}
		d.vars = append(d.vars, cv)
	}
	var err error
	if d.uri, err = lf(spec.URIFmt); err != nil {
		return nil, err
	}
	if d.body, err = lf(spec.BodyFmt); err != nil {
		return nil, err
	}
	d.needsBuild = d.uri != nil || d.body != nil
	for i, h := range spec.Headers {
		if i < len(spec.HeaderLF) && spec.HeaderLF[i] && strings.Contains(h[1], "%") {
			// Even without an expression, %% is one '%'.
			t, err := sample.ParseTemplate(h[1], sample.Options{})
			if err != nil {
				return nil, err
			}
			d.hdrs[i], d.needsBuild = t, true
		}
	}
	if !d.needsBuild && len(d.vars) == 0 {
		return nil, nil
	}
	return d, nil
}

func lf(s string) (*sample.Template, error) {
	if s == "" {
		return nil, nil
	}
	return sample.ParseTemplate(s, sample.Options{})
}

func compileVar(v health.CheckVar) (checkVar, error) {
	ref, err := sample.ParseVarName(v.Name)
	if err != nil {
		return checkVar{}, err
	}
	cv := checkVar{ref: ref, unset: v.Unset}
	for _, c := range v.Conds {
		f, err := sample.ParseSetCond(c)
		if err != nil {
			return checkVar{}, err
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

// build runs the variable lines and renders the request.
func (d *dynReq) build(static []byte) []byte {
	vs := &sample.Vars{InCheck: true}
	defer func() { vs.Reset(); vs.Sess.Release() }()
	var c sample.Ctx
	c.Vars = vs
	for i := range d.vars {
		d.vars[i].run(vs, &c)
	}
	if !d.needsBuild {
		return static
	}
	spec := d.spec
	spec.Headers = append([][2]string(nil), spec.Headers...)
	for i, t := range d.hdrs {
		if t != nil {
			spec.Headers[i][1] = render(t, &c)
		}
	}
	if d.uri != nil {
		spec.URI = render(d.uri, &c)
	}
	if d.body != nil {
		spec.Body = render(d.body, &c)
	}
	return BuildRequest(spec)
}

func render(t *sample.Template, c *sample.Ctx) string {
	out, _ := t.Append(nil, c, nil)
	return string(bytes.Clone(out))
}

func (cv *checkVar) run(vs *sample.Vars, c *sample.Ctx) {
	if cv.unset {
		vs.UnsetRef(cv.ref)
		return
	}
	if cv.tmpl != nil {
		var v sample.Value
		v.SetStr([]byte(render(cv.tmpl, c)))
		vs.SetRef(cv.ref, v, cv.cond)
		return
	}
	if v, _, ok := cv.expr.Eval(c, nil); ok {
		vs.SetRef(cv.ref, v, cv.cond)
	}
}
