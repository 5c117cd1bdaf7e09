package proxy

import (
	"fmt"
	"sync"

	"github.com/varde-lb/varde/core/sample"
)

// compile turns Value (set-header, add-header) and a redirect's Target
// into core/sample templates: `%[expr]` with any fetch and converter, and
// the log-format aliases (%ci, %[src]...). An expression that does not
// compile is an error, so a rule never sends the raw %[...] text. Fetches
// of either message are accepted here; the configuration layer refuses,
// with file and line, a response fetch in an http-request rule.
func (r *HTTPRule) compile() error {
	o := sample.Options{Where: sample.AtRequest | sample.AtResponse}
	r.value, r.target = nil, nil
	switch r.Action {
	case ActSetHeader, ActAddHeader:
		t, err := sample.ParseTemplate(r.Value, o)
		if err != nil {
			return fmt.Errorf("header %s: %w", r.Name, err)
		}
		r.value = t
	case ActRedirect:
		t, err := sample.ParseTemplate(r.Target, o)
		if err != nil {
			return fmt.Errorf("redirect %s: %w", r.RedirectKind, err)
		}
		r.target = t
	}
	return nil
}

// ruleEval is the storage one evaluation of rule values needs; pooled so
// that building header values allocates nothing once warm.
type ruleEval struct {
	ctx     sample.Ctx
	scratch []byte
	body    []byte // an lf-string reply's body (retaction.go)
}

var ruleEvals = sync.Pool{New: func() any { return &ruleEval{scratch: make([]byte, 0, 256)} }}

// respHead views the response being relayed as sample.Headers (res.hdr):
// the fields as earlier http-response rules left them.
type respHead session

func (h *respHead) NumHeaders() int {
	if e := &h.rspE; e.on {
		return len(e.f)
	}
	return len(h.resp.Fields)
}

func (h *respHead) HeaderAt(i int) ([]byte, []byte) {
	if e := &h.rspE; e.on {
		return e.name(i), e.value(i)
	}
	return h.resp.Name(i), h.resp.Value(i)
}

// evalCtx fills c with what the session knows; response facts only when
// the response is being written (inResponse).
func (s *session) evalCtx(c *sample.Ctx, inResponse bool) {
	sample.RequestCtx(c, &s.view)
	c.Src, c.Dst = s.src, s.dst
	c.Frontend, c.Backend, c.Server = s.rec.Frontend, s.rec.Backend, s.rec.Server
	c.PolicyVerdict = s.rec.Policy
	c.CacheName = s.cacheName() // cache_serve.go
	if s.heldSrv != nil {
		c.ServerID = s.heldSrv.ID
	}
	c.ReqCaptures = &s.rec.ReqHeaders
	if inResponse {
		c.Response = true
		c.Status = int(s.rec.Status)
		c.Res = (*respHead)(s)
		c.ResCaptures = &s.rec.ResHeaders
	}
}

// responseCond evaluates an http-response condition with the response's
// facts (status, res.hdr), when the condition can take them.
func (s *session) responseCond(c Cond) bool {
	rc, ok := c.(interface{ MatchCtx(*sample.Ctx) bool })
	if !ok {
		return c.Match(&s.view)
	}
	ev := ruleEvals.Get().(*ruleEval)
	s.evalCtx(&ev.ctx, true)
	r := rc.MatchCtx(&ev.ctx)
	ev.ctx.Reset()
	ruleEvals.Put(ev)
	return r
}

// appendTarget appends a redirect rule's target for this request.
func (r *HTTPRule) appendTarget(dst []byte, s *session) []byte {
	if r.target == nil || !r.target.Dynamic() {
		return append(dst, r.Target...)
	}
	return s.evalFmt(r.target, false, dst)
}
