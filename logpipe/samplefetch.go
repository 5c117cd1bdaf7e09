package logpipe

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"unsafe"

	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
)

// log-format `%[expr]` items are core/sample expressions evaluated at log
// time against the record: the same fetches and converters as ACLs and
// header rules, restricted to what exists once the transaction ended. The
// request is seen through the record: method, URL, path and query from the
// request line, and headers only as captured by `capture request header`
// (varde does not keep the request after forwarding it), so req.hdr(NAME)
// gives the captured value of NAME, truncated to its capture length, and
// no sample without such a capture.

var logPlace = sample.Options{Where: sample.AtLog, Place: "in log-format"}

// compileSample compiles the expression at the start of s (after "%[") and
// returns the item and the length used; s[n] must be the closing ']'.
func compileSample(s string) (item, int, error) {
	e, n, err := sample.ParsePrefix(s, logPlace)
	if err != nil {
		return item{}, n, err
	}
	if n >= len(s) || s[n] != ']' {
		return item{}, n, fmt.Errorf("missing ']' after %q", s[:n])
	}
	return item{id: vSample, expr: e, anonAddr: e.FetchName() != "dst"}, n, nil
}

// sampleCtx is the log-time evaluation state kept in an encodeCtx.
type sampleCtx struct {
	ctx     sample.Ctx
	req     recordRequest
	res     capturedHeaders
	vars    sample.Vars      // the record's variables (var() in log-format)
	sess    *sample.SessVars // their sess. scope, kept for reuse
	scratch []byte
}

func (c *encodeCtx) fillSample(r *logrec.Record) *sample.Ctx {
	sc := &c.sample
	sc.ctx.Reset()
	x := &sc.ctx
	x.Src, x.Dst, x.TLS, x.Frontend = r.Client, r.FrontendAddr, r.TLS, r.Frontend
	if line := r.RequestLine.Bytes(); r.Mode == logrec.ModeHTTP && (len(line) == 0 || string(line) == "<BADREQ>") {
		// A bad request: HAProxy logs it without a stream, so only the
		// connection's facts have samples (measured against 2.6).
		return x
	}
	if r.RequestLine.Len() > 0 {
		sc.req = recordRequest{r: r, names: c.reqNames, logNames: c.logNames}
		sc.req.index()
		x.Req = &sc.req
	}
	x.Backend, x.Server, x.PolicyVerdict = r.Backend, r.Server, r.Policy
	if snap := r.VarsOf(); len(snap) > 0 {
		if sc.sess == nil {
			sc.sess = sample.NewSessVars()
		}
		sc.vars.Restore(snap, sc.sess)
		x.Vars = &sc.vars
	}
	if r.Server != "" && c.srvIDs != nil {
		x.ServerID = c.srvIDs[r.Backend+"/"+r.Server]
	}
	if r.Status > 0 {
		x.Status = int(r.Status)
	}
	sc.res = capturedHeaders{c: &r.ResHeaders, names: c.resNames}
	x.Res = &sc.res
	x.ReqCaptures, x.ResCaptures = &r.ReqHeaders, &r.ResHeaders
	return x
}

// appendSample writes the sample's text, "-" when there is none or it is
// empty, as HAProxy. Text is escaped like captured headers; with an
// anonymising target, addresses (but the frontend's own, dst) and text are
// anonymised as the rest of the line.
func appendSample(dst []byte, it *item, r *logrec.Record, c *encodeCtx) []byte {
	x := c.fillSample(r)
	v, scratch, ok := it.expr.Eval(x, c.sample.scratch[:0])
	c.sample.scratch = scratch
	if !ok {
		return append(dst, '-')
	}
	switch v.Type {
	case sample.TypeAddr:
		if it.anonAddr {
			return c.anon.appendAddr(dst, v.Addr, c.now)
		}
		return v.Addr.AppendTo(dst)
	case sample.TypeStr, sample.TypeBin:
		if len(v.Str) == 0 {
			return append(dst, '-')
		}
		if c.anon.active() {
			c.scratch = appendEscaped(c.scratch[:0], v.Str, &hdrEscape)
			return c.anon.appendText(dst, c.scratch, c.now)
		}
		return appendEscaped(dst, v.Str, &hdrEscape)
	}
	return sample.AppendString(dst, &v)
}

