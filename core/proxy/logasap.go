package proxy

import (
	"time"

	"github.com/varde-lb/varde/core/config"
)

// option logasap (HAProxy 2.6): an HTTP transaction is logged as soon as
// the server's response head has been sent to the client, not when the
// body is done: Ta (and Tt) are the time so far and B the bytes sent so
// far (the head, and the body bytes that came and went with it), each
// printed with a '+' (logrec.Record.ASAP), and the
// connection counts include the transaction itself. The stats still
// account for the whole transaction when it ends. Answers the proxy makes
// itself (deny, redirect, errors) are logged when they are sent, their
// Ta and B printed with a '+' too, as HAProxy does for every line of such
// a frontend (TestLogASAPDifferential).

// logASAPOf reads `option logasap` for a frontend in mode http.
func logASAPOf(p *config.Proxy) bool {
	return p.Option("logasap") != nil && p.EffectiveMode() == "http"
}

// logASAP hands the record to the sink now that the response head is out.
func (s *session) logASAP(x *xchg) {
	r := &s.rec
	if r.Request != 0 {
		r.Ta = ms(time.Duration(time.Now().UnixNano() - r.Request))
	}
	r.ActConn = int32(s.e.actconn.Load())
	r.FeConn = int32(s.f.CurConns.Load())
	r.BeConn = int32(x.b.CurConns.Load())
	r.BackendQueue = int32(x.b.Queued.Load())
	r.SrvConn = int32(x.srv.Active.Load())
	r.SrvQueue = int32(x.srv.Queued.Load())
	r.Backend = x.b.Name
	r.ASAP = true
	s.e.sink.Log(r)
	r.ASAP = false
	r.Ta = -1 // finish measures the whole transaction for the stats
	s.asapLogged = true
}
