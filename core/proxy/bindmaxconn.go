package proxy

import (
	"errors"
	"net"
	"sync"
	"syscall"
)

// `bind ... maxconn N`: HAProxy stops accepting on a listener that holds N
// connections (it pauses the listener) and resumes when one of them ends;
// clients beyond N wait in the kernel's backlog meanwhile. varde takes a
// slot of the listener's semaphore before each Accept, as it does for the
// frontend's and the global maxconn, and gives it back when the accepted
// connection is closed. Such a listener is served by an accept goroutine
// (not the event loops' accept), and its connections by goroutines.

// limitListener gives the listener of Binds[i] its semaphore when the bind
// line has a maxconn.
func (f *Frontend) limitListener(l net.Listener, i int) {
	if i >= len(f.cfg.BindMaxConn) || f.cfg.BindMaxConn[i] <= 0 {
		return
	}
	if f.lslots == nil {
		f.lslots = map[net.Listener]chan struct{}{}
	}
	f.lslots[l] = make(chan struct{}, f.cfg.BindMaxConn[i])
}

// acquireListener takes a slot of ls (nil: no limit); false when the
// engine stops while waiting.
func (e *Engine) acquireListener(ls chan struct{}) bool {
	if ls == nil {
		return true
	}
	select {
	case ls <- struct{}{}:
		return true
	case <-e.stopCh:
		return false
	}
}

func releaseListener(ls chan struct{}) {
	if ls != nil {
		<-ls
	}
}

// limitedConn gives its listener slot back on its first Close.
type limitedConn struct {
	net.Conn
	once sync.Once
	ls   chan struct{}
}

// limitConn wraps c so that closing it releases its slot of ls (nil: c).
func limitConn(c net.Conn, ls chan struct{}) net.Conn {
	if ls == nil {
		return c
	}
	return &limitedConn{Conn: c, ls: ls}
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.ls })
	return err
}

// SyscallConn keeps what needs the socket working (accept-proxy peeks at
// it).
func (c *limitedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("proxy: not a socket")
}

// Listeners describes the frontend's listeners as `NAME=ADDR` (`bind ...
// name NAME`) or `ADDR` when the bind line names none, in bind order: the
// start-up log lists them so.
func (f *Frontend) Listeners() []string {
	out := make([]string, len(f.listeners))
	for i, l := range f.listeners {
		out[i] = l.Addr().String()
		if i < len(f.cfg.Binds) && i < len(f.cfg.BindNames) && f.cfg.BindNames[i] != "" {
			out[i] = f.cfg.BindNames[i] + "=" + out[i]
		}
	}
	return out
}
