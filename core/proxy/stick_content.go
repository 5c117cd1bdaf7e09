package proxy

import (
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sticktable"
)

// tcp-request content rules in a mode http frontend run, as in HAProxy,
// once per request with its head already parsed (inspect-delay has
// nothing to wait for): track-scN tracks for the transaction, accept ends
// the rules, reject closes the connection without an answer. Their
// conditions are limited to what a tcp-request rule reads (addresses,
// constants, stick counters): core/config and tcpRulesOf refuse others.

// httpContentRules runs the frontend's content rules for this request;
// false: rejected, the connection ends.
func (s *session) httpContentRules() bool {
	for i := range s.f.cfg.TCPContent {
		r := &s.f.cfg.TCPContent[i]
		if r.Cond != nil && !r.Cond.Match(&s.view) {
			continue
		}
		if r.Var != nil {
			r.Var.Do(s, false) // vars.go
			continue
		}
		if r.Track != nil {
			// Tracked without counting the request: it counts once the
			// rules are done (stickCountRequest), as in HAProxy.
			if r.Track.Kind == TrackSC && r.Track.trackInto(&s.st.req, &s.view, s.src) {
				s.st.nreq++
			}
			continue
		}
		if !r.Reject {
			return true
		}
		s.f.Denied.Add(1)
		s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		s.log(nil, nil)
		return false
	}
	return true
}

// backContentRules runs the content rules of the backend b a request
// enters from another proxy (HAProxy's AN_REQ_INSPECT_BE, after the
// frontend's rules and use_backend, before the backend's http-request
// rules; a listen section's own rules ran as its frontend's). A counter
// tracked here counts the request once the rules accepted it, as
// HAProxy's stream_inc_be_http_req_ctr does for backend-tracked counters
// when the backend's http-request processing starts (a rejected request
// is not counted); its errors and bytes count with the others'
// (stickEnd). false: rejected, the connection ends.
func (s *session) backContentRules(b *Backend) bool {
	var tracked [3]bool
	if !s.backContentVerdict(b, &tracked) {
		return false
	}
	for n, ok := range tracked {
		if sl := s.st.req[n]; ok && sl.e != nil {
			sl.t.Inc(sl.e, sticktable.HTTPReqCnt, sticktable.HTTPReqRate, 1)
		}
	}
	return true
}

// backContentVerdict evaluates the backend's content rules, noting the
// counters they track.
func (s *session) backContentVerdict(b *Backend, tracked *[3]bool) bool {
	for i := range b.cfg.TCPContent {
		r := &b.cfg.TCPContent[i]
		if r.Cond != nil && !r.Cond.Match(&s.view) {
			continue
		}
		if r.Var != nil {
			r.Var.Do(s, false) // vars.go
			continue
		}
		if r.Track != nil { // only track-scN: no sc-* action in content rules
			if r.Track.Kind == TrackSC && r.Track.trackInto(&s.st.req, &s.view, s.src) {
				s.st.nreq++
				tracked[r.Track.Slot] = true
			}
			continue
		}
		if !r.Reject {
			return true
		}
		s.f.Denied.Add(1) // HAProxy counts the frontend's denied_req
		s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		s.log(nil, nil)
		return false
	}
	return true
}

// backInspect runs a mode tcp backend's content rules over the
// connection's bytes, waiting up to the backend's inspect-delay (counted
// from now) for more; a listen section's own rules ran already. false:
// rejected.
func (s *session) backInspect(b *Backend, v *tcpView) bool {
	if len(b.cfg.TCPContent) == 0 || (b.cfg.Listen && b.Name == s.f.Name) {
		return true
	}
	return s.inspectWith(v, b.cfg.TCPContent, b.cfg.InspectDelay)
}
