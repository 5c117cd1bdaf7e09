package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
)

// aclFlags take a value when true.
var aclFlags = map[string]bool{"-i": false, "-n": false, "-M": false, "--": false, "-f": true, "-m": true, "-u": true}

// parseACLBody reads `CRITERION [flags] VALUES...` from words into a. The
// criterion is any sample expression core/sample compiles (an ACL keyword
// such as hdr_beg(host), or req.hdr(host),lower); the ACL is compiled here
// with core/acl, the engine's own compiler, so that `varde check` accepts
// exactly what `varde run` evaluates.
func (p *parser) parseACLBody(a *ACL, kw string, words []Token, at diag.Pos) bool {
	if len(words) == 0 {
		p.d.Errorf(at, kw, "e.g. acl is_api path_beg /api", "ACL needs a criterion")
		return false
	}
	text := words[0].Text
	a.Criterion, a.Arg = splitCriterion(text)
	rest := words[1:]
	for len(rest) > 0 {
		f := rest[0].Text
		takes, isFlag := aclFlags[f]
		if !isFlag {
			break
		}
		a.Flags = append(a.Flags, f)
		rest = rest[1:]
		if f == "--" {
			break
		}
		if takes {
			if len(rest) == 0 {
				p.d.Errorf(at, kw, f+" VALUE", "ACL flag %s needs a value", f)
				return false
			}
			a.Flags = append(a.Flags, rest[0].Text)
			rest = rest[1:]
		}
	}
	a.Values = append([]Token(nil), rest...)
	if (a.Criterion == "src" || a.Criterion == "dst") && !p.checkAddrValues(a, kw) {
		return true // reported per value, with its column
	}
	values := make([]string, len(a.Values))
	for i, v := range a.Values {
		values[i] = v.Text
	}
	if _, err := acl.Parse(text, a.Flags, values); err != nil {
		p.aclError(words[0].Pos, kw, text, err)
		return false
	}
	return true
}

// splitCriterion keeps `name(arg)` as its two parts, as the model always
// did; an expression with converters stays whole in Criterion.
func splitCriterion(text string) (crit, arg string) {
	i := strings.IndexAny(text, "(,")
	if i < 0 || text[i] != '(' || strings.IndexByte(text, ')') != len(text)-1 {
		return text, ""
	}
	return text[:i], text[i+1 : len(text)-1]
}

func (p *parser) checkAddrValues(a *ACL, kw string) bool {
	ok := true
	for _, v := range a.Values {
		if _, err := parsePrefixOrAddr(v.Text); err != nil {
			p.d.Errorf(v.Pos, kw, "an IP address or network such as 10.0.0.0/8", "%v", err)
			ok = false
		}
	}
	return ok
}

func (p *parser) aclError(pos diag.Pos, kw, text string, err error) {
	var ae *acl.Error
	if !errors.As(err, &ae) {
		p.d.Errorf(pos, kw, "", "ACL criterion %q: %v", text, err)
		return
	}
	crit := ae.Criterion
	if crit == "" {
		crit = text
	}
	if ae.Msg == "unknown criterion" {
		p.d.Errorf(pos, kw, hintNearest(crit, acl.Criteria(), "see docs/samples.md for the supported criteria"), "unknown ACL criterion %q", crit)
		return
	}
	p.d.Errorf(pos, kw, ae.Hint, "ACL criterion %q: %s", crit, ae.Msg)
}

// parseACL reads `acl NAME CRITERION [flags] VALUES...`.
func (p *parser) parseACL(l Line) {
	w := l.Words
	if len(w) < 3 {
		p.d.Errorf(l.Pos, "acl", "acl NAME CRITERION [flags] VALUES, e.g. acl is_api path_beg /api", "acl needs a name and a criterion")
		return
	}
	a := &ACL{Pos: l.Pos, Name: w[1].Text}
	if !validACLName(a.Name) {
		p.d.Errorf(w[1].Pos, "acl", "use letters, digits, '-', '_', '.' and ':'", "invalid ACL name %q", a.Name)
		return
	}
	if p.parseACLBody(a, "acl", w[2:], l.Pos) {
		p.cur.ACLs = append(p.cur.ACLs, a)
	}
}

