package proxy

import "github.com/varde-lb/varde/core/logrec"

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