// recordRequest is the core.Request a log record still has: the headers
// the log-format reads (kept whole for it, Record.LogHeaders) and those
// `capture request header` lines captured (truncated to their len) that
// are not among them.
type recordRequest struct {
	r        *logrec.Record
	names    []string // `capture request header` names, lower case
	logNames []string // Record.LogHeaders names, lower case
	// seen lists the visible header lines: line i of LogHeaders as i,
	// slot i of ReqHeaders as -1-i.
	seen [logrec.MaxFields + logrec.MaxCaptures]int8
	n    int
}

func (q *recordRequest) index() {
	q.n = 0
	for i := range q.r.LogHeaders.Len() {
		if name, _ := q.r.LogHeaders.At(i); name < len(q.logNames) {
			q.seen[q.n], q.n = int8(i), q.n+1
		}
	}
	for i := range min(len(q.names), q.r.ReqHeaders.Len()) {
		if !hasFold(q.logNames, q.names[i]) {
			q.seen[q.n], q.n = int8(-1-i), q.n+1
		}
	}
}

func hasFold(list []string, s string) bool {
	for _, n := range list {
		if strings.EqualFold(n, s) {
			return true
		}
	}
	return false
}

func (q *recordRequest) line() (method, uri []byte) {
	m, u, _ := requestParts(q.r.RequestLine.Bytes())
	return m, u
}

func (q *recordRequest) Method() []byte { m, _ := q.line(); return m }
func (q *recordRequest) URI() []byte    { _, u := q.line(); return u }

func (q *recordRequest) Path() []byte {
	u := q.URI()
	if len(u) > 0 && u[0] != '/' {
		if i := bytes.Index(u, []byte("://")); i >= 0 {
			rest := u[i+3:]
			j := bytes.IndexByte(rest, '/')
			if j < 0 {
				j = len(rest)
			}
			u = rest[j:]
		}
	}
	if i := bytes.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

func (q *recordRequest) Query() []byte {
	u := q.URI()
	if i := bytes.IndexByte(u, '?'); i >= 0 {
		return u[i+1:]
	}
	return nil
}

func (q *recordRequest) Header(name string) ([]byte, bool) {
	for i := range q.n {
		if n, v := q.HeaderAt(i); strings.EqualFold(string(n), name) {
			return v, true
		}
	}
	return nil, false
}

func (q *recordRequest) NumHeaders() int { return q.n }
func (q *recordRequest) HeaderAt(i int) ([]byte, []byte) {
	if s := int(q.seen[i]); s >= 0 {
		name, v := q.r.LogHeaders.At(s)
		return stringView(q.logNames[name]), v
	}
	s := -1 - int(q.seen[i])
	return stringView(q.names[s]), q.r.ReqHeaders.At(s)
}
func (q *recordRequest) Src() netip.AddrPort { return q.r.Client }
func (q *recordRequest) Dst() netip.AddrPort { return q.r.FrontendAddr }
func (q *recordRequest) TLS() bool           { return q.r.TLS }

// capturedHeaders are the response headers a record kept (res.hdr).
type capturedHeaders struct {
	c     *logrec.Captures
	names []string
}

func (h *capturedHeaders) NumHeaders() int { return min(len(h.names), h.c.Len()) }
func (h *capturedHeaders) HeaderAt(i int) ([]byte, []byte) {
	return stringView(h.names[i]), h.c.At(i)
}

// stringView views a capture name as bytes for a read-only HeaderAt.
func stringView(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// UniqueID makes the unique-id fetch read the id the transaction logged.
func (q *recordRequest) UniqueID() ([]byte, bool) {
	id := q.r.UniqueIDOf()
	return id, len(id) > 0
}
