// Package route turns a frontend's `use_backend NAME [if|unless COND]` rules
// and its `default_backend` into a core.BackendChooser, with HAProxy's
// semantics: rules are evaluated in order, the first whose condition holds
// wins, and default_backend applies when none does.
package route

import (
	"fmt"
	"strings"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl"
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
	Cond    *acl.Condition // nil: always applies
}

// Chooser is the built-in core.BackendChooser.
type Chooser struct {
	rules []Rule
	def   string
}

var _ core.BackendChooser = (*Chooser)(nil)

// Compile builds a Chooser. lookup resolves ACL names (an acl.Set's Lookup);
// known, when not nil, reports whether a backend exists so that a typo is
// a configuration error rather than a 503 at run time. Errors carry the
// index of the offending rule.
func Compile(specs []RuleSpec, defaultBackend string, lookup func(string) (acl.Matcher, bool), known func(string) bool) (*Chooser, error) {
	c := &Chooser{def: defaultBackend}
	for i, s := range specs {
		if s.Backend == "" {
			return nil, &RuleError{Index: i, Err: fmt.Errorf("use_backend: missing backend name (hint: use_backend NAME if COND)")}
		}
		if strings.Contains(s.Backend, "%[") {
			return nil, &RuleError{Index: i, Err: fmt.Errorf("use_backend %s: dynamic backend names are not supported (hint: write one use_backend line per backend with an ACL)", s.Backend)}
		}
		if known != nil && !known(s.Backend) {
			return nil, &RuleError{Index: i, Err: fmt.Errorf("use_backend: no backend named %q (hint: declare `backend %s` or fix the name)", s.Backend, s.Backend)}
		}
		r := Rule{Backend: s.Backend}
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
		if r.Cond == nil || r.Cond.Match(req) {
			return r.Backend, true
		}
	}
	return c.def, c.def != ""
}

// Rules returns the compiled rules, for `varde check` and the stats page.
func (c *Chooser) Rules() []Rule { return c.rules }

// Default returns the default_backend ("" when none).
func (c *Chooser) Default() string { return c.def }

// Backends lists every backend the chooser can return, in rule order then
// the default, without duplicates.
func (c *Chooser) Backends() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range c.rules {
		if !seen[r.Backend] {
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

// Chain asks each chooser in turn and returns the first answer. A policy
// script's chooser goes first and the built-in Chooser last, so a script
// that declines (or fails and is treated as declining) falls back to the
// configuration's rules.
type Chain []core.BackendChooser

// ChooseBackend implements core.BackendChooser.
func (ch Chain) ChooseBackend(req core.Request) (string, bool) {
	for _, c := range ch {
		if c == nil {
			continue
		}
		if b, ok := c.ChooseBackend(req); ok {
			return b, true
		}
	}
	return "", false
}
