package proxy

import (
	"fmt"
	"strings"
	"sync"

	"github.com/varde-lb/varde/core/httpx"
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

// respHead views a parsed response as sample.Headers (res.hdr).
type respHead httpx.Head

func (h *respHead) NumHeaders() int { return len(h.Fields) }
func (h *respHead) HeaderAt(i int) ([]byte, []byte) {
	return (*httpx.Head)(h).Name(i), (*httpx.Head)(h).Value(i)
}

// evalCtx fills c with what the session knows; response facts only when
// the response is being written (inResponse).
func (s *session) evalCtx(c *sample.Ctx, inResponse bool) {
	sample.RequestCtx(c, &s.view)
	c.Src, c.Dst = s.src, s.dst
	c.Frontend, c.Backend, c.Server = s.rec.Frontend, s.rec.Backend, s.rec.Server
	c.PolicyVerdict = s.rec.Policy
	if s.heldSrv != nil {
		c.ServerID = s.heldSrv.ID
	}
	c.ReqCaptures = &s.rec.ReqHeaders
	if inResponse {
		c.Response = true
		c.Status = int(s.rec.Status)
		c.Res = (*respHead)(&s.resp.Head)
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
	ev := ruleEvals.Get().(*ruleEval)
	s.evalCtx(&ev.ctx, false)
	dst, ev.scratch = r.target.Append(dst, &ev.ctx, ev.scratch)
	ev.ctx.Reset()
	ruleEvals.Put(ev)
	return dst
}

// edits is the effective header edit list of one message after the
// matching set/add/del rules ran in order. HAProxy has no limit on header
// rules, so neither has this: del and add start on the inline arrays (no
// allocation for up to editsInline edits per message, the common case) and
// grow past them; the grown slices stay with the pooled session.
type edits struct {
	del  []string // names removed from the original message; del[:nDel] valid
	nDel int
	add  []*HTTPRule // set/add rules whose lines are appended; add[:nAdd] valid
	nAdd int

	delArr [editsInline]string
	addArr [editsInline]*HTTPRule
}

const editsInline = 16

func (e *edits) reset() {
	e.nDel, e.nAdd = 0, 0
	if e.del == nil {
		e.del, e.add = e.delArr[:], e.addArr[:]
	}
}

func (e *edits) apply(r *HTTPRule) {
	switch r.Action {
	case ActDelHeader, ActSetHeader:
		if e.nDel < len(e.del) {
			e.del[e.nDel] = r.Name
		} else {
			e.del = append(e.del, r.Name)
		}
		e.nDel++
		// Earlier additions of the same name go too.
		k := 0
		for i := 0; i < e.nAdd; i++ {
			if !strings.EqualFold(e.add[i].Name, r.Name) {
				e.add[k] = e.add[i]
				k++
			}
		}
		e.nAdd = k
		if r.Action == ActDelHeader {
			return
		}
		fallthrough
	case ActAddHeader:
		if e.nAdd < len(e.add) {
			e.add[e.nAdd] = r
		} else {
			e.add = append(e.add, r)
		}
		e.nAdd++
	}
}

func (e *edits) deleted(name []byte) bool {
	for i := 0; i < e.nDel; i++ {
		if httpx.EqualFold(name, e.del[i]) {
			return true
		}
	}
	return false
}

func (e *edits) appendAdds(dst []byte, s *session) []byte {
	if e.nAdd == 0 {
		return dst
	}
	ev := ruleEvals.Get().(*ruleEval)
	s.evalCtx(&ev.ctx, e == &s.rspE)
	for i := 0; i < e.nAdd; i++ {
		r := e.add[i]
		dst = append(dst, r.Name...)
		dst = append(dst, ':', ' ')
		if r.value != nil {
			dst, ev.scratch = r.value.Append(dst, &ev.ctx, ev.scratch)
		} else {
			dst = append(dst, r.Value...)
		}
		dst = append(dst, '\r', '\n')
	}
	ev.ctx.Reset()
	ruleEvals.Put(ev)
	return dst
}
