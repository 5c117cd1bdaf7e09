package proxy

import "github.com/varde-lb/varde/core/logrec"

// responseRuleEnd replaces the server's response with what an
// http-response deny or return rule sends, as HAProxy 2.6 does
// (http_process_res_common, measured against it): the response is dropped
// unread, so the server connection is closed; deny counts a denied
// response (dresp) on the frontend, backend and server and is logged PH
// with its deny_status (502 by default); return is logged LH. The
// replacement goes through http-after-response (writeLocal). The client
// connection stays open when the exchange was complete, as in HAProxy.
func (s *session) responseRuleEnd(x *xchg) bool {
	rule := s.respEnd
	s.respEnd = nil
	x.up.c.Close()
	s.consume(x.consumed)
	s.scr.status = 0 // a set-status before the rule does not apply to the replacement
	code := rule.Status
	if rule.Action == ActDeny {
		deniedResp(&s.f.Counters, x.b, x.srv)
		s.rec.SetTerm(logrec.TermProxy, logrec.StateHeaders)
	} else {
		s.rec.SetTerm(logrec.TermLocal, logrec.StateHeaders)
	}
	keep := !s.closeAfter && x.mode != HTTPClose && x.bodyDone && !x.upgrade && !s.e.stopping.Load()
	var page []byte
	switch rp := rule.Reply; {
	case rp == nil || rp.DefaultPage:
		page = keepAlivePages[code]
		if !keep || page == nil || s.f.errPages[code] != nil || x.b.errPages[code] != nil {
			keep, page = false, s.errorPage(code, x.b)
		}
	case rp.Raw != nil:
		keep, page = false, rp.Raw // its own framing: close after it
	default:
		page = s.replyBytes(rp, code, keep, true)
	}
	s.linger = !keep                              // the client may still be sending: drain before closing
	n, sent, err := s.writeLocal(page, code, x.b) // afterresp.go
	s.rec.BytesOut += countHTX(n, sent)
	s.log(x.b, x.srv)
	return keep && err == nil
}
