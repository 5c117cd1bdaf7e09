package proxy

import (
	"bytes"
	"net/netip"

	"github.com/varde-lb/varde/core"
)

// reqView is the session's core.Request: slices into the session's buffer,
// valid while the request is being routed.
type reqView struct{ s *session }

var _ core.Request = (*reqView)(nil)

func (v *reqView) Method() []byte { return v.s.req.Method.Of(v.s.in) }
func (v *reqView) URI() []byte    { return v.s.req.Target.Of(v.s.in) }

// Path is the target without the query; for an absolute-form target
// (http://host/p) the scheme and authority are skipped, as HAProxy's path.
func (v *reqView) Path() []byte {
	u := v.URI()
	if len(u) > 0 && u[0] != '/' {
		if i := bytes.Index(u, []byte("://")); i >= 0 {
			rest := u[i+3:]
			if j := bytes.IndexByte(rest, '/'); j >= 0 {
				u = rest[j:]
			} else {
				u = rest[len(rest):]
			}
		}
	}
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

func (v *reqView) Header(name string) ([]byte, bool) { return v.s.req.Field(name) }
func (v *reqView) NumHeaders() int                   { return len(v.s.req.Fields) }
func (v *reqView) HeaderAt(i int) (name, value []byte) {
	return v.s.req.Name(i), v.s.req.Value(i)
}
func (v *reqView) Src() netip.AddrPort { return v.s.src }
func (v *reqView) Dst() netip.AddrPort { return v.s.dst }
func (v *reqView) TLS() bool           { return false }

// tcpView is the core.Request of a `mode tcp` connection: addresses only,
// so `src`/`dst` ACLs work in use_backend and HTTP criteria match nothing.
type tcpView struct{ src, dst netip.AddrPort }

var _ core.Request = (*tcpView)(nil)

func (v *tcpView) Method() []byte                    { return nil }
func (v *tcpView) URI() []byte                       { return nil }
func (v *tcpView) Path() []byte                      { return nil }
func (v *tcpView) Query() []byte                     { return nil }
func (v *tcpView) Header(string) ([]byte, bool)      { return nil, false }
func (v *tcpView) NumHeaders() int                   { return 0 }
func (v *tcpView) HeaderAt(int) (name, value []byte) { return nil, nil }
func (v *tcpView) Src() netip.AddrPort               { return v.src }
func (v *tcpView) Dst() netip.AddrPort               { return v.dst }
func (v *tcpView) TLS() bool                         { return false }
