// Package acltest provides a small in-memory core.Request for tests of ACLs,
// routing rules and hash-based balancers, so they need not start the engine.
package acltest

import (
	"bytes"
	"net/netip"
	"strings"

	"github.com/varde-lb/varde/core"
)

// Request is a core.Request built from literal values. It allocates only
// when built, never when read, so zero-allocation assertions hold.
type Request struct {
	M, U     []byte
	Names    [][]byte
	Values   [][]byte
	SrcAddr  netip.AddrPort
	DstAddr  netip.AddrPort
	IsTLS    bool
	pathEnd  int
	hasQuery bool
}

var _ core.Request = (*Request)(nil)

// New builds a request from a method, a request target and "Name: value"
// header lines.
func New(method, uri string, headers ...string) *Request {
	r := &Request{M: []byte(method)}
	r.SetURI(uri)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		r.Names = append(r.Names, []byte(strings.TrimSpace(name)))
		r.Values = append(r.Values, []byte(strings.TrimSpace(value)))
	}
	r.SrcAddr = netip.MustParseAddrPort("192.0.2.1:40000")
	r.DstAddr = netip.MustParseAddrPort("127.0.0.1:80")
	return r
}

// SetURI replaces the request target.
func (r *Request) SetURI(uri string) {
	r.U = []byte(uri)
	r.pathEnd = len(r.U)
	r.hasQuery = false
	if i := bytes.IndexByte(r.U, '?'); i >= 0 {
		r.pathEnd, r.hasQuery = i, true
	}
}

// WithSrc sets the client address and returns r.
func (r *Request) WithSrc(addr string) *Request {
	r.SrcAddr = netip.MustParseAddrPort(addr)
	return r
}

func (r *Request) Method() []byte { return r.M }
func (r *Request) URI() []byte    { return r.U }

// Path follows HAProxy's http_get_path: for an absolute URI the scheme and
// authority are skipped.
func (r *Request) Path() []byte {
	p := r.U[:r.pathEnd]
	if len(p) > 0 && p[0] != '/' && p[0] != '*' {
		if i := bytes.Index(p, []byte("://")); i >= 0 {
			rest := p[i+3:]
			if j := bytes.IndexByte(rest, '/'); j >= 0 {
				return rest[j:]
			}
			return rest[len(rest):]
		}
	}
	return p
}

func (r *Request) Query() []byte {
	if !r.hasQuery {
		return nil
	}
	return r.U[r.pathEnd+1:]
}

func (r *Request) Header(name string) ([]byte, bool) {
	for i, n := range r.Names {
		if equalFold(n, name) {
			return r.Values[i], true
		}
	}
	return nil, false
}

func (r *Request) NumHeaders() int { return len(r.Names) }
func (r *Request) HeaderAt(i int) (name, value []byte) {
	return r.Names[i], r.Values[i]
}
func (r *Request) Src() netip.AddrPort { return r.SrcAddr }
func (r *Request) Dst() netip.AddrPort { return r.DstAddr }
func (r *Request) TLS() bool           { return r.IsTLS }

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
