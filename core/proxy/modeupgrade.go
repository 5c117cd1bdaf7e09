package proxy

import (
	"bytes"
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

// A `mode tcp` frontend whose use_backend or default_backend names a `mode
// http` backend: HAProxy 2.6 upgrades the stream to HTTP once the backend
// is chosen (stream_set_backend: the client's mux becomes H1 over the
// bytes already read). From there the connection is an HTTP one:
//
//   - the first request goes to the backend the TCP stream chose, after
//     the frontend's tcp-request content rules ran once on the raw bytes;
//   - each keep-alive follow-up is a new stream of the frontend: its
//     tcp-request content rules and use_backend run again, on an HTTP
//     request (payload fetches match nothing there, as HAProxy's return
//     nothing for HTX streams);
//   - a follow-up whose rules choose a `mode tcp` backend is aborted
//     without an answer (HAProxy: SF_ERR_INTERNAL, logged as such);
//   - the frontend's http-request rules, redirects, monitor-uri and stats
//     never run: HAProxy ignores them in a tcp frontend (it warns);
//   - each request is logged with the frontend's log format, as HTTP; a
//     client that closes before sending anything is not logged (HAProxy's
//     upgraded stream ends silently), while plain HTTP logs it;
//   - HTTP fetches in the TCP stream's rules read the client's bytes as an
//     HTTP/1 request head (tcpView.http), so the first request can be
//     routed by path or header, as HAProxy parses the raw buffer.
//
// serveTCP marks the upgrade in session.upgrade; handOver turns the TCP
// session's state into what runHTTP takes (the bytes read so far and the
// backend already chosen).

// handOver returns the parked connection runHTTP serves next: the bytes
// the inspection read, the backend chosen, the connection's addresses,
// TLS state and sess. variables. It allocates (a copy of the pending
// bytes): an upgrade happens once per connection.
func (s *session) handOver(a admission, start time.Time) *parked {
	p := &parked{f: s.f, c: s.conn, accept: start, src: s.src, dst: s.dst,
		admitted: true, tls: a.tls, th: a.th, forced: s.upgrade}
	if a.done && !a.accept.IsZero() {
		p.accept = a.accept
	}
	if s.n > 0 {
		p.pre = bytes.Clone(s.in[:s.n])
		s.n = 0
	}
	p.vars = s.detachVars()
	return p
}

// resume gives a session the state a hand-over left in p.
func (s *session) resume(p *parked) {
	if p.pre != nil {
		s.n = copy(s.in, p.pre)
		p.pre = nil
	}
	s.forced, p.forced = p.forced, nil
}

// upgradedFront runs a follow-up request's frontend part on an upgraded
// connection (a tcp frontend): its tcp-request content rules, then its
// backend choice. done reports that the request ended there.
func (s *session) upgradedFront() (b *Backend, done, keep bool) {
	f := s.f
	if len(f.cfg.TCPContent) > 0 && !s.httpContentRules() {
		return nil, true, false
	}
	s.stickCountRequest()
	b = f.chooseBackend(&s.view)
	if b == nil {
		s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		return nil, true, s.answer(503, nil)
	}
	if b.cfg.Mode != ModeHTTP {
		// HAProxy cannot give an HTTP stream to a tcp backend: it
		// aborts the request without an answer.
		s.rec.Backend = b.Name
		s.rec.Status = 500
		s.rec.SetTerm(logrec.TermInternal, logrec.StateRequest)
		s.log(nil, nil)
		return nil, true, false
	}
	return b, false, false
}
