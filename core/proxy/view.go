package proxy

import (
	"bytes"
	"crypto/tls"
	"github.com/varde-lb/varde/core/sample"
	"net/netip"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/httpx"
)

// reqView is the session's core.Request: slices into the session's buffer,
// valid while the request is being routed. Its fields are the sanitised
// head (see sanitize): no hop-by-hop field is ever visible through it.
type reqView struct{ s *session }

var _ core.Request = (*reqView)(nil)

// Method and URI are the request line, as rules and scripts rewrote it
// (rewrite.go).
func (v *reqView) Method() []byte {
	if m := v.s.reqE.method; m != nil {
		return m
	}
	return v.s.req.Method.Of(v.s.in)
}

func (v *reqView) URI() []byte {
	if t := v.s.reqE.target; t != nil {
		return t
	}
	return v.s.req.Target.Of(v.s.in)
}

// Path is the target without the query; for an absolute-form target
// (http://host/p) the scheme and authority are skipped, as HAProxy's path.
func (v *reqView) Path() []byte {
	u := v.URI()
	if len(u) == 1 && u[0] == '*' {
		return nil // HAProxy finds no path in "OPTIONS *"
	}
	u = pathQuery(u)
	if i := bytes.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

func (v *reqView) Query() []byte {
	u := v.URI()
	if i := bytes.IndexByte(u, '?'); i >= 0 {
		return u[i+1:]
	}
	return nil
}

// Header, NumHeaders and HeaderAt read the fields as the http-request
// rules so far left them (rewrite_hdr.go).
func (v *reqView) Header(name string) ([]byte, bool) {
	if e := &v.s.reqE; e.on {
		return e.field(name)
	}
	return v.s.req.Field(name)
}

func (v *reqView) NumHeaders() int {
	if e := &v.s.reqE; e.on {
		return len(e.f)
	}
	return len(v.s.req.Fields)
}

func (v *reqView) HeaderAt(i int) (name, value []byte) {
	if e := &v.s.reqE; e.on {
		return e.name(i), e.value(i)
	}
	return v.s.req.Name(i), v.s.req.Value(i)
}
func (v *reqView) Src() netip.AddrPort { return v.s.src }
func (v *reqView) Dst() netip.AddrPort { return v.s.dst }
func (v *reqView) TLS() bool           { return v.s.tls != nil }

// TLSState is the client connection's TLS state (ssl_fc_* fetches).
func (v *reqView) TLSState() *tls.ConnectionState { return v.s.tls }

// NotePolicy and PolicyNote keep the policies' verdict in the log record
// (core.PolicyNoter, the policy.verdict fetch).
func (v *reqView) NotePolicy(verdict string) { v.s.rec.Policy = verdict }
func (v *reqView) PolicyNote() string        { return v.s.rec.Policy }

// tcpView is the core.Request of a `mode tcp` connection: addresses, and
// the client's first bytes while tcp-request content rules inspect them
// (sample.Payloader), so `src`/`dst` and content ACLs work in use_backend
// and HTTP criteria read the bytes as an HTTP/1 request head when they
// are one (tcpHTTP; nothing otherwise).
type tcpView struct {
	src, dst netip.AddrPort
	payload  []byte
	final    bool         // no more bytes will be waited for
	need     bool         // a fetch said its answer may change with more bytes
	st       *scState     // stick counters (stick.go); nil when none
	vars     *sample.Vars // the connection's variables (vars.go); nil before content rules
	// s, when set, lets HTTP fetches parse the payload as an HTTP/1
	// request head (tcpHTTP), as HAProxy does on a TCP stream.
	s *session
	// parsedAt is len(payload) when it was last parsed (0: not yet),
	// isHTTP whether that parse found a whole request head.
	parsedAt int
	isHTTP   bool
}

func (v *tcpView) Payload() ([]byte, bool) { return v.payload, v.final }
func (v *tcpView) NeedMore()               { v.need = true }

// TakeMayChange implements acl.MayChange.
func (v *tcpView) TakeMayChange() bool {
	n := v.need
	v.need = false
	return n
}

var _ core.Request = (*tcpView)(nil)

func (v *tcpView) Method() []byte {
	if r := v.http(); r != nil {
		return r.Method.Of(v.payload)
	}
	return nil
}

func (v *tcpView) URI() []byte {
	if r := v.http(); r != nil {
		return r.Target.Of(v.payload)
	}
	return nil
}

func (v *tcpView) Path() []byte {
	if v.http() == nil {
		return nil
	}
	return (&reqView{s: v.s}).Path()
}

func (v *tcpView) Query() []byte {
	if v.http() == nil {
		return nil
	}
	return (&reqView{s: v.s}).Query()
}

func (v *tcpView) Header(name string) ([]byte, bool) {
	if r := v.http(); r != nil {
		return r.Field(name)
	}
	return nil, false
}

func (v *tcpView) NumHeaders() int {
	if r := v.http(); r != nil {
		return len(r.Fields)
	}
	return 0
}

func (v *tcpView) HeaderAt(i int) (name, value []byte) {
	if r := v.http(); r != nil {
		return r.Name(i), r.Value(i)
	}
	return nil, nil
}

func (v *tcpView) Src() netip.AddrPort { return v.src }
func (v *tcpView) Dst() netip.AddrPort { return v.dst }
func (v *tcpView) TLS() bool           { return false }

// sanitize makes the request head the view every chooser, ACL, rule and
// policy sees, before any of them runs (httputil.ReverseProxy learned the
// same ordering the hard way): the fields that belong to the client
// connection only leave s.req.Fields for s.hop, so s.req.Field, the
// reqView and the forwarded head all agree. Hidden are Connection,
// Keep-Alive, Proxy-Connection, TE, Transfer-Encoding (framing: the
// engine writes it back upstream), Upgrade unless the request is a
// WebSocket upgrade, and every field named in Connection except Host and
// Content-Length, which a Connection token cannot take away from the
// message. Framing was validated by the parser (conflicting
// Content-Length and Transfer-Encoding is a 400 before this runs).
// Compaction is in place: no allocation.
func (s *session) sanitize() {
	r := &s.req
	s.hop = s.hop[:0]
	s.wsUpgrade = r.ConnUpgrade && r.Upgrade && s.upgradeIsWebSocket()
	hide := s.hidden[:0]
	found := false
	for i := range r.Fields {
		h := s.hopField(r.Name(i))
		hide = append(hide, h)
		found = found || h
	}
	s.hidden = hide
	if !found {
		return
	}
	k := 0
	for i, f := range r.Fields {
		if hide[i] {
			s.hop = append(s.hop, f)
			continue
		}
		r.Fields[k] = f
		k++
	}
	r.Fields = r.Fields[:k]
}

// hopField reports whether the field named name leaves the view. It runs
// before compaction (ListedInConnection reads the original positions). The
// length switch keeps the common field to one comparison at most.
func (s *session) hopField(name []byte) bool {
	switch len(name) {
	case 2:
		if httpx.EqualFold(name, "te") {
			return true
		}
	case 4:
		if httpx.EqualFold(name, "host") {
			return false
		}
	case 7:
		if httpx.EqualFold(name, "upgrade") {
			return !s.wsUpgrade
		}
	case 10:
		if httpx.EqualFold(name, "connection") || httpx.EqualFold(name, "keep-alive") {
			return true
		}
	case 14:
		if httpx.EqualFold(name, "content-length") {
			return false
		}
	case 16:
		if httpx.EqualFold(name, "proxy-connection") {
			return true
		}
	case 17:
		if httpx.EqualFold(name, "transfer-encoding") {
			return true
		}
	}
	return s.req.ListedInConnection(name)
}

// upgradeIsWebSocket reports whether an Upgrade field offers websocket.
func (s *session) upgradeIsWebSocket() bool {
	r := &s.req
	for i := range r.Fields {
		if httpx.EqualFold(r.Name(i), "upgrade") && hasToken(r.Value(i), "websocket") {
			return true
		}
	}
	return false
}

// hasToken reports whether the comma list v holds tok (parameters after
// ';' ignored), case-insensitively.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		var item []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			item, v = v, nil
		}
		if i := bytes.IndexByte(item, ';'); i >= 0 {
			item = item[:i]
		}
		if httpx.EqualFold(bytes.TrimSpace(item), tok) {
			return true
		}
	}
	return false
}

