package proxy

import (
	"fmt"
	"time"

	"github.com/varde-lb/varde/core/proxyproto"
)

// dialPlain opens a new TCP connection to srv in the client's lane (for
// dialServer, the one place a server connection starts). For a send-proxy
// server it first writes the PROXY header naming this session's client and
// destination (after any accept-proxy), right after the TCP connect and
// before anything else: dialServer's TLS handshake comes after it.
//
// Such a connection names one client, so it is private, as in HAProxy: the
// client that opened it reuses it for its next requests, but it is closed
// instead of pooled when that client leaves, and never serves another one.
func (s *session) dialPlain(srv *server, timeout time.Duration) (*upConn, error) {
	u, err := dialFor(s.conn, srv, s.dst, s.src, timeout)
	if err != nil {
		return u, err
	}
	if srv.mapped() || srv.Via.ClientBound() {
		// its destination (resolve_addr.go) or its source (usesrc,
		// dial_via.go) was this client's
		u.private = true
	}
	if srv.SendProxy == 0 {
		return u, nil
	}
	if err := writeProxyHeader(u, srv.SendProxy, s, timeout); err != nil {
		u.c.Close()
		return nil, err
	}
	u.private = true
	return u, nil
}

// writeProxyHeader writes a version v header for s's addresses on u.
func writeProxyHeader(u *upConn, v uint8, s *session, timeout time.Duration) error {
	var a [108]byte // the longest v1 line (TCP6), more than any v2 header written here
	b := a[:0]
	if v == 2 {
		b = proxyproto.AppendV2(b, s.src, s.dst, nil)
	} else {
		b = proxyproto.AppendV1(b, s.src, s.dst)
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	u.c.SetWriteDeadline(time.Now().Add(timeout))
	_, err := u.c.Write(b)
	u.c.SetWriteDeadline(time.Time{})
	if err != nil {
		return fmt.Errorf("proxy: server %s: sending the PROXY header: %w", u.s.Name, err)
	}
	return nil
}
