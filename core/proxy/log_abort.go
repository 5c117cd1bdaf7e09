package proxy

import (
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

// logHeadAbort logs a first request the client abandoned (closed before a
// whole head), as HAProxy 2.6 does: "<BADREQ>", status 400, CR--, %Ta the
// time since accept, %B 0. A connection that sent nothing at all is
// logged the same way, and without a request line, so `option
// dontlognull` (Record.Null) leaves it out, as HAProxy's does.
func (s *session) logHeadAbort() {
	s.rec.SetTerm(logrec.TermClientAbort, logrec.StateRequest)
	s.rec.Status = 400
	s.rec.Ta = ms(time.Since(s.accept))
	s.log(nil, nil)
}
