// Package route turns a frontend's `use_backend NAME [if|unless COND]` rules
// and its `default_backend` into a core.BackendChooser, with HAProxy's
// semantics: rules are evaluated in order, the first whose condition holds
// wins, and default_backend applies when none does.
//
// NAME may be a log-format string (`use_backend be_%[req.hdr(host),lower]`):
// it is a core/sample template evaluated per request, and when the name it
// yields is not a backend, no further rule is evaluated and default_backend
// applies (HAProxy 2.6, use_backend).
package route

import (
	"fmt"
	"strings"
	"sync"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/sample"
)

// RuleSpec is one `use_backend` line as the configuration layer read it.
type RuleSpec struct {
	Backend string
	// Cond holds the condition tokens starting with "if" or "unless"; empty
	// for an unconditional rule.
	Cond []string
}

// Rule is a compiled `use_backend` line.
type Rule struct {
	Backend string
	Cond    *acl.Condition   // nil: always applies
	Name    *sample.Template // set when Backend is dynamic (contains %[...])
}

// NewRule compiles a use_backend line; a name with %[...] becomes a
// template whose expressions must be valid at request time.
func NewRule(backend string, cond *acl.Condition) (Rule, error) {
	r := Rule{Backend: backend, Cond: cond}
	if !strings.Contains(backend, "%[") {
		return r, nil
	}
	t, err := sample.ParseTemplate(backend, sample.Options{Where: sample.AtRequest, Place: "in use_backend"})
	if err != nil {
		return r, fmt.Errorf("dynamic backend name %q: %w", backend, err)
	}
	r.Name = t
	return r, nil
}

// Chooser is the built-in core.BackendChooser.
type Chooser struct {
	rules []Rule
	def   string
	// For dynamic names: the backends that exist, each name mapped to
	// itself so that a lookup returns it without building a string, and
	// the frontend's name for fe_name.
	backends map[string]string
	frontend string
	known    func(string) bool // Compile's lookup, when WithBackends was not called
}

// WithBackends tells the chooser which backends exist, for dynamic names,
// and the frontend it serves; it returns c.
func (c *Chooser) WithBackends(names map[string]bool, frontend string) *Chooser {
	c.backends = make(map[string]string, len(names))
	for n, ok := range names {
		if ok {
			c.backends[n] = n
		}
	}
	c.frontend = frontend
	return c
}

var _ core.BackendChooser = (*Chooser)(nil)

// Compile builds a Chooser. lookup resolves ACL names (an acl.Set's Lookup);
// known, when not nil, reports whether a backend exists so that a typo is
// a configuration error rather than a 503 at run time. Errors carry the
// index of the offending rule.
func Compile(specs []RuleSpec, defaultBackend string, lookup func(string) (acl.Matcher, bool), known func(string) bool) (*Chooser, error) {
	c := &Chooser{def: defaultBackend, known: known}
	for i, s := range specs {
		if s.Backend == "" {
			return nil, &RuleError{Index: i, Err: fmt.Errorf("use_backend: missing backend name (hint: use_backend NAME if COND)")}
		}
		r, err := NewRule(s.Backend, nil)
		if err != nil {
			return nil, &RuleError{Index: i, Err: fmt.Errorf("use_backend: %w", err)}
		}
		if r.Name == nil && known != nil && !known(s.Backend) {
			return nil, &RuleError{Index: i, Err: fmt.Errorf("use_backend: no backend named %q (hint: declare `backend %s` or fix the name)", s.Backend, s.Backend)}
		}
		if len(s.Cond) > 0 {
			cond, err := acl.ParseCondition(s.Cond, lookup)
			if err != nil {
				return nil, &RuleError{Index: i, Err: fmt.Errorf("use_backend %s: %w", s.Backend, err)}
			}
			r.Cond = cond
		}
		c.rules = append(c.rules, r)
	}
	if defaultBackend != "" && known != nil && !known(defaultBackend) {
		return nil, &RuleError{Index: -1, Err: fmt.Errorf("default_backend: no backend named %q (hint: declare `backend %s` or fix the name)", defaultBackend, defaultBackend)}
	}
	return c, nil
}

// New builds a Chooser from already compiled rules.
func New(rules []Rule, defaultBackend string) *Chooser {
	return &Chooser{rules: append([]Rule(nil), rules...), def: defaultBackend}
}

// ChooseBackend implements core.BackendChooser. It returns false only when
// no rule matched and there is no default_backend (HAProxy answers 503).
func (c *Chooser) ChooseBackend(req core.Request) (string, bool) {
	for i := range c.rules {
		r := &c.rules[i]
		if r.Cond != nil && !r.Cond.Match(req) {
			continue
		}
		if r.Name == nil {
			return r.Backend, true
		}
		if name, ok := c.resolve(r.Name, req); ok {
			return name, true
		}
		break // an unknown dynamic name: default_backend, no further rule
	}
	return c.def, c.def != ""
}

// nameEval is the storage one dynamic-name evaluation needs.
type nameEval struct {
	ctx          sample.Ctx
	buf, scratch []byte
}

var nameEvals = sync.Pool{New: func() any { return &nameEval{buf: make([]byte, 0, 64), scratch: make([]byte, 0, 64)} }}

// resolve evaluates a dynamic name and returns the backend it names; the
// map lookup with string(bytes) allocates nothing.
func (c *Chooser) resolve(t *sample.Template, req core.Request) (string, bool) {
	ev := nameEvals.Get().(*nameEval)
	sample.RequestCtx(&ev.ctx, req)
	ev.ctx.Frontend = c.frontend
	ev.buf, ev.scratch = t.Append(ev.buf[:0], &ev.ctx, ev.scratch)
	name, ok := c.backends[string(ev.buf)]
	if c.backends == nil && c.known != nil {
		// Only Compile's lookup function: the name must be built (one
		// allocation); WithBackends avoids it.
		name = string(ev.buf)
		ok = c.known(name)
	}
	ev.ctx.Reset()
	nameEvals.Put(ev)
	return name, ok
}

// Rules returns the compiled rules, for `varde check` and the stats page.
func (c *Chooser) Rules() []Rule { return c.rules }

// Default returns the default_backend ("" when none).
func (c *Chooser) Default() string { return c.def }

// Backends lists every backend the chooser can return by name, in rule
// order then the default, without duplicates; dynamic names are left out
// since they resolve at run time.
func (c *Chooser) Backends() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range c.rules {
		if r.Name == nil && !seen[r.Backend] {
			seen[r.Backend] = true
			out = append(out, r.Backend)
		}
	}
	if c.def != "" && !seen[c.def] {
		out = append(out, c.def)
	}
	return out
}

// RuleError is a compile error of the Index-th rule (-1: default_backend).
type RuleError struct {
	Index int
	Err   error
}

func (e *RuleError) Error() string { return "route: " + e.Err.Error() }
func (e *RuleError) Unwrap() error { return e.Err }
