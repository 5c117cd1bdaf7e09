// Package listen keeps the listening sockets of one varde process so that
// they outlive the generation that opened them.
//
// A reload builds a second generation beside the running one; a binary
// upgrade starts a second process beside the running one. In both, a bind
// that stays must keep its socket: closing and reopening it would refuse
// the connections that arrive in between, and the kernel's backlog of
// accepted-but-unserved connections would be lost. So every listener is
// opened through an Inventory. A generation that ends Offers its sockets
// back (the inventory keeps a duplicate of the descriptor, so the old
// generation may close its own copy whenever it likes); the next
// generation's Listen takes a kept socket for the same address instead of
// binding a new one. Sockets nobody claimed are closed by CloseUnclaimed.
//
// The same inventory receives sockets from outside the process: the
// listeners of the previous process (`-x SOCKET`), systemd's socket
// activation (LISTEN_FDS) and `fd@N` binds.
package listen

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
)

// Inventory is the set of listening sockets the process holds and no
// generation currently uses. The zero value is ready; it is safe for
// concurrent use.
type Inventory struct {
	mu   sync.Mutex
	free []kept
}

type kept struct {
	network string
	addr    netip.AddrPort // what getsockname said
	f       *os.File
}

// Listen returns a listener for addr ("host:port" as net.Listen takes it):
// a kept socket bound to the same address when there is one, else a new
// one. A port of 0 always binds anew. A nil Inventory only binds.
func (inv *Inventory) Listen(network, addr string) (net.Listener, error) {
	if want, ok := resolve(network, addr); ok && inv != nil {
		if l, err := inv.take(network, want); l != nil || err != nil {
			return l, err
		}
	}
	return net.Listen(network, addr)
}

// take returns the kept socket bound to want, as a listener, or nil.
func (inv *Inventory) take(network string, want netip.AddrPort) (net.Listener, error) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	for i, k := range inv.free {
		if k.network != network || k.addr != want {
			continue
		}
		inv.free = append(inv.free[:i], inv.free[i+1:]...)
		l, err := net.FileListener(k.f) // dups again; ours is closed below
		k.f.Close()
		if err != nil {
			return nil, fmt.Errorf("listen: reuse socket %s: %w", want, err)
		}
		return l, nil
	}
	return nil, nil
}

// Offer keeps a duplicate of l's socket for the next generation. l stays
// open and usable: its owner closes it when it no longer accepts, and the
// socket lives on in the inventory.
func (inv *Inventory) Offer(l net.Listener) error {
	fl, ok := l.(interface{ File() (*os.File, error) })
	if !ok {
		return fmt.Errorf("listen: %T cannot hand its socket over", l)
	}
	f, err := fl.File()
	if err != nil {
		return fmt.Errorf("listen: hand over %s: %w", l.Addr(), err)
	}
	return inv.Add(f)
}

// Add keeps f, a listening socket the process received (from systemd, the
// previous process, or one of its own listeners); the inventory owns f.
func (inv *Inventory) Add(f *os.File) error {
	network, ap, err := sockName(f)
	if err != nil {
		f.Close()
		return err
	}
	inv.mu.Lock()
	inv.free = append(inv.free, kept{network: network, addr: ap, f: f})
	inv.mu.Unlock()
	return nil
}

// Len is the number of kept sockets no generation has claimed.
func (inv *Inventory) Len() int {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return len(inv.free)
}

// CloseUnclaimed closes every kept socket no generation took: the binds a
// reload removed stop listening here.
func (inv *Inventory) CloseUnclaimed() error {
	inv.mu.Lock()
	free := inv.free
	inv.free = nil
	inv.mu.Unlock()
	var errs []error
	for _, k := range free {
		errs = append(errs, k.f.Close())
	}
	return errors.Join(errs...)
}

// resolve turns a bind address into the address getsockname reports for
// it: an empty host is the dual-stack wildcard [::], as net.Listen binds.
// Names are not resolved: a kept socket is matched only by literal
// address; anything else binds anew.
func resolve(network, addr string) (netip.AddrPort, bool) {
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return netip.AddrPort{}, false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, false
	}
	p, err := netip.ParseAddrPort(net.JoinHostPort(orWildcard(host), port))
	if err != nil || p.Port() == 0 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(p.Addr().Unmap(), p.Port()), true
}

func orWildcard(host string) string {
	if host == "" {
		return "::"
	}
	return host
}

// sockName reads the bound address of a listening TCP socket.
func sockName(f *os.File) (string, netip.AddrPort, error) {
	sa, err := syscall.Getsockname(int(f.Fd()))
	if err != nil {
		return "", netip.AddrPort{}, fmt.Errorf("listen: getsockname: %w", err)
	}
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return "tcp", netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)), nil
	case *syscall.SockaddrInet6:
		return "tcp", netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port)), nil
	}
	return "", netip.AddrPort{}, fmt.Errorf("listen: socket of family %T is not a TCP listener", sa)
}
