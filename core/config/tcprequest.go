package config

import (
	"strings"
	"time"

	"github.com/varde-lb/varde/core/diag"
)

// tcp-request: the forms varde builds are
//
//	tcp-request inspect-delay TIMEOUT
//	tcp-request content accept|reject|track-sc0|1|2 ... [if|unless COND]
//	tcp-request connection accept|reject|track-sc0|1|2 ... [if|unless COND]
//	tcp-request session accept|reject|track-sc0|1|2 ... [if|unless COND]
//
// in a frontend or listen section; inspect-delay and content rules in a
// backend too, run when a stream enters it from another proxy
// (core/proxy/stick_content.go). Every other tcp-request form is an
// error (its absence could let through what the line would stop). In a
// mode http proxy the content rules run once per request, its head
// parsed, as HAProxy runs them; inspect-delay then has nothing to wait for.

// TCPRule is one `tcp-request content|connection accept|reject` line.
type TCPRule struct {
	Pos    diag.Pos   `json:"pos"`
	Layer  string     `json:"layer"`  // content, connection
	Action string     `json:"action"` // accept, reject, track-sc0|1|2
	Cond   *Condition `json:"cond,omitempty"`
	Track  *TrackSC   `json:"track,omitempty"` // track-scN (stick.go)
	Var    *VarAction `json:"var,omitempty"`   // set-var, set-var-fmt, unset-var (vars.go)
	Value  string     `json:"value,omitempty"` // set-src, set-src-port, set-dst, set-dst-port (tcpl4.go)
}

const tcpRequestBuilt = "varde builds tcp-request inspect-delay, the accept, reject and track-scN actions of tcp-request connection, session and content, set-var, set-var-fmt, unset-var in all three, and set-src, set-src-port, set-dst, set-dst-port, sc-inc-gpc0, sc-inc-gpc1, sc-set-gpt0 in tcp-request connection and session [if|unless COND]"

// tcpRequestKey resolves the keyword-table key of a tcp-request line, or
// reports the forms varde does not build.
func (p *parser) tcpRequestKey(words []Token) (string, bool) {
	if len(words) < 2 {
		p.d.Errorf(words[0].Pos, "tcp-request", tcpRequestBuilt, "tcp-request needs an argument")
		return "", false
	}
	switch sub := words[1].Text; sub {
	case "inspect-delay":
		return "tcp-request inspect-delay", true
	case "content", "connection", "session":
		if len(words) < 3 {
			p.d.Errorf(words[1].Pos, "tcp-request "+sub, "tcp-request "+sub+" accept|reject [if|unless COND]", "tcp-request %s needs an action", sub)
			return "", false
		}
		act := words[2].Text
		if act == "accept" || act == "reject" || act == "track-sc0" || act == "track-sc1" || act == "track-sc2" {
			return "tcp-request " + sub + " " + act, true
		}
		if b := actionBase(act); sub == "content" && isVarAction(b) {
			return "tcp-request content " + b, true // vars.go
		}
		if b := actionBase(act); sub != "content" && isL4Action(b) {
			return "tcp-request " + sub + " " + b, true // tcpl4.go
		}
		base := "tcp-request " + sub + " " + strings.SplitN(act, "(", 2)[0]
		p.d.Errorf(words[2].Pos, base, tcpRequestBuilt, "%q is a HAProxy rule varde does not support yet: the traffic it would act on would pass untouched", base)
		return "", false
	default:
		p.d.Errorf(words[1].Pos, "tcp-request "+sub, tcpRequestBuilt, "%q is a HAProxy rule varde does not support yet", "tcp-request "+sub)
		return "", false
	}
}

// inspectDelay reads `tcp-request|tcp-response inspect-delay TIME` (key is
// the keyword), shared by both.
func (p *parser) inspectDelay(key string, words []Token) (time.Duration, bool) {
	if len(words) != 3 {
		p.d.Errorf(words[0].Pos, key, key+" 5s", "%s expects exactly one argument", key)
		return 0, false
	}
	return p.duration(words[2], key), true
}

// parseTCPRequest reads a tcp-request line whose key was resolved.
func (p *parser) parseTCPRequest(l Line, key string, words []Token) {
	px := p.cur
	if px.Kind == KindBackend && words[1].Text != "content" && words[1].Text != "inspect-delay" {
		// HAProxy refuses these too: a backend has no connection of its own.
		p.d.Errorf(words[0].Pos, key, "move it to the frontend (or listen section) the traffic comes through", "%s is not allowed in a backend", key)
		return
	}
	if key == "tcp-request inspect-delay" {
		if d, ok := p.inspectDelay(key, words); ok {
			px.InspectDelay, px.InspectDelayPos = d, l.Pos
		}
		return
	}
	args, cond, ok := p.splitCond(key, words[3:])
	if !ok {
		return
	}
	if words[1].Text != "content" && isL4Action(actionBase(words[2].Text)) {
		p.parseL4Action(l, key, words, args, cond) // tcpl4.go
		return
	}
	if act := words[2].Text; isVarAction(actionBase(act)) {
		if va, ok := p.parseTCPVarRule(key, words[2], args); ok {
			px.TCPRequest = append(px.TCPRequest, &TCPRule{Pos: l.Pos, Layer: words[1].Text, Action: act, Cond: cond, Var: va})
		}
		return
	}
	if act := words[2].Text; strings.HasPrefix(act, "track-sc") {
		t, ok := p.parseTrack(key, act, words[2].Pos, args)
		if ok {
			px.TCPRequest = append(px.TCPRequest, &TCPRule{Pos: l.Pos, Layer: words[1].Text, Action: act, Cond: cond, Track: t})
		}
		return
	}
	if len(args) > 0 {
		p.d.Errorf(args[0].Pos, key, key+" [if|unless COND]", "unexpected %q: %s takes only a condition", args[0].Text, key)
		return
	}
	px.TCPRequest = append(px.TCPRequest, &TCPRule{Pos: l.Pos, Layer: words[1].Text, Action: words[2].Text, Cond: cond})
}
