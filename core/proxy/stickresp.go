package proxy

import "github.com/varde-lb/varde/core/sticktable"

// stick store-response, as HAProxy's process_store_rules: once the
// server's response head arrived and before the http-response rules
// touch it, each rule whose condition matches samples its key on the
// response (res.hdr, res.cook, status, and the request's own fetches)
// and the table remembers the answering server under it. Only the first
// matching store-response rule of each table applies (a fallback chain:
// a Set-Cookie value, else a header); store-request rules of the same
// table are independent.

// stickStoreResponse runs the backend's store-response rules for the
// response of srv.
func (s *session) stickStoreResponse(b *Backend, srv *server) {
	rules := b.cfg.Stick
	var done [maxStores]*sticktable.Table
	n := 0
	for i := range rules {
		r := &rules[i]
		if !r.Resp || r.Table == nil || tableIn(done[:n], r.Table) {
			continue
		}
		if r.Cond != nil && !s.responseCond(r.Cond) {
			continue
		}
		k, ok := s.responseKey(r)
		if !ok {
			continue
		}
		if e := r.Table.Get(k); e != nil {
			r.Table.Set(e, sticktable.ServerID, uint64(srv.ID))
		}
		if n < len(done) {
			done[n] = r.Table
			n++
		}
	}
}

// responseKey samples r's key with the response's facts.
func (s *session) responseKey(r *StickRule) ([]byte, bool) {
	ev := ruleEvals.Get().(*ruleEval)
	defer func() {
		ev.ctx.Reset()
		ruleEvals.Put(ev)
	}()
	s.evalCtx(&ev.ctx, true)
	v, scr, ok := r.Key.Eval(&ev.ctx, ev.scratch[:0])
	ev.scratch = scr
	if !ok {
		return nil, false
	}
	var buf [64]byte
	k, ok := keyOfValue(r.Table, &v, buf[:0])
	if !ok {
		return nil, false
	}
	return append([]byte(nil), k...), true
}

func tableIn(list []*sticktable.Table, t *sticktable.Table) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}
