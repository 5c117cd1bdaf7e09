package acl

import (
	"fmt"
	"strings"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/sample"
)

// Condition is a compiled `if COND` / `unless COND`.
type Condition struct {
	unless bool
	// groups are ORed; the terms of a group are ANDed.
	groups [][]term
	text   string
}

type term struct {
	m   Matcher
	cm  ctxMatcher // m, when it can share the condition's state
	neg bool
}

// Match evaluates the condition on a request. It allocates nothing: the
// evaluation state is taken from a pool once for the whole condition.
func (c *Condition) Match(req core.Request) bool {
	st := getState(req)
	r := c.match(st)
	putState(st)
	return r
}

// MatchCtx evaluates the condition in the caller's context, which may hold
// response facts (http-response rules: status, res.hdr).
func (c *Condition) MatchCtx(x *sample.Ctx) bool {
	st := getStateCtx(x)
	r := c.match(st)
	putState(st)
	return r
}

// Where reports the stages at which every term of c can be evaluated, and
// a fetch that limits them.
func (c *Condition) Where() (sample.Stage, string) {
	where, fetch := sample.AtAny, ""
	for _, g := range c.groups {
		for _, t := range g {
			if w, f := Where(t.m); w != sample.AtAny {
				where &= w
				fetch = f
			}
		}
	}
	return where, fetch
}

func (c *Condition) match(st *evalState) bool {
	req := st.ctx.Req
	r := false
	for _, g := range c.groups {
		ok := true
		for _, t := range g {
			var hit bool
			if t.cm != nil {
				hit = t.cm.matchState(st)
			} else {
				hit = t.m.Match(req)
			}
			if hit == t.neg {
				ok = false
				break
			}
		}
		if ok {
			r = true
			break
		}
	}
	return r != c.unless
}

// ctxMatcher is a Matcher that can use an evaluation state already set up
// for the request, so that a condition prepares it once for all its terms.
type ctxMatcher interface {
	matchState(st *evalState) bool
}

func asCtxMatcher(m Matcher) ctxMatcher {
	cm, _ := m.(ctxMatcher)
	return cm
}

func matchWith(m Matcher, req core.Request, st *evalState) bool {
	if cm, ok := m.(ctxMatcher); ok {
		return cm.matchState(st)
	}
	return m.Match(req)
}

// Unless reports whether the condition was written with `unless`.
func (c *Condition) Unless() bool { return c.unless }

// String is the condition as written, for logs and `varde check`.
func (c *Condition) String() string { return c.text }

