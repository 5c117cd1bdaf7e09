package proxy

import (
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
)

// How a server is reached when it is not a plain TCP connect to
// its address (core.Via, HAProxy 2.6): a Unix-domain socket (unix@/path,
// /path, abns@name), a `source` address bound before connecting, a
// `socks4` proxy that is asked to connect onwards (the event loop's side is
// dial_via_linux.go). The goroutine lane's
// dial (server.dial) and the health checks use core.Via.Dial instead.

// viaOf is how connections to server s of backend p are opened, nil for
// a plain TCP connect: its Unix socket, its `source` (the server line's,
// else the backend's) and its `socks4` proxy.
func viaOf(p *config.Proxy, s *config.Server) *core.Via {
	v := core.Via{SOCKS4: s.SOCKS4, CheckSOCKS4: s.CheckViaSOCKS4 && s.SOCKS4.IsValid()}
	if s.Address.Unix != "" {
		v.Unix = s.Address.Unix
		if s.Address.Abstract {
			v.Unix = abnsName(s.Address.Unix)
		}
	}
	src := s.Source
	if src == nil {
		src = p.Source
	}
	// 0.0.0.0 without a port is the system's choice: no bind, so a
	// server of either family is reached as without `source`.
	if src != nil && (!src.Addr.Addr().IsUnspecified() || src.Addr.Port() != 0) {
		v.Source = src.Addr
	}
	if src != nil {
		v.Interface = src.Interface
		switch src.UseSrc {
		case "client":
			v.UseSrc = core.UseSrcClient
		case "clientip":
			v.UseSrc = core.UseSrcClientIP
		case "addr":
			v.UseSrc, v.UseAddr = core.UseSrcAddr, src.UseAddr
		}
	}
	if v == (core.Via{}) {
		return nil
	}
	return &v
}

// abnsName is HAProxy's abstract socket address for abns@NAME: the name
// after the leading NUL, padded with NULs to the whole sun_path (HAProxy
// 2.6 connects with the full sockaddr_un length), so varde reaches the
// same socket as HAProxy. '@' is Go's spelling of the leading NUL.
func abnsName(name string) string {
	const sunPath = 108
	b := make([]byte, sunPath)
	b[0] = '@'
	copy(b[1:], name)
	return string(b)
}

// unixNow reports whether connections to s go to its Unix socket now
// (`set server addr` may have given it an IP address since).
func (s *server) unixNow() bool {
	return s.Via.IsUnix() && !s.Address().Addr().IsValid()
}
