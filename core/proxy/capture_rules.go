package proxy

import (
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/sample"
)

// http-request capture SAMPLE len N|id N and http-response capture SAMPLE
// id N, as HAProxy 2.6: the sample, as text, replaces the value of the
// frontend's capture slot (the slots of `capture request|response header`,
// `declare capture` and `capture ... len` lines, in their order), cut to
// the slot's length; %hr/%hs and capture.req.hdr(N) show it. A sample
// that cannot be fetched leaves the slot as it was; an id past the
// frontend's slots does nothing.

func init() {
	registerActor(buildCaptureRule, "capture")
}

type captureActor struct {
	slot int
	expr *sample.Expr
}

func buildCaptureRule(r *config.HTTPRule) (Actor, error) {
	e, err := sample.Parse(r.Capture.Expr, sample.Options{Where: sample.AtRequest | sample.AtResponse})
	if err != nil {
		return nil, err
	}
	return &captureActor{slot: r.Capture.Slot, expr: e}, nil
}

func (a *captureActor) Do(s *session, resp bool) Verdict {
	slots, caps := s.f.cfg.CaptureRequest, &s.rec.ReqHeaders
	if resp {
		slots, caps = s.f.cfg.CaptureResponse, &s.rec.ResHeaders
	}
	if a.slot >= len(slots) {
		return Verdict{}
	}
	ev := ruleEvals.Get().(*ruleEval)
	s.evalCtx(&ev.ctx, resp)
	v, scratch, ok := a.expr.Eval(&ev.ctx, ev.scratch[:0])
	if ok {
		scratch, ok = sample.Cast(&v, sample.TypeStr, scratch)
	}
	if ok {
		caps.Set(a.slot, v.Str, slots[a.slot].Len)
	}
	ev.scratch = scratch
	ev.ctx.Reset()
	ruleEvals.Put(ev)
	return Verdict{}
}
