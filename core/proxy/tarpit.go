package proxy

import (
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/logrec"
)

// http-request tarpit, as HAProxy 2.6's tarpit analyser: the request is
// dropped, the connection held for `timeout tarpit` (else timeout
// connect, else not at all) while whatever the client sends is read and
// discarded, then the error page of the rule's status (500 unless
// deny_status) is sent and the connection closed. A client that leaves
// first gets nothing. The log shows the termination state PT and %Tw the
// time held; the request counts as denied.

func init() {
	registerActor(buildTarpit, "tarpit")
}

type tarpitActor struct{ status int }

func buildTarpit(r *config.HTTPRule) (Actor, error) {
	st := r.Status
	if st == 0 {
		st = 500
	}
	return &tarpitActor{status: st}, nil
}

func (a *tarpitActor) Do(s *session, resp bool) Verdict {
	s.f.Denied.Add(1)
	s.st.denied = true // counts in http_err_* (stick.go)
	hold := s.f.cfg.Timeouts.Tarpit
	if hold <= 0 {
		hold = s.f.cfg.Timeouts.Connect
	}
	start := time.Now()
	stayed := s.holdTarpit(start.Add(hold))
	s.rec.Tw = ms(time.Since(start))
	s.rec.SetTerm(logrec.TermProxy, logrec.StateTarpitted)
	s.closeAfter = true
	if stayed {
		s.sendError(a.status, nil)
	} else {
		s.rec.Status = int32(a.status)
	}
	s.log(nil, nil)
	return Verdict{Stop: true, Done: true}
}

// holdTarpit reads and drops the client's bytes until the deadline;
// false when the client closed or failed first.
func (s *session) holdTarpit(until time.Time) bool {
	defer s.conn.SetReadDeadline(time.Time{})
	for time.Now().Before(until) && !s.e.stopping.Load() {
		s.conn.SetReadDeadline(until)
		if _, err := s.conn.Read(s.sb); err != nil { // s.in still holds the request the log reads
			return isTimeout(err)
		}
	}
	return true
}
