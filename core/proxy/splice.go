package proxy

// Splicing policy (the transfer itself is splice_linux.go).

import (
	"sync/atomic"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/stats"
)

// SpliceSet is what one frontend or backend says about splicing, from
// HAProxy's `option splice-request`, `option splice-response` and
// `option splice-auto` (both directions), each possibly negated with `no`.
type SpliceSet struct {
	Request, Response tri
}

// tri is an option's state in one section: unset, on or off (negated).
type tri uint8

const (
	triUnset tri = iota
	triOn
	triOff
)

// spliceable reports whether this transaction's body in one direction
// (request: client to server) may move through a kernel pipe rather than
// user space. varde splices by default (measured faster from 16 KiB, see
// docs/performance.md); `no option splice-*` in the frontend or the
// backend (unless the other enables it), or global `nosplice`, keeps that
// direction in user space.
//
// A body that must be read to be changed never splices: a hook that
// transforms the response body (compression) adds its check here.
func (s *session) spliceable(request bool) bool {
	sp := s.spliceDirs(s.x.b)
	if request {
		return sp.request
	}
	// A body being compressed must pass through the compressor
	// (compress.go), never around it.
	return sp.response && !s.transformsResponseBody() && !s.cacheStoring()
}

// spliceDirs is what the configuration allows with backend b: HTTP bodies,
// WebSocket tunnels and mode tcp connections all follow it.
func (s *session) spliceDirs(b *Backend) spliceDirs {
	if s.e.cfg.NoSplice || b == nil {
		return spliceDirs{}
	}
	fe, be := &s.f.cfg.Splice, &b.cfg.Splice
	return spliceDirs{
		request:  spliceOn(fe.Request, be.Request),
		response: spliceOn(fe.Response, be.Response),
		count:    &s.e.SplicedBytes,
	}
}

// spliceOn combines the frontend's and the backend's word on one
// direction: either enabling it enables it (HAProxy ORs the two
// proxies' options); else a `no option` on either side disables it; else
// varde's default, on.
func spliceOn(fe, be tri) bool {
	if fe == triOn || be == triOn {
		return true
	}
	return fe != triOff && be != triOff
}

// spliceDirs says which directions may splice: request is client to
// server, response server to client.
type spliceDirs struct {
	request, response bool
	count             *atomic.Uint64 // the engine's SplicedBytes
}

// spliceSetOf reads a section's option splice-* lines (defaults already
// merged in: a section's own `no option` overrides what it inherited).
// splice-auto counts for both directions; a direction's own option wins
// over splice-auto when both are written.
func spliceSetOf(p *config.Proxy) SpliceSet {
	state := func(name string) tri {
		o := p.Options[name]
		switch {
		case o == nil:
			return triUnset
		case o.Negated:
			return triOff
		}
		return triOn
	}
	auto := state("splice-auto")
	dir := func(name string) tri {
		if t := state(name); t != triUnset {
			return t
		}
		return auto
	}
	return SpliceSet{Request: dir("splice-request"), Response: dir("splice-response")}
}

// spliceExtras exports the spliced byte count (HAProxy's
// haproxy_process_spliced_bytes_out_total reads it).
func (e *Engine) spliceExtras() []stats.Extra {
	return []stats.Extra{{Subsystem: "proxy", Name: "spliced_bytes_total", Help: "Body and tunnel bytes moved through kernel pipes (splice).", Counter: true, Value: float64(e.SplicedBytes.Load())}}
}