func validACLName(s string) bool { return validProxyName(s) }

// splitCond splits words at the first if/unless: words before, and the
// condition (nil when absent). ok is false when the condition is malformed
// (already reported); callers then drop the rule.
func (p *parser) splitCond(kw string, words []Token) ([]Token, *Condition, bool) {
	for i, t := range words {
		if (t.Text == "if" || t.Text == "unless") && !t.Quoted {
			c := p.parseCond(kw, t, words[i+1:])
			return words[:i], c, c != nil
		}
	}
	return words, nil, true
}

// parseCond reads the terms of a condition after if/unless.
func (p *parser) parseCond(kw string, at Token, words []Token) *Condition {
	c := &Condition{Pos: at.Pos, Unless: at.Text == "unless"}
	if len(words) == 0 {
		p.d.Errorf(at.Pos, kw, at.Text+" ACL_NAME", "missing condition after %q", at.Text)
		return nil
	}
	and := []*Term{}
	for i := 0; i < len(words); i++ {
		t := words[i]
		if t.Text == "||" || t.Text == "or" {
			if len(and) == 0 {
				p.d.Errorf(t.Pos, kw, "put an ACL on both sides of ||", "empty operand before %q", t.Text)
				return nil
			}
			c.Or = append(c.Or, and)
			and = []*Term{}
			continue
		}
		term := &Term{Pos: t.Pos}
		text := t.Text
		for strings.HasPrefix(text, "!") {
			term.Negate = !term.Negate
			text = text[1:]
		}
		if text == "" {
			if i+1 >= len(words) {
				p.d.Errorf(t.Pos, kw, "write !ACL_NAME", "'!' without an ACL")
				return nil
			}
			i++
			t = words[i]
			text = t.Text
		}
		if text == "{" {
			end := -1
			for j := i + 1; j < len(words); j++ {
				if words[j].Text == "}" {
					end = j
					break
				}
			}
			if end < 0 {
				p.d.Errorf(t.Pos, kw, "close the anonymous ACL with a separate '}'", "unterminated '{' in condition")
				return nil
			}
			a := &ACL{Pos: t.Pos}
			if !p.parseACLBody(a, kw, words[i+1:end], t.Pos) {
				return nil
			}
			term.Anon = a
			i = end
		} else {
			if strings.HasPrefix(text, "{") {
				p.d.Errorf(t.Pos, kw, "separate braces with spaces: { path_beg /a }", "'{' must be a word of its own")
				return nil
			}
			term.ACL = text
		}
		and = append(and, term)
	}
	if len(and) == 0 {
		p.d.Errorf(at.Pos, kw, "put an ACL after ||", "condition ends with an operator")
		return nil
	}
	c.Or = append(c.Or, and)
	return c
}

// condACLs calls fn for every named ACL a condition refers to.
func condACLs(c *Condition, fn func(*Term)) {
	if c == nil {
		return
	}
	for _, and := range c.Or {
		for _, t := range and {
			if t.ACL != "" {
				fn(t)
			}
		}
	}
}

// validateSamples compiles every sample expression of the configuration
// with core/sample, the engine's own compiler, at the stage where it runs:
// http-request values and redirect targets at request time, http-response
// values at response time, log-format at log time, dynamic use_backend
// names at request time. `varde run` compiles the same expressions, so
// check refuses exactly what run would.
func (c *Config) validateSamples(d *diag.List) {
	req := sample.Options{Where: sample.AtRequest, Place: "in http-request rules"}
	res := sample.Options{Where: sample.AtResponse, Place: "in http-response rules"}
	for _, px := range c.Proxies {
		c.validateConditionStages(px, d)
		for _, r := range px.HTTPRequest {
			c.validateRuleSamples("http-request "+r.Action, r, req, d)
		}
		for _, r := range px.HTTPResponse {
			c.validateRuleSamples("http-response "+r.Action, r, res, d)
		}
		for _, r := range px.HTTPAfterResponse {
			c.validateRuleSamples("http-after-response "+r.Action, r, res, d)
		}
		if lf := px.LogFormat; lf != nil && c.once(lf) {
			validateLogFormat(lf, d)
		}
	}
	for _, px := range c.Frontends {
		for _, ub := range px.UseBackends {
			if !IsDynamicName(ub.Backend) {
				continue
			}
			o := sample.Options{Where: sample.AtRequest, Place: "in use_backend"}
			if _, err := sample.ParseTemplate(ub.Backend, o); err != nil {
				reportSampleErr(d, ub.Pos, "use_backend", err)
			}
		}
	}
}

