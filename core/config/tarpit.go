package config

import "strings"

func init() {
	registerRuleParser(parseTarpitRule, "tarpit")
}

// parseTarpitRule reads `http-request tarpit [deny_status|status CODE]`.
// The reply options deny accepts (content-type, string, file...) are
// refused: varde sends the error page of the status, as HAProxy's tarpit
// analyser does once the delay is over.
func parseTarpitRule(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	if !strings.HasPrefix(key, "http-request") {
		p.d.Errorf(act.Pos, key, "use http-request tarpit", "tarpit is only an http-request action")
		return false
	}
	r.Status = 500
	if len(args) == 0 {
		return true
	}
	if len(args) != 2 || (args[0].Text != "deny_status" && args[0].Text != "status") {
		p.d.Errorf(args[0].Pos, key, "http-request tarpit [deny_status CODE]", "tarpit takes only deny_status CODE here: other reply options are not built yet")
		return false
	}
	n, ok := p.intVal(args[1], key, 200, 599)
	if !ok {
		return false
	}
	r.Status = n
	return true
}
