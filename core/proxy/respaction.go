package proxy

import "github.com/varde-lb/varde/core/logrec"

// responseRuleEnd replaces the server's response with what an
// http-response deny or return rule sends, as HAProxy 2.6 does
// (http_process_res_common): the response is dropped unread, so the
// server connection is closed; deny counts a denied response (dresp) on
// the frontend, backend and server and is logged PH with its deny_status
// (502 by default); return is logged LH. The replacement goes through
// http-after-response (writeLocal), and the client connection closes
// after it, as HAProxy ends the stream.
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
	s.linger = true // the client may still be sending: drain before closing
	rp := rule.Reply
	switch {
	case rp == nil || rp.DefaultPage:
		s.sendError(code, x.b)
	case rp.Raw != nil:
		n, sent, _ := s.writeLocal(rp.Raw, code, x.b) // afterresp.go
		s.rec.BytesOut += countHTX(n, sent)
	default:
		n, sent, _ := s.writeLocal(s.replyBytes(rp, code, false, true), code, x.b)
		s.rec.BytesOut += countHTX(n, sent)
	}
	s.log(x.b, x.srv)
	return false
}
