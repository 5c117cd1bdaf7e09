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
// listeners of the previous process (`-x SOCKET`, Fetch), systemd's socket
// activation (LISTEN_FDS, Systemd) and `fd@N` binds (Inherited). It also
// knows the listeners in use, so the process can hand them to its
// successor (Exported, for the admin socket's `_getsocks`).
package listen

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Inventory is the set of listening sockets the process holds. The zero
// value is ready; it is safe for concurrent use.
type Inventory struct {
	mu    sync.Mutex
	free  []kept
	inUse map[*Listener]struct{}
	// fdAddr remembers which address an `fd@N` bind turned out to be, so
	// the next generation's `fd@N` finds the socket again after fd N
	// itself was closed.
	fdAddr map[int]netip.AddrPort
	notes  []string // what a take did that the log must say (Notes)
	// sent: a successor took the listening sockets (`_getsocks` served
	// whole), so this process may stop as a hand-over (HandedOver).
	sent atomic.Bool
}

// HandedOver reports whether a successor process received this process's
// listening sockets (`-x`): only then does HAProxy's soft-stop (SIGUSR1)
// leave the VIPs to it.
func (inv *Inventory) HandedOver() bool { return inv != nil && inv.sent.Load() }

type kept struct {
	network string
	addr    netip.AddrPort // what getsockname said
	props   Props
	f       *os.File
	fd      int // the inherited descriptor number for fd@N, else -1
}

// Listener is a TCP listener the inventory handed out: Close removes it
// from the set a successor process receives.
type Listener struct {
	*net.TCPListener
	inv  *Inventory
	once sync.Once
}

// Close stops listening here (the socket lives on if the inventory or
// another process keeps a duplicate).
func (l *Listener) Close() error {
	l.once.Do(func() {
		l.inv.mu.Lock()
		delete(l.inv.inUse, l)
		l.inv.mu.Unlock()
	})
	return l.TCPListener.Close()
}

// Listen returns a listener for addr ("host:port" as net.Listen takes it,
// or "fd@N" for an inherited socket): a kept socket bound to the same
// address when there is one, else a new one. A port of 0 always binds
// anew. A nil Inventory only binds.
func (inv *Inventory) Listen(network, addr string) (net.Listener, error) {
	if inv == nil {
		if strings.HasPrefix(addr, "fd@") {
			return nil, fmt.Errorf("listen: %s: inherited sockets need the process's inventory", addr)
		}
		return net.Listen(family(network, addr), addr)
	}
	if n, ok := strings.CutPrefix(addr, "fd@"); ok {
		return inv.listenFD(network, n)
	}
	if want, ok := resolve(network, addr); ok {
		if l, err := inv.take(network, want, -1); l != nil || err != nil {
			return l, err
		}
	}
	l, err := net.Listen(family(network, addr), addr)
	if err != nil {
		return nil, err
	}
	return inv.track(l), nil
}

