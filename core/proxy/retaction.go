package proxy

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
)

// Reply is what `http-request return` (and `deny` with a payload) sends,
// laid out as HAProxy 2.6 writes it: the hdr lines in order, then
// content-length, then content-type, then the body.
type Reply struct {
	ContentType string
	Body        []byte           // static body (string, file)
	BodyFormat  *sample.Template // lf-string, lf-file: evaluated per request
	Headers     []ReplyHeader
	// Raw is a complete HTTP response sent as is (errorfile FILE);
	// DefaultPage sends the proxy's page for the status (default-errorfiles).
	Raw         []byte
	DefaultPage bool
}

// ReplyHeader is one `hdr NAME FMT`.
type ReplyHeader struct {
	Name  string // lower case, as HAProxy's HTX writes it
	Value *sample.Template
}

// replyOf reads the files and compiles the formats of a return/deny
// payload; it runs at generation Prepare, so check reports what fails.
func replyOf(r *config.HTTPRule) (*Reply, error) {
	in := r.Return
	if in == nil {
		return nil, nil
	}
	o := sample.Options{Where: sample.AtRequest}
	kw := "http-request " + r.Action
	if r.Response {
		o.Where, kw = sample.AtResponse, "http-response "+r.Action
	}
	out := &Reply{ContentType: in.ContentType}
	var text string
	switch in.Kind {
	case "string", "lf-string":
		text = in.Payload
	case "file", "lf-file", "errorfile":
		b, err := os.ReadFile(in.Payload)
		if err != nil {
			return nil, diag.At(r.Pos, kw, "create the file or fix the path", fmt.Errorf("%s %s: %w", in.Kind, in.Payload, err))
		}
		text = string(b)
	case "default-errorfiles":
		out.DefaultPage = true
	}
	switch in.Kind {
	case "string", "file":
		out.Body = []byte(text)
	case "errorfile":
		out.Raw = rawPage([]byte(text))
	case "lf-string", "lf-file":
		t, err := sample.ParseTemplate(text, o)
		if err != nil {
			return nil, diag.At(r.Pos, kw, "see docs/samples.md for the supported names", fmt.Errorf("%s: %w", in.Kind, err))
		}
		out.BodyFormat = t
	}
	for _, h := range in.Headers {
		t, err := sample.ParseTemplate(h.Value, o)
		if err != nil {
			return nil, diag.At(r.Pos, kw, "see docs/samples.md for the supported names", fmt.Errorf("hdr %s: %w", h.Name, err))
		}
		out.Headers = append(out.Headers, ReplyHeader{Name: strings.ToLower(h.Name), Value: t})
	}
	return out, nil
}

// reply answers the request with rule's Reply and logs it; it reports
// whether the connection stays open. term is the termination cause
// (deny: proxy, return: local).
func (s *session) reply(rule *HTTPRule, term byte) bool {
	rp, code := rule.Reply, rule.Status
	s.rec.SetTerm(term, logrec.StateRequest)
	switch {
	case rp.DefaultPage:
		return s.answer(code, nil)
	case rp.Raw != nil:
		// A raw page has its own framing (often none): close after it,
		// as for errorfile pages.
		s.linger = true
		n, sent, _ := s.writeLocal(rp.Raw, code, nil) // afterresp.go
		s.rec.BytesOut += countHTX(n, sent)
		s.finishReply()
		return false
	}
	keep := !s.closeAfter && s.req.RequestBody() == httpx.BodyNone && !s.e.stopping.Load()
	n, sent, err := s.writeLocal(s.replyBytes(rp, code, keep, false), code, nil) // afterresp.go
	s.rec.BytesOut += countHTX(n, sent)
	s.finishReply()
	return keep && err == nil
}

// replyBytes lays out rp's answer in s.out; inResponse evaluates its
// formats with the response's samples (http-response deny/return).
func (s *session) replyBytes(rp *Reply, code int, keep, inResponse bool) []byte {
	ev := ruleEvals.Get().(*ruleEval)
	defer ruleEvals.Put(ev)
	s.evalCtx(&ev.ctx, false)
	defer ev.ctx.Reset()
	// HAProxy 2.6 builds the reply after dropping the server's response:
	// status and res.hdr have no value then (measured).
	ev.ctx.Response = inResponse
	body := rp.Body
	if rp.BodyFormat != nil {
		ev.body, ev.scratch = rp.BodyFormat.Append(ev.body[:0], &ev.ctx, ev.scratch)
		body = ev.body
	}
	o := httpx.AppendStatusLine(s.out[:0], code, replyReason(code))
	for _, h := range rp.Headers {
		mark := len(o)
		o = append(o, h.Name...)
		o = append(o, ": "...)
		n := len(o)
		o, ev.scratch = h.Value.Append(o, &ev.ctx, ev.scratch)
		if len(o) == n {
			o = o[:mark] // HAProxy drops a header whose value is empty
			continue
		}
		o = append(o, "\r\n"...)
	}
	if code != 204 && code != 304 { // HAProxy sends no length with them (measured)
		o = append(o, "content-length: "...)
		o = strconv.AppendInt(o, int64(len(body)), 10)
		o = append(o, "\r\n"...)
	}
	if rp.ContentType != "" {
		o = append(o, "content-type: "...)
		o = append(o, rp.ContentType...)
		o = append(o, "\r\n"...)
	}
	if !keep {
		o = append(o, "connection: close\r\n"...)
	}
	o = append(o, "\r\n"...)
	if !httpx.EqualFold(s.req.Method.Of(s.in), "head") {
		o = append(o, body...)
	}
	s.out = o
	return o
}

// finishReply ends a reply writeLocal sent (and recorded the status of).
func (s *session) finishReply() {
	s.rec.BytesIn = int64(s.req.HeadLen)
	s.consume(s.req.HeadLen)
	s.log(nil, nil)
}

// rawPage rewrites the head of an errorfile the way HAProxy 2.6 sends it
// (it parses the file into HTX and writes it back): header names in lower
// case, lines ending in CRLF. The body is kept as is.
func rawPage(b []byte) []byte {
	head, body, ok := strings.Cut(string(b), "\n\r\n")
	if !ok {
		head, body, ok = strings.Cut(string(b), "\n\n")
	}
	if !ok {
		return b // no complete head: sent as written
	}
	lines := strings.Split(head, "\n")
	var o []byte
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if name, val, ok := strings.Cut(l, ":"); ok && i > 0 {
			l = strings.ToLower(name) + ":" + val
		}
		o = append(append(o, l...), "\r\n"...)
	}
	o = append(o, "\r\n"...)
	return append(o, body...)
}
