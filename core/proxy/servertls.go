package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/core/tlsx"
)

// TLS to servers (`server ... ssl`): the handshake after the TCP connect,
// the per-connection SNI, and pooled TLS connections. docs/tls-servers.md.

// tlsTransport is the socket under a TLS connection. The indirection lets
// a tunnel move the socket from an event loop to Go's netpoller while the
// TLS session stays the same (upConn.detach).
type tlsTransport struct{ net.Conn }

// dialServer is the one place a session opens a connection to a server:
// the TCP connect on the session's lane, then, when the server line has
// ssl, the TLS handshake, both within timeout connect. A failed handshake
// is a connection error like a refused connect (retried, redispatched,
// logged SC or sC).
func (s *session) dialServer(srv *server, timeout time.Duration, sni string) (*upConn, error) {
	if srv.tls == nil {
		return s.dialPlain(srv, timeout)
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	deadline := time.Now().Add(timeout)
	u, err := s.dialPlain(srv, timeout)
	if err != nil {
		return nil, err
	}
	if err := u.startTLS(srv.tls.Config(sni), deadline); err != nil {
		return nil, err
	}
	u.sni = sni
	return u, nil
}

// startTLS runs the client handshake over u's socket; on failure the
// socket is closed.
func (u *upConn) startTLS(cfg *tls.Config, deadline time.Time) error {
	t := &tlsTransport{Conn: u.c}
	tc := tls.Client(t, cfg)
	tc.SetDeadline(deadline)
	if err := tc.Handshake(); err != nil {
		t.Conn.Close()
		return fmt.Errorf("tls handshake with %s: %w", u.s.Address(), err)
	}
	tc.SetDeadline(time.Time{})
	u.c, u.tls = tc, t
	return nil
}

// raw is the socket under up: closing it from outside the session never
// blocks on the TLS layer's locks.
func (u *upConn) raw() net.Conn {
	if u.tls != nil {
		return u.tls.Conn
	}
	return u.c
}

// detach moves up's socket to Go's netpoller (tunnels) and returns the
// connection to use from goroutines; a TLS session keeps running over the
// moved socket.
func (u *upConn) detach() (net.Conn, error) {
	if u.tls == nil {
		return toNetConn(u.c)
	}
	nc, err := toNetConn(u.tls.Conn)
	if err != nil {
		return nil, err
	}
	u.tls.Conn = nc
	return u.c, nil
}

// getIdleFor takes an idle connection opened with the same SNI: a TLS
// connection belongs to the name it was opened for (HAProxy keys idle
// connections by it too).
func (s *server) getIdleFor(ln int, sni string) *upConn {
	if s.sni == nil {
		return s.getIdle(ln)
	}
	l := s.lock(ln)
	defer s.unlock(ln)
	for i := len(l.idle) - 1; i >= 0; i-- {
		if u := l.idle[i]; u.sni == sni {
			copy(l.idle[i:], l.idle[i+1:])
			l.idle[len(l.idle)-1] = nil
			l.idle = l.idle[:len(l.idle)-1]
			if s.staleAddr(u) {
				return nil // dialled before `set server addr`: dial anew
			}
			s.Meters.Reuse.Add(1)
			return u
		}
	}
	return nil
}

// serverSNI evaluates the server's sni expression for this session; ""
// (no SNI sent) when it has none, yields nothing, or in mode tcp reads
// what only a request has.
func (s *session) serverSNI(srv *server) string {
	if srv.sni == nil {
		return ""
	}
	ev := ruleEvals.Get().(*ruleEval)
	defer ruleEvals.Put(ev)
	if s.rec.Mode == logrec.ModeTCP {
		ev.ctx.Reset()
		ev.ctx.Src, ev.ctx.Dst, ev.ctx.Frontend = s.src, s.dst, s.rec.Frontend
	} else {
		s.evalCtx(&ev.ctx, false)
	}
	out, scr, ok := srv.sni.AppendTo(nil, &ev.ctx, ev.scratch[:0])
	ev.scratch = scr[:0]
	ev.ctx.Reset()
	if !ok {
		return ""
	}
	return string(out)
}

// ServerTLS builds the TLS client of a server line and its per-connection
// SNI expression; nil, nil when the server speaks cleartext. Errors point
// at the server line.
func ServerTLS(s *config.Server) (*tlsx.Client, *sample.Expr, error) {
	if !s.UsesTLS() {
		return nil, nil, nil
	}
	spec := tlsSpec(s)
	var sni *sample.Expr
	if s.SNI != "" {
		e, err := sample.Parse(s.SNI, sample.Options{Where: sample.AtRequest, Place: "in server sni"})
		if err != nil {
			return nil, nil, diag.At(s.Pos, "server sni", "", err)
		}
		if e.FetchName() == "str" && !e.HasConverters() {
			spec.ServerName = e.FetchArg(0) // a constant: no per-connection work
		} else {
			sni = e
		}
	}
	c, err := tlsx.NewClient(spec)
	if err != nil {
		return nil, nil, tlsError(s, "server ssl", err)
	}
	return c, sni, nil
}

// CheckTLS is the TLS client health checks of s use (nil: cleartext):
// check-ssl, or ssl unless a check port or address is set; check-sni and
// check-alpn replace sni and alpn.
func CheckTLS(s *config.Server) (*tls.Config, error) {
	if !s.ChecksUseTLS() {
		return nil, nil
	}
	spec := tlsSpec(s)
	spec.ServerName = s.CheckSNI
	if s.CheckALPN != "" {
		spec.ALPN = s.CheckALPN
	}
	spec.NoReuse = true
	c, err := tlsx.NewClient(spec)
	if err != nil {
		return nil, tlsError(s, "server check-ssl", err)
	}
	return c.Config(""), nil
}

// tlsError points a TLS setting error at the server line, under the
// keyword of the setting at fault.
func tlsError(s *config.Server, kw string, err error) error {
	hint := ""
	var se *tlsx.SettingError
	if errors.As(err, &se) {
		kw = "server " + se.Setting
		err = se.Err
		hint = tlsHints[se.Setting]
	}
	return diag.At(s.Pos, kw, hint, fmt.Errorf("server %s: %w", s.Name, err))
}

var tlsHints = map[string]string{
	"ca-file":     "a PEM file of trusted certificates; a relative path is under ca-base",
	"crl-file":    "a PEM file of CRLs; a relative path is under ca-base",
	"crt":         "a PEM file with the certificate and its key (or the key in FILE.key); a relative path is under crt-base",
	"ciphers":     "on the server line or in ssl-default-server-ciphers; see docs/tls-servers.md",
	"ssl-min-ver": "ssl-min-ver/ssl-max-ver on the server line or in ssl-default-server-options",
}

func tlsSpec(s *config.Server) tlsx.ClientSpec {
	return tlsx.ClientSpec{
		Verify: s.VerifyRequired(), CAFile: s.CAFile, CRLFile: s.CRLFile, CertFile: s.Crt,
		VerifyHost: s.VerifyHost, ALPN: s.ALPN, MinVer: s.SSLMinVer, MaxVer: s.SSLMaxVer,
		Disabled: s.DefaultTLSOptions, Ciphers: s.Ciphers, NoReuse: s.NoSSLReuse,
	}
}
