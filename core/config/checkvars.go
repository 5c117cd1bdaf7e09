package config

import (
	"strings"

	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/sample"
)

// http-check and tcp-check set-var(NAME[,COND...]) EXPR,
// set-var-fmt(NAME[,COND...]) FMT and unset-var(NAME), and the log-format
// values that read them: http-check send's hdr values, uri-lf, body-lf,
// and tcp-check send-lf. varde builds the forms that
// run before the request is sent: the variable lines come before the
// http-check send line, in the check. (a check run), sess. (the same, a
// check's session) or proc. scope, and every expression reads only
// constants and variables. Anything else is an error (see checkVarRefused).

// checkVarScopes are the scopes a check variable may use.
func checkVarScope(name string) bool {
	r, err := sample.ParseVarName(name)
	return err == nil && (r.Scope == sample.ScopeCheck || r.Scope == sample.ScopeSess || r.Scope == sample.ScopeProc)
}

// parseHTTPCheckVar reads an http-check variable line into hc.Var.
func (p *parser) parseHTTPCheckVar(key string, hc *HTTPCheck, act Token, args []Token) bool {
	for _, prev := range p.cur.HTTPCheck {
		if prev.Action == "send" || prev.Action == "expect" {
			p.d.Errorf(act.Pos, key, "move it before the http-check send line", "%s after http-check send/expect is not supported by varde yet (it would read the response)", key)
			return false
		}
	}
	hr := &HTTPRule{}
	if !parseVarRule(p, key, act, args, hr) {
		return false
	}
	if !checkVarScope(hr.Var.Name) {
		p.d.Errorf(act.Pos, key, "check.NAME, sess.NAME or proc.NAME", "%s: only the check, sess and proc scopes are built in checks", key)
		return false
	}
	if !p.checkFetchesOnly(key, act, hr.Var.Expr, hr.Var.Fmt) {
		return false
	}
	hc.Var = hr.Var
	return true
}

// parseCheckVar reads a tcp-check variable line.
func (p *parser) parseCheckVar(key string, act Token, args []Token) (*health.CheckVar, bool) {
	hc := &HTTPCheck{}
	saved := p.cur.HTTPCheck
	p.cur.HTTPCheck = nil // tcp-check lines may come anywhere
	ok := p.parseHTTPCheckVar(key, hc, act, args)
	p.cur.HTTPCheck = saved
	if !ok {
		return nil, false
	}
	v := hc.Var
	return &health.CheckVar{Name: v.Name, Conds: v.Conds, Expr: v.Expr, Fmt: v.Fmt, Unset: actionBase(act.Text) == "unset-var"}, true
}

// checkFetchesOnly refuses an expression or log-format that reads
// anything but constants and variables (a check has no client, and the
// response is not read yet).
func (p *parser) checkFetchesOnly(key string, at Token, expr, fmt string) bool {
	var names []string
	o := sample.Options{Inspect: true}
	if expr != "" {
		e, err := sample.Parse(expr, o)
		if err != nil {
			reportSampleErr(p.d, at.Pos, key, err)
			return false
		}
		names = append(names, e.FetchName())
	}
	if fmt != "" {
		t, err := sample.ParseTemplate(fmt, o)
		if err != nil {
			reportSampleErr(p.d, at.Pos, key, err)
			return false
		}
		for _, e := range t.Exprs() {
			names = append(names, e.FetchName())
		}
	}
	for _, n := range names {
		if !startupFetches[n] {
			p.d.Errorf(at.Pos, key, "str(), int(), bool(), ipv4(), ipv6(), bin() or var(check.NAME)", "fetch %q is not built in health checks yet", n)
			return false
		}
	}
	return true
}

// checkSendFmt checks the log-format values of http-check send.
func (p *parser) checkSendFmt(key string, at Token, values ...string) bool {
	for _, v := range values {
		if strings.Contains(v, "%") && !p.checkFetchesOnly(key, at, "", v) {
			return false
		}
	}
	return true
}
