package http

import (
	"strings"

	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/plugins/check/checkvars"
)

// The variable lines of an HTTP check (http-check set-var, set-var-fmt,
// unset-var) and the log-format parts of its request (hdr values of
// http-check send, uri-lf, body-lf), as HAProxy 2.6 runs them: at each
// check, in order, before the request is sent. The variables live for the
// check (check. and sess. scopes; proc. is the process's). core/config
// lets only constants and var() be read there.

// dynReq is a request with log-format parts, built at each check.
type dynReq struct {
	vars       []*checkvars.Var
	spec       health.HTTPSpec
	uri, body  *sample.Template
	hdrs       []*sample.Template // nil for a literal value
	needsBuild bool
}

func compileDyn(spec health.HTTPSpec) (*dynReq, error) {
	d := &dynReq{spec: spec, hdrs: make([]*sample.Template, len(spec.Headers))}
	for _, v := range spec.Vars {
		cv, err := checkvars.Compile(v)
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

// build runs the variable lines and renders the request.
func (d *dynReq) build(static []byte) []byte {
	run := checkvars.NewRun()
	defer run.Close()
	for _, v := range d.vars {
		run.Do(v)
	}
	if !d.needsBuild {
		return static
	}
	spec := d.spec
	spec.Headers = append([][2]string(nil), spec.Headers...)
	for i, t := range d.hdrs {
		if t != nil {
			spec.Headers[i][1] = run.Render(t)
		}
	}
	if d.uri != nil {
		spec.URI = run.Render(d.uri)
	}
	if d.body != nil {
		spec.Body = run.Render(d.body)
	}
	return BuildRequest(spec)
}
