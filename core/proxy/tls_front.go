package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/proxyproto"
	"github.com/varde-lb/varde/core/tlsx"
)

// Frontend TLS termination: a bind with `ssl` hands each accepted
// connection to serveTLS (one call site in acceptLoop, after anything that
// reads the raw socket first, such as a PROXY header), which runs the
// handshake under timeout client on the connection's goroutine, then
// serves the negotiated protocol. Handshake failures are counted
// (Frontend.SSLFailures) and logged at debug level only: a scan must not
// flood the log.

// bindTLS builds the TLS side of every `ssl` bind line of p into fc,
// loading certificates through reg. Errors are located at the bind line.
func bindTLS(c *config.Config, p *config.Proxy, fc *FrontendConfig, reg *tlsx.Registry) []error {
	var errs []error
	for _, b := range p.Binds {
		if !b.SSL {
			continue
		}
		tb, err := reg.Build(tlsOptions(&c.Global, b))
		if err == nil {
			err = checkALPN(fc.Mode, tb)
		}
		if err != nil {
			errs = append(errs, diag.At(b.Pos, "bind", tlsHint(err), err))
			continue
		}
		if fc.TLS == nil {
			fc.TLS = map[string]*tlsx.Bind{}
		}
		for _, addr := range bindAddrs(b) {
			fc.TLS[addr] = tb
		}
	}
	return errs
}

func tlsHint(err error) string {
	var ce *tlsx.CipherError
	switch {
	case errors.As(err, &ce):
		return "use ciphers Go implements (docs/tls.md)"
	case strings.HasPrefix(err.Error(), "alpn "):
		return "alpn h2,http/1.1"
	}
	return "check the file paths, that varde can read them, and that each certificate file holds its key (docs/tls.md)"
}

// httpProtoServed reports whether an HTTP frontend can serve an ALPN
// protocol.
func httpProtoServed(p string) bool { return p == "h2" || p == "http/1.1" || p == "http/1.0" }

// checkALPN refuses to advertise, on an HTTP frontend, a protocol varde
// does not serve: the client would speak it and get garbage.
func checkALPN(m Mode, tb *tlsx.Bind) error {
	if m != ModeHTTP {
		return nil
	}
	for _, p := range tb.AllALPN() {
		if !httpProtoServed(p) {
			return fmt.Errorf("alpn %s: an HTTP frontend serves h2, http/1.1 and http/1.0 only: varde would advertise a protocol it does not speak", p)
		}
	}
	return nil
}

// tlsOptions merges a bind line with the global defaults.
func tlsOptions(g *config.Global, b *config.Bind) *tlsx.Options {
	o := &tlsx.Options{
		Ciphers: g.SSLDefaultBindCiphers, CipherSuites: g.SSLDefaultBindCiphersuites,
		Verify: b.Verify, StrictSNI: b.StrictSNI || slices.Contains(g.SSLDefaultBindOptions, "strict-sni"),
		NoTickets: b.NoTLSTickets || slices.Contains(g.SSLDefaultBindOptions, "no-tls-tickets"),
		CrtBase:   g.CRTBase, CABase: g.CABase,
		CAFile: base(g.CABase, b.CA), CRLFile: base(g.CABase, b.CRLFile),
	}
	o.Versions = config.TLSVersionsOf(b.TLSVersions).Merge(config.TLSVersionsOf(g.SSLDefaultBindOptions))
	if b.Ciphers != "" {
		o.Ciphers = b.Ciphers
	}
	if b.CipherSuites != "" {
		o.CipherSuites = b.CipherSuites
	}
	o.Curves = b.Curves
	if b.ALPN != "" {
		o.ALPN = strings.Split(b.ALPN, ",")
	}
	for _, c := range b.Crts {
		o.Crts = append(o.Crts, base(g.CRTBase, c))
	}
	for _, c := range b.CrtLists {
		o.CrtLists = append(o.CrtLists, base(g.CRTBase, c))
	}
	return o
}

