package proxy

import (
	"fmt"
	"net/netip"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
)

// unique-id-format and unique-id-header, as HAProxy 2.6: the id is built
// once per transaction, when first needed (the unique-id fetch, the
// request sent to the server, or the log line of a request answered
// before), from the frontend's format, truncated to 127 bytes.

// uniqueIDMax is HAProxy's UNIQUEID_LEN (128) less its terminating NUL.
const uniqueIDMax = 127

// uniqueID is the transaction's id; the buffer stays with the session.
type uniqueID struct {
	b    []byte
	done bool
}

func (u *uniqueID) reset() { u.b, u.done = u.b[:0], false }

// uniqueIDOf compiles a frontend's unique-id-format.
func uniqueIDOf(p *config.Proxy) (*sample.Template, string, error) {
	if p.UniqueIDFormat == nil {
		return nil, "", nil
	}
	t, err := sample.ParseTemplate(p.UniqueIDFormat.Value, sample.Options{Where: sample.AtRequest | sample.AtResponse})
	if err != nil {
		return nil, "", fmt.Errorf("%s: unique-id-format: %w", p.UniqueIDFormat.Pos, err)
	}
	return t, p.UniqueIDHeader, nil
}

// uniqueID returns the transaction's id, building it the first time;
// false when the frontend has no unique-id-format.
func (s *session) uniqueID() ([]byte, bool) {
	if s.f.cfg.UniqueID == nil {
		return nil, false
	}
	if !s.uid.done {
		s.buildUniqueID(false)
	}
	return s.uid.b, true
}

// buildUniqueID evaluates the format. late: at log time, for a request
// answered by a rule, where HAProxy no longer has the request's contents
// (only its method): the view then shows nothing else of it.
func (s *session) buildUniqueID(late bool) {
	s.uid.done = true // a format reading unique-id sees an empty id
	ev := ruleEvals.Get().(*ruleEval)
	s.evalCtx(&ev.ctx, s.rec.Status > 0)
	lv := lateView{s: s}
	if late {
		ev.ctx.Req = &lv
	}
	s.uid.b, ev.scratch = s.f.cfg.UniqueID.Append(s.uid.b[:0], &ev.ctx, ev.scratch[:0])
	ev.ctx.Reset()
	ruleEvals.Put(ev)
	if len(s.uid.b) > uniqueIDMax {
		s.uid.b = s.uid.b[:uniqueIDMax]
	}
}

// lateView is the request as HAProxy still knows it when it logs a
// request answered before being forwarded: its method and addresses.
type lateView struct{ s *session }

func (v *lateView) Method() []byte                { return v.s.view.Method() }
func (v *lateView) URI() []byte                   { return nil }
func (v *lateView) Path() []byte                  { return nil }
func (v *lateView) Query() []byte                 { return nil }
func (v *lateView) Header(string) ([]byte, bool)  { return nil, false }
func (v *lateView) NumHeaders() int               { return 0 }
func (v *lateView) HeaderAt(int) ([]byte, []byte) { return nil, nil }
func (v *lateView) Src() netip.AddrPort           { return v.s.src }
func (v *lateView) Dst() netip.AddrPort           { return v.s.dst }
func (v *lateView) TLS() bool                     { return v.s.tls != nil }
func (v *lateView) UniqueID() ([]byte, bool)      { return v.s.uid.b, true }

// UniqueID makes the request view a sample.UniqueIDer (unique-id fetch).
func (v *reqView) UniqueID() ([]byte, bool) { return v.s.uniqueID() }

// appendUniqueIDHeader appends `unique-id-header: ID` to the request
// sent to the server, after the rules' headers as HAProxy adds it.
func (s *session) appendUniqueIDHeader(o []byte) []byte {
	name := s.f.cfg.UniqueIDHeader
	if name == "" {
		return o
	}
	id, ok := s.uniqueID()
	if !ok {
		return o
	}
	o = append(o, name...)
	o = append(o, ':', ' ')
	o = append(o, id...)
	return append(o, '\r', '\n')
}

// noteExtra gives the log record what only some transactions log: the
// unique id (built now if nothing asked for it yet and the request head
// was read: HAProxy builds it at log time too) and, when the frontend's
// log-format reads var(), the variables. Both go in one buffer allocated
// for the record (it is shared by the copies the log pipeline makes).
func (s *session) noteExtra(r *logrec.Record) {
	needID := s.f.cfg.UniqueID != nil && (s.req.HeadLen > 0 || s.uid.done)
	needVars := s.f.cfg.LogVars
	if !needID && !needVars {
		return
	}
	if needID && !s.uid.done {
		s.buildUniqueID(true)
	}
	var tmp [logVarBytes]byte
	var snap []byte
	if needVars {
		snap = s.snapVars(r, tmp[:0])
	}
	var id []byte
	if needID {
		id = s.uid.b
	}
	if len(id) == 0 && len(snap) == 0 {
		return
	}
	buf := make([]byte, 0, len(id)+len(snap))
	buf = append(append(buf, id...), snap...)
	r.Extra = &logrec.Extra{UniqueID: buf[:len(id):len(id)], Vars: buf[len(id):]}
}