// appendHopFields appends what the engine forwards of the hidden fields:
// Transfer-Encoding verbatim (the body is relayed as received), Upgrade
// for a protocol switch that is not a WebSocket one (a WebSocket Upgrade
// stayed in the view), and `TE: trailers` when the client accepts
// trailers, as HAProxy.
func (s *session) appendHopFields(o []byte, upgrade bool) []byte {
	r := &s.req
	trailers := false
	for _, f := range s.hop {
		name, val := f.Name.Of(r.Buf), f.Value.Of(r.Buf)
		switch {
		case httpx.EqualFold(name, "transfer-encoding"):
			o = httpx.AppendField(o, name, val)
		case upgrade && httpx.EqualFold(name, "upgrade"):
			o = httpx.AppendField(o, name, val)
		case httpx.EqualFold(name, "te"):
			trailers = trailers || hasToken(val, "trailers")
		}
	}
	if trailers {
		o = append(o, "TE: trailers\r\n"...)
	}
	return o
}

// http parses the payload as an HTTP/1 request head, as HAProxy's HTTP
// fetches do on a TCP stream (smp_prefetch_htx): a whole head is read
// through; a partial one asks for more bytes (the inspect-delay waits,
// then the fetch finds nothing); bytes that are not HTTP find nothing.
// The head is parsed into the session's request, whose offsets are into
// s.in, which the payload starts. nil: no HTTP request.
func (v *tcpView) http() *httpx.Request {
	if v.s == nil || len(v.payload) == 0 {
		if !v.final {
			v.NeedMore()
		}
		return nil
	}
	if v.parsedAt != len(v.payload) {
		v.parsedAt = len(v.payload)
		err := v.s.req.Parse(v.payload, v.s.e.limits)
		v.isHTTP = err == nil
		if err == httpx.ErrIncomplete && !v.final {
			v.parsedAt = 0 // parse again with more bytes
		}
	}
	if !v.isHTTP {
		if v.parsedAt == 0 {
			v.NeedMore()
		}
		return nil
	}
	return &v.s.req
}