func base(dir, p string) string {
	if dir == "" || p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// bindAddrs are the engine's listen addresses of one bind line, port
// ranges expanded: FrontendConfig.Binds, and the keys of its TLS map.
func bindAddrs(b *config.Bind) []string {
	if b.FD != "" {
		return []string{"fd@" + b.FD} // listen.Inventory serves it
	}
	var out []string
	for _, a := range b.Addrs {
		host := ""
		switch {
		case a.Wildcard:
			// HAProxy's `:80`, `*:80` and `0.0.0.0:80` listen on IPv4
			// only, `:::80` on IPv6 (and IPv4 unless v6only): the wildcard
			// keeps its family (listen.Inventory binds IPv4 with tcp4), so
			// an IPv6 client never reaches a frontend whose rules, ACLs
			// and `type ip` stick tables were written for IPv4.
			host = a.Addr.Addr().String()
		case a.Addr.IsValid():
			host = a.Addr.Addr().String()
		default:
			host = a.Host
		}
		for port := int(a.Port); port <= max(int(a.Port), int(a.PortEnd)); port++ {
			out = append(out, net.JoinHostPort(host, fmt.Sprint(port)))
		}
	}
	return out
}

// TLSRegistry is the engine's certificate registry (the admin socket's
// set/commit ssl cert), nil without TLS binds.
func (e *Engine) TLSRegistry() *tlsx.Registry { return e.cfg.TLS }

func (e *Engine) startTLS() {
	if e.cfg.TLS != nil {
		e.cfg.TLS.StartTickets()
	}
}

func (e *Engine) stopTLS() {
	if e.cfg.TLS != nil {
		e.cfg.TLS.StopTickets()
	}
}

// listenTLS records which listener terminates TLS.
func (f *Frontend) listenTLS(l net.Listener, addr string) {
	tb := f.cfg.TLS[addr]
	if tb == nil {
		return
	}
	if f.tls == nil {
		f.tls = map[net.Listener]*tlsx.Bind{}
	}
	f.tls[l] = tb
}

// serveTLS admits the connection (tcp-request connection rules, then the
// PROXY header of an accept-proxy bind: both come before the handshake),
// runs the handshake, then serves the connection by mode.
func (e *Engine) serveTLS(f *Frontend, c net.Conn, tb *tlsx.Bind, pp bool) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	e.track(c) // from here on, a stop past its grace closes it
	a := admission{pp: pp, done: true, src: addrPort(c.RemoteAddr()), dst: addrPort(c.LocalAddr())}
	if (pp || f.hasL4Rules()) && !f.admit(c, make([]byte, proxyproto.MaxV2Len), pp, &a.src, &a.dst) {
		e.untrack(c)
		c.Close()
		e.release(f)
		e.wg.Done()
		return
	}
	tc := tls.Server(c, tb.Config())
	start := time.Now()
	c.SetDeadline(after(f.cfg.Timeouts.Client)) // HAProxy's handshake timeout: none when unset
	err := tc.Handshake()
	e.untrack(c)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			// A connection closed before its ClientHello (a TCP
			// health check, a port probe) is not a failed handshake.
			f.SSLFailures.Add(1)
		} else {
			f.SSLClosed.Add(1)
		}
		e.log.Debug("TLS handshake failed", "frontend", f.Name, "client", c.RemoteAddr().String(), "err", err)
		f.closeConnCounters(c)
		c.Close()
		e.release(f)
		e.wg.Done()
		return
	}
	c.SetDeadline(time.Time{})
	cs := tc.ConnectionState()
	if cs.DidResume {
		f.SSLReused.Add(1)
	} else {
		f.SSLSessions.Add(1)
	}
	a.tls, a.accept, a.th = &cs, start, ms(time.Since(start))
	if f.cfg.Mode == ModeTCP {
		e.serveTCP(f, tc, a)
		return
	}
	e.serveNegotiated(f, tc, cs.NegotiatedProtocol, a)
}

// track registers a connection that is not yet a session (a PROXY header
// or a TLS handshake pending), so that a stop past its grace closes it;
// untrack forgets it.
func (e *Engine) track(c net.Conn) {
	e.mu.Lock()
	e.tconns[c] = struct{}{}
	e.mu.Unlock()
}

func (e *Engine) untrack(c net.Conn) {
	e.mu.Lock()
	delete(e.tconns, c)
	e.mu.Unlock()
}

// serveNegotiated serves a TLS connection once its handshake is done, by
// the ALPN protocol agreed ("" when none): HTTP/2 for "h2", HTTP/1.x
// otherwise. a holds the addresses admit settled before the handshake and
// the handshake's state and timing.
func (e *Engine) serveNegotiated(f *Frontend, c net.Conn, proto string, a admission) {
	if proto == "h2" {
		e.serveH2(f, c, a)
		return
	}
	f.connOpen()
	e.actconn.Add(1)
	e.runHTTP(&parked{f: f, c: c, accept: a.accept, th: a.th, tls: a.tls, src: a.src, dst: a.dst, admitted: true})
}

// noteTLS notes a TLS client connection's version and cipher in a log
// record (%sslv, %sslc, the "~" of %ft); nothing in cleartext.
func noteTLS(rec *logrec.Record, cs *tls.ConnectionState) {
	if cs != nil {
		rec.TLS, rec.TLSVersion, rec.TLSCipher = true, cs.Version, cs.CipherSuite
	}
}

// addTLS builds the frontend's TLS binds, creating the engine's registry
// with the first one.
func addTLS(out *Config, c *config.Config, p *config.Proxy, fc *FrontendConfig) []error {
	if !slices.ContainsFunc(p.Binds, func(b *config.Bind) bool { return b.SSL }) {
		return nil
	}
	if out.TLS == nil {
		out.TLS = tlsx.NewRegistry()
	}
	return bindTLS(c, p, fc, out.TLS)
}
