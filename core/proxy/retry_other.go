//go:build !linux

package proxy

import "net"

// alive: without the event loops' peek, a dead pooled connection is found
// when the request fails, and the request is replayed (failStale).
func (u *upConn) alive() bool { return true }

// peerClosed: option abortonclose needs the Linux peek.
func peerClosed(c net.Conn) bool { return false }
