package proxy

import (
	"net"
	"syscall"
)

// closeIdle closes a server connection that is idle between two
// exchanges (a full pool, the purge, a private connection whose client
// left) with a reset rather than a FIN, as HAProxy does for server
// connections it closes without a clean shutdown (FD_LINGER_RISK): nothing
// is in flight, and the proxy's side keeps no TIME_WAIT entry, which
// under a new connection per request filled the ephemeral port space
// and made every connect(2) search longer (docs/performance.md). A TLS
// connection closes normally, with its close_notify.
func (u *upConn) closeIdle() {
	switch c := u.c.(type) {
	case *fdConn:
		if !c.closed && !c.detached {
			syscall.SetsockoptLinger(c.fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
		}
	case *net.TCPConn:
		c.SetLinger(0)
	}
	u.c.Close()
}
