//go:build !linux

package proxy

import (
	"net"
	"net/netip"
	"time"
)

// Off Linux there are no event loops: every HTTP session has a goroutine.
type loop struct{}

func (e *Engine) startLoops() error                                  { return nil }
func (e *Engine) handoff(*Frontend, net.Conn, bool) bool             { return false }
func (e *Engine) loopParked() int                                    { return 0 }
func (e *Engine) closeLoopParked()                                   {}
func (e *Engine) shutdownLoopSessions(*server) int                   { return 0 }
func (e *Engine) stopLoops()                                         {}
func (e *Engine) loopAccepts(*Frontend, net.Listener) bool           { return false }
func (e *Engine) startLoopAccept(*Frontend, net.Listener, bool) bool { return false }
func (e *Engine) stopLoopAccept()                                    {}
func parkInLoop(*parked) bool                                        { return false }
func laneOf(net.Conn) int                                            { return 0 }
func offloadFor(_ net.Conn, fn func())                               { fn() }
func closeFromOutside(c net.Conn)                                    { c.Close() }
func pauseFor(net.Conn, *int64, int64)                               {}
func wakeIdleFromOutside(c net.Conn)                                 { c.SetReadDeadline(time.Now()) }
func toNetConn(c net.Conn) (net.Conn, error)                         { return c, nil }
func isLoopConn(net.Conn) bool                                       { return false }
func dialFor(_ net.Conn, srv *server, dst, src netip.AddrPort, timeout time.Duration) (*upConn, error) {
	return srv.dial(dst, src, timeout)
}

type loopListener struct{}
