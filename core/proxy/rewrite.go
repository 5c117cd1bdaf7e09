package proxy

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
)

// HAProxy 2.6's message rewriting actions: the request line (set-method,
// set-path, set-pathq, set-query, set-uri, replace-path, replace-pathq,
// replace-uri), header values (replace-header, replace-value), del-header
// with a name match, and the response status (set-status). docs/rewrite.md
// tells what each does; the config side is core/config/rewrite.go.

func init() {
	registerActor(buildLine, "set-method", "set-path", "set-pathq", "set-query", "set-uri",
		"replace-path", "replace-pathq", "replace-uri")
	registerActor(buildReplaceHeader, "replace-header", "replace-value")
	registerActor(buildSetStatus, "set-status")
}

// lineKind is the part of the request line an action writes.
type lineKind uint8

const (
	lineMethod lineKind = iota
	linePath
	linePathQ
	lineQuery
	lineURI
)

func lineKindOf(action string) lineKind {
	switch action {
	case "set-method":
		return lineMethod
	case "set-path", "replace-path":
		return linePath
	case "set-pathq", "replace-pathq":
		return linePathQ
	case "set-query":
		return lineQuery
	}
	return lineURI
}

// compileFmt compiles a log-format argument (%[...] and aliases).
func compileFmt(s string) (*sample.Template, error) {
	t, err := sample.ParseTemplate(s, sample.Options{Where: sample.AtRequest | sample.AtResponse})
	if err != nil {
		return nil, fmt.Errorf("format %q: %w", s, err)
	}
	return t, nil
}

// compileRegex compiles a rewrite's regular expression. Go's syntax is
// RE2: what PCRE has and RE2 lacks (back-references, look-around) does not
// compile, so the configuration is refused rather than run differently.
func compileRegex(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w (varde's regular expressions are RE2: no back-references or look-around)", s, err)
	}
	return re, nil
}

// lineActor is one request line action.
type lineActor struct {
	kind lineKind
	fmt  *sample.Template
	re   *regexp.Regexp // replace-*: nil for set-*
}

