package listen

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Props are the facts about a socket beyond its address that decide
// which connections it accepts. A varde bind asks for none of them, so a
// socket with any is never given to one (see kept.matches).
type Props struct {
	V6Only      bool   // an IPv6 socket that refuses IPv4 (HAProxy's v6only)
	Device      string // SO_BINDTODEVICE (HAProxy's `interface`)
	Transparent bool   // IP_TRANSPARENT (HAProxy's `transparent`)
	// Interface and Namespace are what the sending HAProxy said about the
	// socket in its `_getsocks` answer.
	Interface string
	Namespace string
}

// plain reports whether a socket with these properties serves a varde
// bind of address want as a freshly bound one would.
func (p Props) plain(want netip.AddrPort) bool {
	if p.Device != "" || p.Interface != "" || p.Namespace != "" || p.Transparent {
		return false
	}
	// Only the wildcard [::] differs: varde's binds are dual-stack.
	return !(p.V6Only && want.Addr().Is6() && want.Addr().IsUnspecified())
}

func (p Props) merge(q Props) Props {
	p.V6Only = p.V6Only || q.V6Only
	p.Transparent = p.Transparent || q.Transparent
	if p.Device == "" {
		p.Device = q.Device
	}
	return p
}

// readProps asks the kernel what the socket was bound with; an option it
// cannot read counts as unset.
func readProps(f *os.File, ap netip.AddrPort) Props {
	var p Props
	rc, err := f.SyscallConn()
	if err != nil {
		return p
	}
	_ = rc.Control(func(fd uintptr) {
		s := int(fd)
		if dev, err := unix.GetsockoptString(s, unix.SOL_SOCKET, unix.SO_BINDTODEVICE); err == nil {
			p.Device = trimNUL(dev)
		}
		if v, err := unix.GetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); err == nil && v != 0 {
			p.V6Only = true
		}
		lvl, opt := unix.IPPROTO_IP, unix.IP_TRANSPARENT
		if ap.Addr().Is6() {
			lvl, opt = unix.IPPROTO_IPV6, unix.IPV6_TRANSPARENT
		}
		if v, err := unix.GetsockoptInt(s, lvl, opt); err == nil && v != 0 {
			p.Transparent = true
		}
	})
	return p
}

func trimNUL(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i]
		}
	}
	return s
}

// sockName reads the bound address of a listening TCP socket; anything
// else (a unix or UDP socket, a connected or unbound one) is refused.
func sockName(f *os.File) (string, netip.AddrPort, error) {
	fd, err := fileFD(f)
	if err != nil {
		return "", netip.AddrPort{}, fmt.Errorf("listen: %w", err)
	}
	if typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
		return "", netip.AddrPort{}, fmt.Errorf("listen: descriptor is not a stream socket")
	}
	if acc, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || acc == 0 {
		return "", netip.AddrPort{}, fmt.Errorf("listen: socket is not listening")
	}
	sa, err := syscall.Getsockname(fd)
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

// fileFD is f's descriptor number, valid while f is open. Never f.Fd():
// for a listener's File (a dup sharing the open file description), Fd
// puts the socket in blocking mode, the running engine's too, whose event
// loops then block in accept(2) until another client comes (a reload
// stalled, or hung, that way).
func fileFD(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := rc.Control(func(s uintptr) { fd = int(s) }); err != nil {
		return -1, err
	}
	return fd, nil
}

// FileListener is net.FileListener without its side effect on the socket
// it copies: net.FileListener calls f.Fd(), which for a listener's File
// puts the shared socket in blocking mode until the copy is set back, a
// window in which a running owner's accept(2) could block (see fileFD).
// A File made by os.NewFile from a non-blocking descriptor keeps it so.
func FileListener(f *os.File) (net.Listener, error) {
	fd, err := fileFD(f)
	if err != nil {
		return nil, err
	}
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("fcntl", err)
	}
	nf := os.NewFile(uintptr(nfd), f.Name())
	defer nf.Close()
	return net.FileListener(nf)
}

// adoptInherited takes descriptor fd, which the process must have had
// when it started (see inheritedAtStart): a later descriptor with the same
// number is one of the process's own files, never a bind's socket.
func adoptInherited(fd int) (*os.File, error) {
	inheritedMu.Lock()
	ok := inheritedAtStart[fd]
	inheritedMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("listen: fd@%d: the process was not started with descriptor %d open", fd, fd)
	}
	f := os.NewFile(uintptr(fd), fmt.Sprintf("fd@%d", fd))
	if _, _, err := sockName(f); err != nil {
		// Not ours to close: it stays what the parent passed.
		return nil, fmt.Errorf("fd@%d: %w", fd, err)
	}
	unix.CloseOnExec(fd) // health-check commands must not inherit it
	inheritedMu.Lock()
	delete(inheritedAtStart, fd) // adopted once; the File owns it now
	inheritedMu.Unlock()
	return f, nil
}

// valid reports whether descriptor fd is open.
func valid(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}
