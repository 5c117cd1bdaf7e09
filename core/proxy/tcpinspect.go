package proxy

import (
	"time"

	"github.com/varde-lb/varde/core"
)

// Content inspection in mode tcp (`tcp-request inspect-delay` and
// `tcp-request content accept|reject`), with HAProxy's semantics:
//
//   - without content rules nothing waits: use_backend sees whatever the
//     connection holds (usually nothing), as in HAProxy;
//   - the rules run in order when the connection starts and each time
//     bytes arrive; the first whose condition matches decides;
//   - a rule whose condition does not match but read a sample that may
//     still change (a ClientHello not complete yet) makes the rules wait
//     for more bytes, up to inspect-delay from the start;
//   - when the delay expires, the client stops sending or the buffer is
//     full, the rules run once more with what is there (final), and if
//     none matches the connection is accepted.
//
// The bytes read stay in s.in: use_backend chooses with them, then they
// are sent to the chosen server first, unchanged.

// inspect runs the frontend's content rules over v; false: rejected.
func (s *session) inspect(v *tcpView) bool {
	return s.inspectWith(v, s.f.cfg.TCPContent, s.f.cfg.InspectDelay)
}

// inspectWith runs content rules over v, waiting up to delay from now for
// bytes they need: the frontend's, then (HAProxy's AN_REQ_INSPECT_BE) the
// backend's, whose delay starts when the backend is chosen.
func (s *session) inspectWith(v *tcpView, rules []TCPRule, delay time.Duration) bool {
	if len(rules) == 0 {
		v.payload, v.final = s.in[:s.n], true
		return true
	}
	deadline := time.Now().Add(delay)
	final := delay <= 0
	defer s.conn.SetReadDeadline(time.Time{})
	for {
		v.payload, v.final = s.in[:s.n], final
		if decided, reject := tcpContentRules(rules, v); decided {
			v.final = true
			return !reject
		}
		if s.n == len(s.in) || !time.Now().Before(deadline) {
			final = true
			continue
		}
		s.conn.SetReadDeadline(deadline)
		n, err := s.conn.Read(s.in[s.n:])
		s.n += n
		if err != nil {
			// Timeout (inspect-delay expired), end of input or error:
			// decide with what is there.
			final = true
		}
	}
}

// tcpContentRules evaluates rules once; decided is false while a rule
// waits for more bytes (never when v is final).
func tcpContentRules(rules []TCPRule, v *tcpView) (decided, reject bool) {
	for _, r := range rules {
		ok, miss := matchCond3(r.Cond, v)
		if miss && !v.final {
			return false, false
		}
		if ok && r.Var != nil {
			r.Var.doTCP(v) // vars.go
			continue
		}
		if ok && r.Track != nil {
			// Only track-scN: the parser has no sc-* action in
			// tcp-request rules.
			if r.Track.trackInto(&v.st.req, v, v.src) {
				v.st.nreq++
			}
			continue
		}
		if ok {
			return true, r.Reject
		}
	}
	return true, false
}

// cond3 is a condition with three-valued evaluation (acl.Condition).
type cond3 interface {
	Match3(core.Request) (ok, miss bool)
}

func matchCond3(c Cond, req core.Request) (ok, miss bool) {
	if c == nil {
		return true, false
	}
	if m, is := c.(cond3); is {
		return m.Match3(req)
	}
	return c.Match(req), false
}