func buildLine(r *config.HTTPRule) (Actor, error) {
	a := &lineActor{kind: lineKindOf(actionBase(r.Action))}
	var err error
	if a.fmt, err = compileFmt(r.Value); err != nil {
		return nil, err
	}
	if r.Regex != "" {
		if a.re, err = compileRegex(r.Regex); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *lineActor) Do(s *session, resp bool) Verdict {
	if resp {
		return Verdict{}
	}
	e := &s.reqE
	if a.re == nil {
		e.tmp = s.evalFmt(a.fmt, false, e.tmp[:0])
		return s.lineResult(a.kind, e.tmp)
	}
	subj := s.view.URI()
	switch a.kind {
	case linePath:
		subj = s.view.Path()
	case linePathQ:
		subj = pathQuery(subj)
	}
	if len(subj) == 0 {
		return Verdict{}
	}
	ev := ruleEvals.Get().(*ruleEval)
	defer ruleEvals.Put(ev)
	ev.body = s.evalFmt(a.fmt, false, ev.body[:0])
	m, ok := match(a.re, subj, ev.body)
	if !ok {
		return Verdict{}
	}
	e.tmp = expReplace(e.tmp[:0], subj, ev.body, m)
	return s.lineResult(a.kind, e.tmp)
}

// lineResult writes v into the request line, or fails the transaction as
// HAProxy does when a rewrite fails (500): a line break, a space or a NUL
// in a method or URI would split or corrupt what the server reads.
func (s *session) lineResult(k lineKind, v []byte) Verdict {
	if !s.reqE.setLine(k, v, s.view.URI(), s.view.Method()) || (k == lineURI && !s.updateHost()) {
		s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		return Verdict{Stop: true, Done: true, Keep: s.answer(500, nil)}
	}
	return Verdict{}
}

// updateHost gives the Host fields the authority of a new absolute-form
// URI, as HAProxy's set-uri and replace-uri do (http_update_host); an
// absolute URI without an authority fails the rewrite.
func (s *session) updateHost() bool {
	u := s.reqE.target
	if len(u) == 0 || u[0] == '/' || u[0] == '*' || httpx.EqualFold(s.view.Method(), "connect") {
		return true
	}
	auth, ok := uriAuthority(u)
	if !ok {
		return true
	}
	if len(auth) == 0 {
		return false
	}
	e := s.msgEdits(false)
	for i := range e.f {
		if httpx.EqualFold(e.name(i), "host") {
			e.setValue(i, auth)
		}
	}
	return true
}

// uriAuthority is the host[:port] of an absolute URI, user info left out;
// ok is false when u has no "://" (not an absolute URI: nothing to do).
func uriAuthority(u []byte) (auth []byte, ok bool) {
	pre, _ := splitAuthority(u)
	if pre == nil {
		return nil, false
	}
	for i := 0; i+2 < len(pre); i++ {
		if pre[i] == ':' && pre[i+1] == '/' && pre[i+2] == '/' {
			auth = pre[i+3:]
			break
		}
	}
	if j := bytes.LastIndexByte(auth, '@'); j >= 0 {
		auth = auth[j+1:]
	}
	for j, c := range auth {
		if c == '?' || c == '#' {
			auth = auth[:j]
			break
		}
	}
	return auth, true
}

// hostChanged keeps an absolute-form target's authority equal to a Host
// field a rule set or replaced to v, as HAProxy's http_update_authority
// (the user info stays). A value the target cannot carry is not used.
func (s *session) hostChanged(v []byte) {
	uri := s.view.URI()
	pre, rest := splitAuthority(uri)
	if pre == nil || len(v) == 0 || !uriBytes(v) || httpx.EqualFold(s.view.Method(), "connect") {
		return
	}
	i := bytes.IndexByte(pre, ':') + 3 // after "scheme://"
	if j := bytes.LastIndexByte(pre, '@'); j >= i {
		i = j + 1
	}
	e := &s.reqE
	start := len(e.line)
	e.line = append(e.line, pre[:i]...)
	e.line = append(e.line, v...)
	e.line = append(e.line, rest...)
	e.target = e.line[start:]
}

// setLine composes the new method or URI from v and the current ones.
func (e *edits) setLine(k lineKind, v, uri, method []byte) bool {
	if k == lineMethod {
		if !httpx.IsToken(v) {
			return false
		}
		e.setMethod(v)
		return true
	}
	pre, rest := splitAuthority(uri)
	start := len(e.line)
	switch k {
	case linePath, linePathQ:
		e.line = append(e.line, pre...)
		e.line = append(e.line, v...)
		if k == linePath {
			if i := bytes.IndexByte(rest, '?'); i >= 0 {
				e.line = append(e.line, rest[i:]...)
			}
		}
	case lineQuery:
		i := bytes.IndexByte(uri, '?')
		switch {
		case i >= 0:
			e.line = append(e.line, uri[:i+1]...)
			e.line = append(e.line, v...)
		case len(v) > 0:
			e.line = append(e.line, uri...)
			e.line = append(e.line, '?')
			e.line = append(e.line, v...)
		default:
			return true // HAProxy adds no '?' for an empty query
		}
	case lineURI:
		e.line = append(e.line, v...)
	}
	t := e.line[start:]
	if len(t) == 0 || !uriBytes(t) {
		e.line = e.line[:start]
		return false
	}
	e.target = t
	return true
}

func (e *edits) setMethod(v []byte) {
	start := len(e.line)
	e.line = append(e.line, v...)
	e.method = e.line[start:]
}

// splitAuthority splits uri before its path: "http://h" of an absolute
// URI, nothing for the origin form (HAProxy's http_parse_path).
func splitAuthority(uri []byte) (pre, rest []byte) {
	if len(uri) == 0 || uri[0] == '/' || uri[0] == '*' {
		return nil, uri
	}
	for i := 0; i+2 < len(uri); i++ {
		if uri[i] == ':' && uri[i+1] == '/' && uri[i+2] == '/' {
			j := i + 3
			for j < len(uri) && uri[j] != '/' {
				j++
			}
			return uri[:j], uri[j:]
		}
	}
	return nil, uri
}

// pathQuery is the path and query of uri (replace-pathq's subject).
func pathQuery(uri []byte) []byte {
	_, rest := splitAuthority(uri)
	return rest
}

// uriBytes: a request target has no space or control byte.
func uriBytes(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// evalFmt appends t evaluated for the message to dst.
func (s *session) evalFmt(t *sample.Template, resp bool, dst []byte) []byte {
	if !t.Dynamic() {
		dst, _ = t.Append(dst, nil, nil)
		return dst
	}
	ev := ruleEvals.Get().(*ruleEval)
	s.evalCtx(&ev.ctx, resp)
	dst, ev.scratch = t.Append(dst, &ev.ctx, ev.scratch)
	ev.ctx.Reset()
	ruleEvals.Put(ev)
	return dst
}

// match runs re on subj. The group positions are only asked for when the
// format has an escape to resolve: Go's regexp allocates them, while a
// plain Match allocates nothing.
func match(re *regexp.Regexp, subj, f []byte) ([]int, bool) {
	if bytes.IndexByte(f, '\\') < 0 {
		return nil, re.Match(subj)
	}
	m := re.FindSubmatchIndex(subj)
	return m, m != nil
}

// expReplace appends f with HAProxy's exp_replace escapes resolved: \0 to
// \9 are the match's groups (empty when unset), \xHH a byte, \c the byte
// c. m is the match's index pairs into subj.
func expReplace(dst, subj, f []byte, m []int) []byte {
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '\\' || i+1 >= len(f) {
			dst = append(dst, c)
			continue
		}
		i++
		c = f[i]
		switch {
		case c >= '0' && c <= '9':
			g := int(c - '0')
			if 2*g+1 < len(m) && m[2*g] >= 0 {
				dst = append(dst, subj[m[2*g]:m[2*g+1]]...)
			}
		case c == 'x' && i+2 < len(f):
			dst = append(dst, hexNibble(f[i+1])<<4|hexNibble(f[i+2]))
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func hexNibble(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// hdrActor is replace-header (full: the whole value) or replace-value
// (each comma-separated value).
type hdrActor struct {
	name string
	re   *regexp.Regexp
	fmt  *sample.Template
	full bool
}

func buildReplaceHeader(r *config.HTTPRule) (Actor, error) {
	a := &hdrActor{name: r.Name, full: actionBase(r.Action) == "replace-header"}
	var err error
	if a.re, err = compileRegex(r.Regex); err != nil {
		return nil, err
	}
	if a.fmt, err = compileFmt(r.Value); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *hdrActor) Do(s *session, resp bool) Verdict {
	e := s.msgEdits(resp)
	ev := ruleEvals.Get().(*ruleEval)
	defer ruleEvals.Put(ev)
	ev.body = s.evalFmt(a.fmt, resp, ev.body[:0])
	for i := range e.f {
		if !httpx.EqualFold(e.name(i), a.name) {
			continue
		}
		v := e.value(i)
		var out []byte
		if a.full {
			m, ok := match(a.re, v, ev.body)
			if !ok {
				continue
			}
			out = expReplace(e.tmp[:0], v, ev.body, m)
		} else {
			out = a.replaceValues(e.tmp[:0], v, ev.body)
		}
		e.tmp = out
		if safeValue(out) {
			e.setValue(i, out)
			if !resp && httpx.EqualFold(e.name(i), "host") {
				s.hostChanged(e.value(i))
			}
		}
	}
	return Verdict{}
}

// replaceValues rewrites each comma-separated value of v that the regex
// matches, keeping the separators and the spaces around them, as
// HAProxy's http_find_header walks values (quoted strings kept whole).
func (a *hdrActor) replaceValues(dst, v, f []byte) []byte {
	for p := 0; ; {
		q := p
		for q < len(v) && (v[q] == ' ' || v[q] == '\t') {
			q++
		}
		dst = append(dst, v[p:q]...)
		end := httpx.ElementEnd(v, q)
		t := end
		for t > q && (v[t-1] == ' ' || v[t-1] == '\t') {
			t--
		}
		if m, ok := match(a.re, v[q:t], f); ok {
			// HAProxy replaces the value with the spaces around it.
			dst = expReplace(dst[:len(dst)-(q-p)], v[q:t], f, m)
		} else {
			dst = append(dst, v[q:t]...)
			dst = append(dst, v[t:end]...)
		}
		if end >= len(v) {
			return dst
		}
		dst = append(dst, ',')
		p = end + 1
	}
}

// statusActor is http-response set-status CODE [reason TEXT].
type statusActor struct {
	code   int
	reason string
}

func buildSetStatus(r *config.HTTPRule) (Actor, error) {
	a := &statusActor{code: r.Status, reason: replyReason(r.Status)}
	if r.Reason != nil {
		a.reason = *r.Reason
	}
	if a.code < 100 || a.code > 999 {
		return nil, fmt.Errorf("status %s out of 100..999", strconv.Itoa(r.Status))
	}
	return a, nil
}

func (a *statusActor) Do(s *session, resp bool) Verdict {
	if resp {
		s.setStatus(a.code, a.reason)
	}
	return Verdict{}
}

// setStatus rewrites the status of the response being relayed (set-status,
// a script's set_status): the client and the log (%ST) see the new one.
func (s *session) setStatus(code int, reason string) {
	s.scr.status, s.scr.reason, s.scr.used = code, reason, true
	s.rec.Status = int32(code)
}

// delActor is del-header NAME -m beg|end|sub|reg (-m str is the built-in
// del-header).
type delActor struct{ m nameMatch }

func buildDelHeader(r *config.HTTPRule) (Actor, error) {
	a := &delActor{m: nameMatch{name: r.Name}}
	switch r.Match {
	case "beg":
		a.m.how = matchBeg
	case "end":
		a.m.how = matchEnd
	case "sub":
		a.m.how = matchSub
	case "reg":
		re, err := compileRegex(r.Name)
		if err != nil {
			return nil, err
		}
		a.m.how, a.m.re = matchReg, re
	default:
		return nil, fmt.Errorf("unknown match method %q", r.Match)
	}
	return a, nil
}

func (a *delActor) Do(s *session, resp bool) Verdict {
	s.msgEdits(resp).del(a.m)
	return Verdict{}
}