// ParseCondition compiles the tokens of a condition, starting with `if` or
// `unless`. lookup resolves ACL names declared with `acl` lines (a Set's
// Lookup does); names it does not know are tried against HAProxy's
// predefined ACLs. Errors are *Error with Token set to the offending index.
func ParseCondition(tokens []string, lookup func(name string) (Matcher, bool)) (*Condition, error) {
	if len(tokens) == 0 {
		return nil, &Error{Token: -1, Msg: "missing condition", Hint: "write `if ACL` or `unless ACL`"}
	}
	c := &Condition{text: strings.Join(tokens, " ")}
	switch tokens[0] {
	case "if":
	case "unless":
		c.unless = true
	default:
		return nil, &Error{Criterion: tokens[0], Token: 0, Msg: "a condition starts with `if` or `unless`", Hint: "write `if " + tokens[0] + "`"}
	}
	if len(tokens) == 1 {
		return nil, &Error{Token: 0, Msg: "empty condition after `" + tokens[0] + "`", Hint: "name an ACL, e.g. `" + tokens[0] + " is_api`"}
	}
	group := []term{}
	neg := false
	for i := 1; i < len(tokens); i++ {
		tok := tokens[i]
		// HAProxy accepts "!" glued to the term ("!is_api", "!{") or alone.
		for len(tok) > 1 && tok[0] == '!' {
			neg = !neg
			tok = tok[1:]
		}
		switch tok {
		case "||", "or":
			if len(group) == 0 || neg {
				return nil, &Error{Token: i, Msg: "`" + tok + "` without an ACL before it", Hint: "write `if a || b`"}
			}
			c.groups = append(c.groups, group)
			group = []term{}
			continue
		case "}":
			return nil, &Error{Token: i, Msg: "`}` without a matching `{`", Hint: "anonymous ACLs are written `{ path_beg /api }` with spaces around the braces"}
		case "{":
			end := -1
			for j := i + 1; j < len(tokens); j++ {
				if tokens[j] == "}" {
					end = j
					break
				}
				if tokens[j] == "{" {
					return nil, &Error{Token: j, Msg: "anonymous ACLs cannot be nested", Hint: "close the first `{` before opening another"}
				}
			}
			if end < 0 {
				return nil, &Error{Token: i, Msg: "missing `}` after anonymous ACL", Hint: "anonymous ACLs are written `{ path_beg /api }` with spaces around the braces"}
			}
			if end == i+1 {
				return nil, &Error{Token: i, Msg: "empty anonymous ACL", Hint: "put a criterion inside, e.g. `{ path_beg /api }`"}
			}
			m, err := ParseWords(tokens[i+1 : end])
			if err != nil {
				if e, ok := err.(*Error); ok {
					e.Token = i + 1
				}
				return nil, err
			}
			group = append(group, term{m: m, cm: asCtxMatcher(m), neg: neg})
			neg = false
			i = end
			continue
		}
		name := tok
		if name == "!" {
			neg = !neg // a lone "!" negates the next term
			continue
		}
		if strings.HasPrefix(name, "{") || strings.HasSuffix(name, "}") {
			return nil, &Error{Criterion: name, Token: i, Msg: "braces must be separate words", Hint: "write `{ path_beg /api }` with spaces around the braces"}
		}
		m, ok := Matcher(nil), false
		if lookup != nil {
			m, ok = lookup(name)
		}
		if !ok {
			m, ok = Predefined(name)
		}
		if !ok {
			hint := "declare it first with `acl " + name + " <criterion> <values>`"
			if PredefinedUnsupported(name) {
				return nil, &Error{Criterion: name, Token: i, Msg: "HAProxy's predefined ACL is not supported by varde", Hint: "declare an equivalent `acl` with a supported criterion"}
			}
			if isCriterion(name) {
				hint = "criteria are used in `acl` lines or in braces: `{ " + name + " ... }`"
			}
			return nil, &Error{Criterion: name, Token: i, Msg: "unknown ACL", Hint: hint}
		}
		group = append(group, term{m: m, cm: asCtxMatcher(m), neg: neg})
		neg = false
	}
	if neg {
		return nil, &Error{Token: len(tokens) - 1, Msg: "`!` at the end of the condition", Hint: "put the ACL to negate after `!`"}
	}
	if len(group) == 0 {
		return nil, &Error{Token: len(tokens) - 1, Msg: "condition ends with `||`", Hint: "add the ACL that should follow `||`"}
	}
	c.groups = append(c.groups, group)
	return c, nil
}

// Set holds the named ACLs of one proxy section. Several `acl` lines with
// the same name are ORed, as in HAProxy.
type Set struct {
	acls map[string]*anyOf
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{acls: map[string]*anyOf{}} }

type anyOf struct{ ms []Matcher }

func (a *anyOf) Match(req core.Request) bool {
	st := getState(req)
	ok := a.matchState(st)
	putState(st)
	return ok
}

func (a *anyOf) matchState(st *evalState) bool {
	for _, m := range a.ms {
		if matchWith(m, st.ctx.Req, st) {
			return true
		}
	}
	return false
}

// Add compiles an `acl NAME criterion [flags] [values]` line (words are
// what follows NAME) and ORs it with earlier lines of the same name.
func (s *Set) Add(name string, words []string) error {
	if err := checkName(name); err != nil {
		return err
	}
	m, err := ParseWords(words)
	if err != nil {
		return err
	}
	s.AddMatcher(name, m)
	return nil
}

// AddMatcher ORs an already compiled matcher into the ACL called name.
func (s *Set) AddMatcher(name string, m Matcher) {
	a := s.acls[name]
	if a == nil {
		a = &anyOf{}
		s.acls[name] = a
	}
	a.ms = append(a.ms, m)
}

// Lookup returns the named ACL. It has the signature ParseCondition wants.
func (s *Set) Lookup(name string) (Matcher, bool) {
	if s == nil {
		return nil, false
	}
	a, ok := s.acls[name]
	if !ok {
		return nil, false
	}
	return a, true
}

func checkName(name string) error {
	if name == "" {
		return &Error{Token: -1, Msg: "missing ACL name", Hint: "write `acl NAME criterion values`"}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return &Error{Criterion: name, Token: -1, Msg: fmt.Sprintf("invalid character %q in ACL name", c), Hint: "ACL names use letters, digits, '-', '_', '.' and ':'"}
		}
	}
	return nil
}