func (c *Config) validateRuleSamples(kw string, r *HTTPRule, o sample.Options, d *diag.List) {
	text := r.Value
	switch {
	case r.Action == "set-header" || r.Action == "add-header" || rewriteFormat(r.Action):
	case r.Action == "redirect" && r.Redirect != nil:
		text = r.Redirect.Target
	default:
		return
	}
	if !c.once(r) {
		return // inherited from a defaults section: reported once
	}
	if _, err := sample.ParseTemplate(text, o); err != nil {
		reportSampleErr(d, r.Pos, kw, err)
	}
}

// validateLogFormatSamples finds the %[expr] items of a log-format string
// (after optional %{flags}), as logpipe's format compiler reads them, and
// compiles each for log time. The rest of the format is logpipe's to check.
// validateLogFormat compiles the log-format's %[...] expressions and
// checks that the request headers they read can be kept for log time.
func validateLogFormat(lf *StringAt, d *diag.List) {
	if err := eachLogFormatExpr(lf.Value, func(*sample.Expr) {}); err != nil {
		reportSampleErr(d, lf.Pos, "log-format", err)
		return
	}
	names, all := logHeaders(lf.Value)
	switch {
	case all:
		d.Errorf(lf.Pos, "log-format", "name the header, e.g. %[req.hdr(host)]",
			"a fetch of every request header cannot be logged: varde keeps only the request headers a log-format names")
	case len(names) > logrec.MaxCaptures:
		d.Errorf(lf.Pos, "log-format", fmt.Sprintf("read at most %d different request headers", logrec.MaxCaptures),
			"log-format reads %d request headers; varde keeps at most %d for log time", len(names), logrec.MaxCaptures)
	}
}

// LogUses reports whether the proxy's log-format names one of the
// %-variables vars (e.g. "bi"), with or without {flags}.
func (p *Proxy) LogUses(vars ...string) bool {
	if p.LogFormat == nil {
		return false
	}
	s := p.LogFormat.Value
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
			continue
		case s[i] != '%':
			continue
		}
		j := i + 1
		if j < len(s) && s[j] == '{' {
			for j < len(s) && s[j] != '}' {
				j++
			}
			j++
		}
		k := j
		for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z') {
			k++
		}
		for _, v := range vars {
			if j <= len(s) && s[min(j, len(s)):k] == v {
				return true
			}
		}
		i = max(i, k-1)
	}
	return false
}

// LogHeaders are the request headers the proxy's log-format reads with
// %[...] (lower case, each once). varde does not keep a request after
// forwarding it, so the engine copies these into the log record, and the
// log pipeline reads them there.
func (p *Proxy) LogHeaders() []string {
	if p.LogFormat == nil {
		return nil
	}
	names, _ := logHeaders(p.LogFormat.Value)
	return names
}

func logHeaders(format string) (names []string, all bool) {
	eachLogFormatExpr(format, func(e *sample.Expr) {
		name, every, reads := e.RequestHeader()
		name = strings.ToLower(name)
		switch {
		case !reads:
		case every:
			all = true
		case !contains(names, name):
			names = append(names, name)
		}
	})
	return names, all
}