// family narrows "tcp" to "tcp4" for an IPv4 address: Go's "tcp" binds
// 0.0.0.0 as the dual-stack [::], which would let IPv6 clients in where
// the configuration (HAProxy's meaning of `bind :80`) admits IPv4 only.
func family(network, addr string) string {
	if network != "tcp" {
		return network
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return network
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is4() {
		return "tcp4"
	}
	return network
}

// listenFD serves `bind fd@N`: the socket systemd or the parent passed as
// descriptor N (adopted once; later generations find it by its address).
func (inv *Inventory) listenFD(network, num string) (net.Listener, error) {
	fd, err := strconv.Atoi(num)
	if err != nil || fd < 0 {
		return nil, fmt.Errorf("listen: fd@%s: not a descriptor number", num)
	}
	inv.mu.Lock()
	ap, seen := inv.fdAddr[fd]
	inv.mu.Unlock()
	if seen {
		if l, err := inv.take(network, ap, fd); l != nil || err != nil {
			return l, err
		}
		return nil, fmt.Errorf("listen: fd@%d (%s) is in use by another bind or was closed", fd, ap)
	}
	if l, err := inv.take(network, netip.AddrPort{}, fd); l != nil || err != nil {
		return l, err // a systemd socket already in the inventory
	}
	f, err := adoptInherited(fd)
	if err != nil {
		return nil, err
	}
	if err := inv.add(f, Props{}, fd); err != nil {
		return nil, err
	}
	return inv.listenFD(network, num)
}

// track registers l as in use.
func (inv *Inventory) track(l net.Listener) net.Listener {
	tl, ok := l.(*net.TCPListener)
	if !ok {
		return l
	}
	w := &Listener{TCPListener: tl, inv: inv}
	inv.mu.Lock()
	if inv.inUse == nil {
		inv.inUse = map[*Listener]struct{}{}
	}
	inv.inUse[w] = struct{}{}
	inv.mu.Unlock()
	return w
}

// take returns the kept socket bound to want (or, with fd >= 0 and an
// invalid want, the one inherited as fd), as a listener, or nil.
func (inv *Inventory) take(network string, want netip.AddrPort, fd int) (net.Listener, error) {
	inv.mu.Lock()
	i := inv.find(network, want, fd)
	if i < 0 && isDualWildcard(want) {
		// A `bind :::80` (dual-stack [::]:80) that received only an
		// IPv4-only 0.0.0.0:80 socket (an old process bound `*:80`, or
		// systemd's ListenStream=0.0.0.0:80): take it, serving what the
		// previous owner served, and say so.
		if i = inv.find(network, netip.AddrPortFrom(netip.IPv4Unspecified(), want.Port()), -1); i >= 0 {
			inv.notes = append(inv.notes, fmt.Sprintf("the wildcard bind of port %d took the IPv4-only socket 0.0.0.0:%d it received: IPv6 clients are not served on that port until varde restarts", want.Port(), want.Port()))
		}
	}
	if i < 0 {
		inv.mu.Unlock()
		return nil, nil
	}
	k := inv.free[i]
	inv.free = append(inv.free[:i], inv.free[i+1:]...)
	if k.fd >= 0 {
		if inv.fdAddr == nil {
			inv.fdAddr = map[int]netip.AddrPort{}
		}
		inv.fdAddr[k.fd] = k.addr
	}
	inv.mu.Unlock()
	l, err := FileListener(k.f) // dups again; ours is closed below
	k.f.Close()
	if err != nil {
		return nil, fmt.Errorf("listen: reuse socket %s: %w", k.addr, err)
	}
	return inv.track(l), nil
}

// find returns the index of the first kept socket matching, or -1; the
// caller holds inv.mu.
func (inv *Inventory) find(network string, want netip.AddrPort, fd int) int {
	for i, c := range inv.free {
		if c.matches(network, want, fd) {
			return i
		}
	}
	return -1
}

func isDualWildcard(ap netip.AddrPort) bool {
	return ap.Addr().Is6() && ap.Addr().IsUnspecified()
}

// Notes returns, once, what the inventory did that the operator must
// know (a wildcard bind that took an IPv4-only socket).
func (inv *Inventory) Notes() []string {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	n := inv.notes
	inv.notes = nil
	return n
}

// matches reports whether a kept socket can serve a bind: same address,
// and none of the properties a plain varde bind does not ask for (a
// socket that HAProxy bound with v6only, to one interface, in a namespace
// or transparent would accept other connections than the bind says).
// An `fd@N` bind (fd >= 0) takes the socket inherited as N, whatever it is.
func (k kept) matches(network string, want netip.AddrPort, fd int) bool {
	if fd >= 0 && k.fd == fd && (!want.IsValid() || k.addr == want) {
		return true
	}
	if fd >= 0 || k.network != network || k.addr != want {
		return false
	}
	return k.props.plain(want)
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
	fd := -1
	if w, ok := l.(*Listener); ok {
		fd = inv.inheritedFD(w)
	}
	return inv.add(f, Props{}, fd)
}

// inheritedFD returns the fd@N number whose address l serves, or -1.
func (inv *Inventory) inheritedFD(l *Listener) int {
	ap, ok := addrPortOf(l.Addr())
	if !ok {
		return -1
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	for fd, a := range inv.fdAddr {
		if a == ap {
			return fd
		}
	}
	return -1
}

// Add keeps f, a listening socket the process received (from systemd, the
// previous process, or one of its own listeners); the inventory owns f.
func (inv *Inventory) Add(f *os.File) error { return inv.add(f, Props{}, -1) }

// AddReceived keeps a socket received from the previous process with what
// its sender said about it (interface, namespace).
func (inv *Inventory) AddReceived(r Received) error { return inv.add(r.File, r.Props, -1) }

func (inv *Inventory) add(f *os.File, p Props, fd int) error {
	network, ap, err := sockName(f)
	if err != nil {
		f.Close()
		return err
	}
	p = p.merge(readProps(f, ap))
	inv.mu.Lock()
	inv.free = append(inv.free, kept{network: network, addr: ap, props: p, f: f, fd: fd})
	inv.mu.Unlock()
	return nil
}

// Len is the number of kept sockets no generation has claimed.
func (inv *Inventory) Len() int {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return len(inv.free)
}

// Unclaimed lists the addresses of the kept sockets no generation took.
func (inv *Inventory) Unclaimed() []string {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	out := make([]string, 0, len(inv.free))
	for _, k := range inv.free {
		out = append(out, k.addr.String())
	}
	return out
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

func addrPortOf(a net.Addr) (netip.AddrPort, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}, false
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}
