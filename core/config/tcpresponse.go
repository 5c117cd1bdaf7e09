package config

// tcp-response: the forms varde builds are
//
//	tcp-response inspect-delay TIMEOUT
//	tcp-response content accept|reject|close [if|unless COND]
//	tcp-response content set-var(NAME) EXPR|set-var-fmt(NAME) FMT|unset-var(NAME) [if|unless COND]
//	tcp-response content sc-inc-gpc0(N)|sc-inc-gpc1(N)|sc-set-gpt0(N) VALUE [if|unless COND]
//
// in a backend or listen section in mode tcp (core/proxy refuses them in
// a mode http backend at generation Prepare). Every other action is an
// error: its absence could forward what the line would stop.

const tcpResponseBuilt = "varde builds tcp-response inspect-delay and the accept, reject, close, set-var, set-var-fmt, unset-var, sc-inc-gpc0, sc-inc-gpc1 and sc-set-gpt0 actions of tcp-response content [if|unless COND], in mode tcp backends"

// tcpResponseKey resolves the keyword-table key of a tcp-response line, or
// reports the forms varde does not build.
func (p *parser) tcpResponseKey(words []Token) (string, bool) {
	if len(words) < 2 {
		p.d.Errorf(words[0].Pos, "tcp-response", tcpResponseBuilt, "tcp-response needs an argument")
		return "", false
	}
	if p.cur != nil && p.cur.Kind == KindFrontend {
		// HAProxy refuses it there (it ignores most misplaced keywords).
		p.d.Errorf(words[0].Pos, "tcp-response", "move it to the backend (or listen section)", "tcp-response is only allowed in backend and listen sections")
		return "", false
	}
	switch sub := words[1].Text; sub {
	case "inspect-delay":
		return "tcp-response inspect-delay", true
	case "content":
		if len(words) < 3 {
			p.d.Errorf(words[1].Pos, "tcp-response content", tcpResponseBuilt, "tcp-response content needs an action")
			return "", false
		}
		b := actionBase(words[2].Text)
		switch b {
		case "accept", "reject", "close", "set-var", "set-var-fmt", "unset-var", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt0":
			return "tcp-response content " + b, true
		}
		key := "tcp-response content " + b
		p.d.Errorf(words[2].Pos, key, tcpResponseBuilt, "%q is a HAProxy rule varde does not support yet: the response it would act on would pass untouched", key)
		return "", false
	default:
		p.d.Errorf(words[1].Pos, "tcp-response "+sub, tcpResponseBuilt, "%q is a HAProxy rule varde does not support yet", "tcp-response "+sub)
		return "", false
	}
}

// parseTCPResponse reads a tcp-response line whose key was resolved.
func (p *parser) parseTCPResponse(l Line, key string, words []Token) {
	px := p.cur
	if key == "tcp-response inspect-delay" {
		if d, ok := p.inspectDelay(key, words); ok {
			px.ResInspectDelay = d
		}
		return
	}
	args, cond, ok := p.splitCond(key, words[3:])
	if !ok {
		return
	}
	act := words[2]
	r := &TCPRule{Pos: l.Pos, Layer: "response", Action: act.Text, Cond: cond}
	switch b := actionBase(act.Text); b {
	case "set-var", "set-var-fmt", "unset-var":
		hr := &HTTPRule{}
		if !parseVarRule(p, key, act, args, hr) {
			return
		}
		r.Var = hr.Var
	case "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt0":
		if r.Track, ok = p.parseSCAction(key, act.Text, act.Pos, args); !ok {
			return
		}
	default:
		if len(args) > 0 {
			p.d.Errorf(args[0].Pos, key, key+" [if|unless COND]", "unexpected %q: %s takes only a condition", args[0].Text, key)
			return
		}
	}
	px.TCPResponse = append(px.TCPResponse, r)
}
