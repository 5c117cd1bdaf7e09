package config

import "strings"

// RuleParser parses the arguments of one http-request/http-response
// action (everything after the action word, condition removed) into r.
// act is the action word as written (set-var(txn.x)), so its position
// and parenthesised argument are at hand. It reports errors through p.d
// and returns false when the line must be dropped.
type RuleParser func(p *parser, key string, act Token, args []Token, r *HTTPRule) bool

// ruleParsers are the actions parsed in their own files, keyed by the
// action's name without its parenthesised argument (set-var, set-path).
// Each file registers its actions from an init function, so adding an
// action never edits parseHTTPRule's switch. The keyword table still
// decides whether an action is accepted at all.
var ruleParsers = map[string]RuleParser{}

// registerRuleParser adds the parser of one or more actions.
func registerRuleParser(fn RuleParser, actions ...string) {
	for _, a := range actions {
		if _, dup := ruleParsers[a]; dup {
			panic("config: rule action registered twice: " + a)
		}
		ruleParsers[a] = fn
	}
}

// actionBase is an action's name without its argument: set-var(txn.x)
// is set-var.
func actionBase(action string) string {
	if i := strings.IndexByte(action, '('); i > 0 {
		return action[:i]
	}
	return action
}
