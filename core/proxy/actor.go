package proxy

import (
	"strings"

	"github.com/varde-lb/varde/core/config"
)

// Actor is an http-request or http-response action that lives in its own
// file (variables, rewrites, captures, maps...). rulesOf builds one per
// configuration line through actorBuilders; the rule loops run it in
// order with the built-in actions.
type Actor interface {
	// Do runs the action on the session's request (resp false) or on the
	// response being relayed (resp true).
	Do(s *session, resp bool) Verdict
}

// Verdict tells a rule loop what comes after an action.
type Verdict struct {
	// Stop ends the evaluation of this rule list (as allow does, or as a
	// local answer). Done: the transaction was answered locally (request
	// rules only); Keep: the client connection stays open after it.
	Stop, Done, Keep bool
}

// ActorBuilder turns a parsed rule into its Actor; an error (with the
// rule's position added by the caller) refuses the configuration at
// generation Prepare, so check and run refuse alike.
type ActorBuilder func(r *config.HTTPRule) (Actor, error)

// actorBuilders are keyed by the action's name without its parenthesised
// argument (set-var for set-var(txn.x)). Files register theirs from init.
var actorBuilders = map[string]ActorBuilder{}

func registerActor(b ActorBuilder, actions ...string) {
	for _, a := range actions {
		if _, dup := actorBuilders[a]; dup {
			panic("proxy: action registered twice: " + a)
		}
		actorBuilders[a] = b
	}
}

func actionBase(action string) string {
	if i := strings.IndexByte(action, '('); i > 0 {
		return action[:i]
	}
	return action
}