// predefined are HAProxy's built-in ACLs (section 7.4 of its manual) that
// varde can evaluate. HTTP_1.0/1.1/2.0, RDP_COOKIE, REQ_CONTENT and
// WAIT_END need request facts the view does not expose; using them is an
// error with a hint rather than a silent mismatch.
var predefined = map[string][]string{
	"TRUE":            {"always_true"},
	"FALSE":           {"always_false"},
	"HTTP":            {"req.proto_http"},
	"HTTP_CONTENT":    {"hdr_val(content-length)", "gt", "0"},
	"HTTP_URL_ABS":    {"url_reg", `^[^/:]*://`},
	"HTTP_URL_SLASH":  {"url_beg", "/"},
	"HTTP_URL_STAR":   {"url", "*"},
	"LOCALHOST":       {"src", "127.0.0.1/8", "::1"},
	"METH_CONNECT":    {"method", "CONNECT"},
	"METH_DELETE":     {"method", "DELETE"},
	"METH_GET":        {"method", "GET", "HEAD"},
	"METH_HEAD":       {"method", "HEAD"},
	"METH_OPTIONS":    {"method", "OPTIONS"},
	"METH_POST":       {"method", "POST"},
	"METH_PUT":        {"method", "PUT"},
	"METH_TRACE":      {"method", "TRACE"},
	"HTTP_1.0":        nil,
	"HTTP_1.1":        nil,
	"HTTP_2.0":        nil,
	"HTTP_3.0":        nil,
	"RDP_COOKIE":      nil,
	"REQ_CONTENT":     nil,
	"WAIT_END":        nil,
	"CONNECT_UNKNOWN": nil,
}

var predefinedCompiled = func() map[string]Matcher {
	out := map[string]Matcher{}
	for name, words := range predefined {
		if words == nil {
			continue
		}
		m, err := ParseWords(words)
		if err != nil {
			panic("acl: predefined " + name + ": " + err.Error())
		}
		out[name] = m
	}
	return out
}()

// Predefined returns HAProxy's predefined ACL of that name, when varde
// supports it.
func Predefined(name string) (Matcher, bool) {
	m, ok := predefinedCompiled[name]
	return m, ok
}

// PredefinedUnsupported reports whether name is one of HAProxy's predefined
// ACLs that varde does not evaluate, so callers can give a precise error.
func PredefinedUnsupported(name string) bool {
	w, ok := predefined[name]
	return ok && w == nil
}

// isCriterion reports whether name is an ACL keyword or a fetch, so that a
// criterion written where an ACL name is expected gets a precise hint.
func isCriterion(name string) bool {
	if _, ok := keywords[name]; ok {
		return true
	}
	_, ok := sample.LookupFetch(name)
	return ok
}

// MayChange is implemented by a request view whose samples may still
// change (mode tcp content inspection, sample.Payloader): TakeMayChange
// reports, and clears, whether a fetch said so since the last call.
type MayChange interface {
	TakeMayChange() bool
}

// Match3 is Match with HAProxy's three-valued logic for content
// inspection: miss is true when the result depends on samples that may
// still change (an ACL that did not match on incomplete data is a MISS,
// not a FAIL; a match is final). Negation keeps a MISS a MISS; in a
// conjunction FAIL wins over MISS, in a disjunction PASS wins over MISS.
// req must implement MayChange, else Match3 is Match with miss false.
func (c *Condition) Match3(req core.Request) (ok, miss bool) {
	mc, can := req.(MayChange)
	if !can {
		return c.Match(req), false
	}
	st := getState(req)
	defer putState(st)
	mc.TakeMayChange()
	anyMiss := false
	for _, g := range c.groups {
		gr := pass
		for _, t := range g {
			hit := matchWith(t.m, req, st)
			mayChange := mc.TakeMayChange()
			r := fail
			switch {
			case hit:
				r = pass
			case mayChange:
				r = missed
			}
			if t.neg && r != missed {
				r = pass + fail - r
			}
			if r == fail {
				gr = fail
				break
			}
			if r == missed {
				gr = missed
			}
		}
		if gr == pass {
			return !c.unless, false
		}
		anyMiss = anyMiss || gr == missed
	}
	if anyMiss {
		return false, true
	}
	return c.unless, false
}

const (
	pass = iota + 1
	fail
	missed
)

// Fetches calls fn with the name of each fetch the condition's ACLs read,
// so that a caller can refuse a condition that could never match where it
// is used (an HTTP fetch in a tcp-request rule).
func (c *Condition) Fetches(fn func(name string)) {
	for _, g := range c.groups {
		for _, t := range g {
			fetchesOf(t.m, fn)
		}
	}
}

func fetchesOf(m Matcher, fn func(string)) {
	switch m := m.(type) {
	case *fileMatcher:
		fetchesOf(&m.tmpl, fn) // file.go
	case *matcher:
		if m.expr != nil {
			fn(m.expr.FetchName())
		}
	case *anyOf:
		for _, x := range m.ms {
			fetchesOf(x, fn)
		}
	}
}
