package sample

// Eval computes the expression's sample. New bytes (converter output) are
// appended to scratch, which is returned so the caller can keep reusing its
// capacity; the Value may point into it. ok is false when there is no
// sample (the fetched input is absent or a converter failed), which HAProxy
// logs as "-" and skips in header rules.
func (e *Expr) Eval(c *Ctx, scratch []byte) (v Value, out []byte, ok bool) {
	scratch, ok = e.eval(c, scratch)
	return c.val, scratch, ok
}

// eval leaves the sample in c.val, sparing a copy to callers that read it
// there (Each).
func (e *Expr) eval(c *Ctx, scratch []byte) ([]byte, bool) {
	p := &c.val
	p.Type, p.Str = TypeAny, nil
	var ok bool
	if f := e.fetch; f.EvalBuf != nil {
		if scratch, ok = f.EvalBuf(c, &e.args, p, scratch); !ok {
			return scratch, false
		}
	} else if !f.Eval(c, &e.args, p) {
		return scratch, false
	}
	return e.convert(c, p, scratch)
}

func (e *Expr) convert(c *Ctx, v *Value, scratch []byte) ([]byte, bool) {
	for i := range e.convs {
		st := &e.convs[i]
		var ok bool
		if scratch, ok = Cast(v, st.c.In, scratch); !ok {
			return scratch, false
		}
		if st.c.EvalCtx != nil {
			if scratch, ok = st.c.EvalCtx(c, &st.args, v, scratch); !ok {
				return scratch, false
			}
		} else if scratch, ok = st.c.Eval(&st.args, v, scratch); !ok {
			return scratch, false
		}
	}
	return scratch, true
}

// AppendTo appends the expression's text value to dst; ok is false when
// there is no sample and nothing was appended. Converters work in scratch,
// which is returned for reuse.
func (e *Expr) AppendTo(dst []byte, c *Ctx, scratch []byte) (out, scr []byte, ok bool) {
	scratch, ok = e.eval(c, scratch)
	if !ok {
		return dst, scratch, false
	}
	return AppendString(dst, &c.val), scratch, true
}

// Each gives every value of the expression to v, for ACLs: a multi-valued
// fetch (hdr, cook, url_param without an occurrence) yields each of its
// values, each converted in turn. It reports whether v stopped the walk.
func (e *Expr) Each(c *Ctx, scratch *[]byte, v Visitor) bool {
	if e.fetch.Each == nil || e.args.Single {
		s, ok := e.eval(c, (*scratch)[:0])
		*scratch = s
		return ok && v.Visit(&c.val)
	}
	if len(e.convs) == 0 {
		return e.fetch.Each(c, &e.args, v)
	}
	c.cv = convVisitor{e: e, c: c, next: v, scratch: scratch}
	return e.fetch.Each(c, &e.args, &c.cv)
}

// convVisitor applies the converters to each value of a multi-valued fetch.
type convVisitor struct {
	e       *Expr
	c       *Ctx
	next    Visitor
	scratch *[]byte
}

func (cv *convVisitor) Visit(v *Value) bool {
	val := &cv.c.conv
	*val = *v
	s, ok := cv.e.convert(cv.c, val, (*cv.scratch)[:0])
	*cv.scratch = s
	return ok && cv.next.Visit(val)
}
