package proxy

import (
	"fmt"
	"net/netip"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/sample"
)

// http-request set-src, set-src-port, set-dst, set-dst-port, as HAProxy
// 2.6: they rewrite the stream's addresses, which every later rule, ACL,
// stick counter, X-Forwarded-For and the log line (%ci, %cp, %fi, %fp)
// then see, for this transaction only: the next request of a keep-alive
// connection starts from the connection's addresses again (measured
// against 2.6). A value that is not an address (or a number, for the
// ports) changes nothing.

func init() {
	registerActor(buildSetAddr, "set-src", "set-src-port", "set-dst", "set-dst-port")
}

type setAddrActor struct {
	dst, port bool
	expr      *sample.Expr
}

func buildSetAddr(r *config.HTTPRule) (Actor, error) {
	e, err := sample.Parse(r.Value, sample.Options{Where: sample.AtRequest})
	if err != nil {
		return nil, err
	}
	a := actionBase(r.Action)
	return &setAddrActor{dst: a == "set-dst" || a == "set-dst-port", port: a == "set-src-port" || a == "set-dst-port", expr: e}, nil
}

// value evaluates the expression in ev's context (filled by the caller:
// HTTP session or TCP view, tcpl4.go) as an address, or an integer for
// the port actions, and puts ev back in its pool. false: no value or one
// of the wrong kind.
func (a *setAddrActor) value(ev *ruleEval) (sample.Value, bool) {
	v, scratch, ok := a.expr.Eval(&ev.ctx, ev.scratch[:0])
	want := sample.TypeAddr
	if a.port {
		want = sample.TypeInt
	}
	if ok {
		scratch, ok = sample.Cast(&v, want, scratch)
	}
	ev.scratch = scratch
	ev.ctx.Reset()
	ruleEvals.Put(ev)
	return v, ok
}

func (a *setAddrActor) Do(s *session, resp bool) Verdict {
	ev := ruleEvals.Get().(*ruleEval)
	s.evalCtx(&ev.ctx, resp)
	v, ok := a.value(ev)
	if !ok {
		return Verdict{}
	}
	s.addrs.save(s)
	at := &s.src
	if a.dst {
		at = &s.dst
	}
	*at = a.rewrite(*at, v)
	s.rec.Client, s.rec.FrontendAddr = s.src, s.dst
	return Verdict{}
}

// rewrite keeps the port with a new address, the address with a new port
// (0.0.0.0 when there was none, as HAProxy forces IPv4 then).
func (a *setAddrActor) rewrite(old netip.AddrPort, v sample.Value) netip.AddrPort {
	if a.port {
		addr := old.Addr()
		if !addr.IsValid() {
			addr = netip.IPv4Unspecified()
		}
		return netip.AddrPortFrom(addr, uint16(v.Int))
	}
	return netip.AddrPortFrom(v.Addr.Unmap(), old.Port())
}

// addrSave keeps the connection's addresses while a transaction rewrote
// them.
type addrSave struct {
	src, dst netip.AddrPort
	set      bool
}

func (a *addrSave) save(s *session) {
	if !a.set {
		a.src, a.dst, a.set = s.src, s.dst, true
	}
}

func (a *addrSave) restore(s *session) {
	if a.set {
		s.src, s.dst, a.set = a.src, a.dst, false
	}
}

// originalToOf reads option originalto (nil when off).
func originalToOf(p *config.Proxy) (*ForwardFor, error) {
	o := p.Option("originalto")
	if o == nil || o.OriginalTo == nil {
		return nil, nil
	}
	ot := &ForwardFor{Header: o.OriginalTo.Header}
	if ex := o.OriginalTo.Except; ex != "" {
		pfx, err := netip.ParsePrefix(ex)
		if err != nil {
			a, aerr := netip.ParseAddr(ex)
			if aerr != nil {
				return nil, fmt.Errorf("proxy %s: option originalto except %q: %w", p.Name, ex, err)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		ot.Except = pfx.Masked()
	}
	return ot, nil
}

// appendOriginalTo adds X-Original-To (option originalto of the frontend
// or the backend) with the transaction's destination address, after
// X-Forwarded-For as HAProxy 2.6: the backend's header name wins, and a
// destination in either side's except network gets none.
func (s *session) appendOriginalTo(o []byte, b *Backend) []byte {
	fe, be := s.f.cfg.OriginalTo, b.cfg.OriginalTo
	if fe == nil && be == nil {
		return o
	}
	dst := s.dst.Addr().Unmap()
	if !dst.IsValid() {
		return o
	}
	name := ""
	for _, ot := range [2]*ForwardFor{be, fe} {
		if ot == nil {
			continue
		}
		if ot.Except.IsValid() && ot.Except.Contains(dst) {
			return o
		}
		if name == "" {
			name = ot.Header
		}
	}
	o = append(o, name...)
	o = append(o, ':', ' ')
	o = dst.AppendTo(o)
	return append(o, '\r', '\n')
}