// eachLogFormatExpr compiles every %[expr] (or %{flags}[expr]) of a
// log-format and gives it to fn.
func eachLogFormatExpr(s string, fn func(*sample.Expr)) error {
	// Inspect: a look leaves no map user behind (Prepare compiles the
	// format, and reads its map files, once).
	o := sample.Options{Where: sample.AtLog, Place: "in log-format", Inspect: true}
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case s[i] == '%' && i+1 < len(s) && s[i+1] == '%':
			i++
		case s[i] == '%':
			j := i + 1
			if j < len(s) && s[j] == '{' {
				k := strings.IndexByte(s[j:], '}')
				if k < 0 {
					return nil
				}
				j += k + 1
			}
			if j >= len(s) || s[j] != '[' {
				continue
			}
			e, n, err := sample.ParsePrefix(s[j+1:], o)
			if err == nil && (j+1+n >= len(s) || s[j+1+n] != ']') {
				err = fmt.Errorf("missing ']' after %q", s[j+1:j+1+n])
			}
			if err != nil {
				return fmt.Errorf("%%[ at offset %d: %w", i, err)
			}
			fn(e)
			i = j + 1 + n
		}
	}
	return nil
}

// reportSampleErr reports a compile error with its hint in the hint slot.
func reportSampleErr(d *diag.List, pos diag.Pos, kw string, err error) {
	msg, hint := err.Error(), ""
	var se *sample.Error
	if errors.As(err, &se) && se.Hint != "" {
		hint = se.Hint
		msg = strings.TrimSuffix(msg, " (hint: "+se.Hint+")")
	}
	d.Errorf(pos, kw, hint, "%s", msg)
}

// aclStage is where an ACL can be evaluated and the fetch that limits it.
type aclStage struct {
	where sample.Stage
	fetch string
}

// validateConditionStages refuses a condition that uses an ACL whose fetch
// does not exist where the condition is evaluated (a response fetch such
// as status in an http-request rule). Every line of a named ACL counts.
func (c *Config) validateConditionStages(px *Proxy, d *diag.List) {
	named := map[string]aclStage{}
	for _, a := range px.ACLs {
		st, ok := stageOf(a)
		if !ok {
			continue // already reported by the parser
		}
		prev, seen := named[a.Name]
		if !seen {
			prev = aclStage{where: sample.AtAny}
		}
		if st.where != sample.AtAny {
			prev = aclStage{where: prev.where & st.where, fetch: st.fetch}
		}
		named[a.Name] = prev
	}
	check := func(kw string, cond *Condition, need sample.Stage, place string) {
		if cond == nil {
			return
		}
		for _, and := range cond.Or {
			for _, t := range and {
				st, ok := aclStage{where: sample.AtAny}, true
				what := "anonymous ACL"
				if t.Anon != nil {
					st, ok = stageOf(t.Anon)
				} else {
					st, ok = named[t.ACL]
					what = fmt.Sprintf("ACL %q", t.ACL)
				}
				if ok && st.where&need == 0 {
					d.Errorf(t.Pos, kw, "it exists at "+st.where.String()+" time", "%s uses fetch %q, which is not available %s", what, st.fetch, place)
				}
			}
		}
	}
	const inReq = "in request conditions"
	for _, ub := range px.UseBackends {
		check("use_backend", ub.Cond, sample.AtRequest, inReq)
	}
	for _, r := range px.HTTPRequest {
		check("http-request "+r.Action, r.Cond, sample.AtRequest, "in http-request rules")
	}
	for _, r := range px.HTTPResponse {
		check("http-response "+r.Action, r.Cond, sample.AtResponse, "in http-response rules")
	}
	for _, r := range px.HTTPAfterResponse {
		check("http-after-response "+r.Action, r.Cond, sample.AtResponse, "in http-after-response rules")
	}
	for _, cnd := range append(append([]*Condition(nil), px.ForcePersist...), px.IgnorePersist...) {
		check("persist", cnd, sample.AtRequest, inReq)
	}
	if px.Stats != nil {
		for _, cnd := range px.Stats.Admin {
			check("stats admin", cnd, sample.AtRequest, inReq)
		}
	}
}

// stageOf compiles a configured ACL to learn where it can be evaluated.
func stageOf(a *ACL) (aclStage, bool) {
	text := a.Criterion
	if a.Arg != "" {
		text += "(" + a.Arg + ")"
	}
	values := make([]string, len(a.Values))
	for i, v := range a.Values {
		values[i] = v.Text
	}
	m, err := acl.Parse(text, a.Flags, values)
	if err != nil {
		return aclStage{}, false
	}
	w, f := acl.Where(m)
	return aclStage{where: w, fetch: f}, true
}
