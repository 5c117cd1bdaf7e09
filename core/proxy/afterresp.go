package proxy

import (
	"strconv"

	"github.com/varde-lb/varde/core/httpx"
)

// http-after-response rules (HAProxy 2.6): they run on every response the
// client gets, the server's after the http-response rules and the ones
// varde generates itself (errors, deny, return, redirect, auth), the
// backend's list first, then the frontend's. Only header, status and allow
// actions exist there, plus whatever is registered as an Actor.

// runAfterResponse runs the lists that apply to this transaction on the
// response in s.resp (its edits in s.rspE).
func (s *session) runAfterResponse(b *Backend) {
	// A local answer reaches these rules without a server response: the
	// variables move to the response scope here, as HAProxy's do.
	s.scr.vars.EnterResponse()
	if b != nil && !(b.cfg.Listen && b.Name == s.f.Name) {
		s.runAfterRules(b.cfg.HTTPAfterResponse)
	}
	s.runAfterRules(s.f.cfg.HTTPAfterResponse)
}

func (s *session) runAfterRules(rules []*HTTPRule) {
	for _, rule := range rules {
		if rule.Cond != nil && !s.responseCond(rule.Cond) {
			continue
		}
		switch rule.Action {
		case ActAllow:
			return
		case ActActor:
			if rule.Actor.Do(s, true).Stop {
				return
			}
		default:
			s.applyHeaderRule(rule, true)
		}
	}
}

// hasAfterRules reports whether a local answer must go through the rules.
func (s *session) hasAfterRules(b *Backend) bool {
	return len(s.f.cfg.HTTPAfterResponse) > 0 || (b != nil && len(b.cfg.HTTPAfterResponse) > 0)
}

// writeLocal writes a response varde generated (page: head and body) to
// the client, through the http-after-response rules when there are any.
// It records the status sent (a set-status rule may change it) and returns
// what was written, for the byte counts.
func (s *session) writeLocal(page []byte, code int, b *Backend) (n int, sent []byte, err error) {
	s.rec.Status = int32(code)
	if b == nil && s.rec.Backend != "" {
		b = s.e.byName[s.rec.Backend] // a backend's rule answered
	}
	if s.hasAfterRules(b) {
		page = s.afterLocal(page, b)
	}
	s.conn.SetWriteDeadline(after(s.clientTimeout(0)))
	n, err = s.conn.Write(page)
	return n, page, err
}

// afterLocal runs the rules on a generated page and rebuilds its head in
// the session's response buffer; the body is kept as is. A page that does
// not parse (a custom errorfile can be anything) is sent untouched, as
// HAProxy sends a raw errorfile it could not turn into HTX.
func (s *session) afterLocal(page []byte, b *Backend) []byte {
	resp := &s.resp
	if err := resp.Parse(page, httpx.DefaultLimits); err != nil {
		return page
	}
	s.rspE.reset()
	s.scr.status = 0
	s.runAfterResponse(b)
	o := append(s.rspE.page[:0], page[:9]...) // HTTP/1.x and the space
	if st := s.scr.status; st != 0 {
		o = strconv.AppendInt(o, int64(st), 10)
		o = append(o, ' ')
		o = append(o, s.scr.reason...)
	} else {
		o = strconv.AppendInt(o, int64(resp.Status), 10)
		o = append(o, ' ')
		o = append(o, resp.Reason.Of(page)...)
	}
	o = append(o, '\r', '\n')
	// HAProxy 2.6 writes a generated answer from HTX: names in lower case
	// (rule-added ones too) and its connection header last, after the
	// fields the rules added (measured: cmd/varde respdeny_test.go).
	h := (*respHead)(s)
	var conn []byte
	for i, n := 0, h.NumHeaders(); i < n; i++ {
		name, val := h.HeaderAt(i)
		if httpx.EqualFold(name, "connection") && conn == nil {
			conn = val
			continue
		}
		o = httpx.AppendLower(o, name)
		o = append(o, ": "...)
		o = append(o, val...)
		o = append(o, '\r', '\n')
	}
	if conn != nil {
		o = httpx.AppendField(o, connectionName, conn)
	}
	o = append(o, '\r', '\n')
	o = append(o, page[resp.HeadLen:]...)
	s.rspE.page = o
	return o
}

var connectionName = []byte("connection")
