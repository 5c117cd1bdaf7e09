package config

// The actions of tcp-request connection and session rules beyond accept,
// reject and track-scN: set-var, set-var-fmt, unset-var (sess. and proc.
// scopes; HAProxy 2.6 accepts the others and sets nothing, there being no
// transaction yet), set-src, set-src-port, set-dst, set-dst-port (the
// connection's addresses from then on), sc-inc-gpc0(N), sc-inc-gpc1(N), sc-set-gpt0(N).
// Their expressions may read only what exists before any byte is read
// (the addresses, variables, stick counters): core/proxy refuses the
// others at generation Prepare, as HAProxy refuses them at parse time.

func isL4Action(base string) bool {
	switch base {
	case "set-var", "set-var-fmt", "unset-var", "set-src", "set-src-port", "set-dst", "set-dst-port",
		"sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt0":
		return true
	}
	return false
}

// parseL4Action reads one of those actions; key is the keyword
// ("tcp-request session set-src"), args the words before the condition.
func (p *parser) parseL4Action(l Line, key string, words, args []Token, cond *Condition) {
	act := words[2]
	r := &TCPRule{Pos: l.Pos, Layer: words[1].Text, Action: act.Text, Cond: cond}
	hr := &HTTPRule{}
	switch base := actionBase(act.Text); base {
	case "set-var", "set-var-fmt", "unset-var":
		if !parseVarRule(p, key, act, args, hr) {
			return
		}
		r.Var = hr.Var
	case "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt0":
		t, ok := p.parseSCAction(key, act.Text, act.Pos, args)
		if !ok {
			return
		}
		r.Track = t
	default:
		if !parseSetAddrRule(p, key, act, args, hr) {
			return
		}
		r.Value = hr.Value
	}
	p.cur.TCPRequest = append(p.cur.TCPRequest, r)
}
