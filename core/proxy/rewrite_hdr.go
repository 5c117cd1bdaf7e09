package proxy

import (
	"strings"

	"github.com/varde-lb/varde/core/httpx"
)

// edits is one message's header fields once a rule changed them. HAProxy
// edits the message in place, so every later rule, ACL and fetch sees the
// change (`set-header X-A 1` then `deny if { req.hdr(x-a) 1 }` denies);
// the engine gets the same meaning by copying the fields, at the first
// edit, into this session-owned list and reading them from here after.
// A transaction without an edit never copies anything; the buffers grow
// once and stay with the pooled session, so a warm edit allocates nothing.
type edits struct {
	on  bool     // the fields live here, not in the parsed head
	buf []byte   // names and values
	f   []efield // the fields in message order
	tmp []byte   // scratch for values being built

	qsort querySorter // normalize-uri query-sort-by-name's spans

	// The request line as rules and scripts rewrote it (nil: as received);
	// slices of line, which only grows within a transaction.
	method, target []byte
	line           []byte

	page []byte // a generated response rebuilt by http-after-response rules
}

// efield is one field: spans of buf, and its index in the received head
// (-1: added by a rule), which the response writer needs to keep hiding
// the hop-by-hop fields the head marked.
type efield struct {
	n0, n1, v0, v1 int32
	orig           int32
}

func (e *edits) reset() {
	e.on = false
	e.buf, e.f = e.buf[:0], e.f[:0]
	e.method, e.target, e.line = nil, nil, e.line[:0]
}

func (e *edits) name(i int) []byte  { f := &e.f[i]; return e.buf[f.n0:f.n1] }
func (e *edits) value(i int) []byte { f := &e.f[i]; return e.buf[f.v0:f.v1] }

// load copies h's fields, once per transaction.
func (e *edits) load(h *httpx.Head) {
	if e.on {
		return
	}
	e.on = true
	for i := range h.Fields {
		e.push(h.Name(i), h.Value(i), int32(i))
	}
}

func (e *edits) push(name, value []byte, orig int32) {
	n0 := int32(len(e.buf))
	e.buf = append(e.buf, name...)
	v0 := int32(len(e.buf))
	e.buf = append(e.buf, value...)
	e.f = append(e.f, efield{n0: n0, n1: v0, v0: v0, v1: int32(len(e.buf)), orig: orig})
}

// add appends a field a rule added.
func (e *edits) add(name string, value []byte) {
	n0 := int32(len(e.buf))
	e.buf = append(e.buf, name...)
	v0 := int32(len(e.buf))
	e.buf = append(e.buf, value...)
	e.f = append(e.f, efield{n0: n0, n1: v0, v0: v0, v1: int32(len(e.buf)), orig: -1})
}

// setValue replaces field i's value. The old bytes stay in buf until the
// transaction ends (a few rewrites per message at most).
func (e *edits) setValue(i int, v []byte) {
	f := &e.f[i]
	f.v0 = int32(len(e.buf))
	e.buf = append(e.buf, v...)
	f.v1 = int32(len(e.buf))
}

// del removes every field whose name m accepts; it reports how many.
func (e *edits) del(m nameMatch) int {
	k := 0
	for i := range e.f {
		if m.match(e.name(i)) {
			continue
		}
		e.f[k] = e.f[i]
		k++
	}
	n := len(e.f) - k
	e.f = e.f[:k]
	return n
}

// field returns the first value of name.
func (e *edits) field(name string) ([]byte, bool) {
	for i := range e.f {
		if httpx.EqualFold(e.name(i), name) {
			return e.value(i), true
		}
	}
	return nil, false
}

// nameMatch is del-header's name test: -m str (the default, case
// insensitive as header names are), beg, end, sub, reg.
type nameMatch struct {
	how  matchHow
	name string
	re   interface{ Match([]byte) bool }
}

type matchHow uint8

const (
	matchStr matchHow = iota
	matchBeg
	matchEnd
	matchSub
	matchReg
)

func (m nameMatch) match(n []byte) bool {
	switch m.how {
	case matchBeg:
		return len(n) >= len(m.name) && httpx.EqualFold(n[:len(m.name)], m.name)
	case matchEnd:
		return len(n) >= len(m.name) && httpx.EqualFold(n[len(n)-len(m.name):], m.name)
	case matchSub:
		return httpx.ContainsFold(n, m.name)
	case matchReg:
		// HAProxy matches the name as HTX keeps it: in lower case.
		var low [128]byte
		if len(n) > len(low) {
			return m.re.Match(httpx.AppendLower(nil, n))
		}
		l := low[:len(n)]
		for i, c := range n {
			l[i] = httpx.ToLower(c)
		}
		return m.re.Match(l)
	}
	return httpx.EqualFold(n, m.name)
}

// msgEdits returns the edits of the request (resp false) or response,
// loaded from the message's head.
func (s *session) msgEdits(resp bool) *edits {
	if resp {
		s.rspE.load(&s.resp.Head)
		return &s.rspE
	}
	s.reqE.load(&s.req.Head)
	return &s.reqE
}

// applyHeaderRule runs set-header, add-header or del-header (name only)
// on the message, evaluating the value now, as HAProxy does.
func (s *session) applyHeaderRule(r *HTTPRule, resp bool) {
	switch r.Action {
	case ActSetHeader, ActAddHeader, ActDelHeader:
	default:
		return
	}
	e := s.msgEdits(resp)
	if r.Action == ActDelHeader {
		e.del(nameMatch{name: r.Name})
		return
	}
	// The value is evaluated before set-header deletes the old fields, so
	// `set-header X-Foo "%[req.hdr(X-Foo)],added"` sees the field it
	// replaces, as in HAProxy. e.tmp is not part of e.buf, so del and add
	// leave it intact.
	v := s.ruleValue(r, resp, e.tmp[:0])
	e.tmp = v
	if !safeValue(v) {
		return // never split a message; see safeValue
	}
	if r.Action == ActSetHeader {
		e.del(nameMatch{name: r.Name})
	}
	e.add(r.Name, v)
	if !resp && strings.EqualFold(r.Name, "host") {
		s.hostChanged(v)
	}
}

// ruleValue appends r's value evaluated for this message to dst.
func (s *session) ruleValue(r *HTTPRule, resp bool, dst []byte) []byte {
	if r.value == nil || !r.value.Dynamic() {
		return append(dst, r.Value...)
	}
	return s.evalFmt(r.value, resp, dst)
}

// safeValue refuses a value with a line break or NUL: a sample (a request
// header, a query argument) could otherwise inject a field or a second
// message upstream. HAProxy's HTX would carry such bytes; varde drops the
// edit instead.
func safeValue(v []byte) bool {
	for _, c := range v {
		if c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}
