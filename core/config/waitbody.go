package config

import (
	"strings"
	"time"
)

// WaitBody is `http-request wait-for-body time T [at-least N]`
// (core/proxy/waitbody.go).
type WaitBody struct {
	Time    time.Duration `json:"time"`
	AtLeast int64         `json:"at_least,omitempty"`
}

func init() {
	registerRuleParser(parseWaitBody, "wait-for-body")
}

// parseWaitBody reads `wait-for-body time T [at-least N]`.
func parseWaitBody(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	usage := "http-request wait-for-body time T [at-least N] [if|unless COND]"
	if !strings.HasPrefix(key, "http-request") {
		p.d.Errorf(act.Pos, key, usage, "%s is only built as an http-request action", key)
		return false
	}
	w := &WaitBody{}
	for i := 0; i < len(args); i += 2 {
		if i+1 >= len(args) || (args[i].Text != "time" && args[i].Text != "at-least") {
			p.d.Errorf(args[i].Pos, key, usage, "unexpected %q", args[i].Text)
			return false
		}
		errs := p.d.Len()
		if args[i].Text == "time" {
			w.Time = p.duration(args[i+1], key)
		} else {
			w.AtLeast = p.size(args[i+1], key)
		}
		if p.d.Len() != errs {
			return false
		}
	}
	if w.Time <= 0 {
		p.d.Errorf(act.Pos, key, usage, "wait-for-body needs a time greater than 0")
		return false
	}
	r.WaitBody = w
	return true
}
