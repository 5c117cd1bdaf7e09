package listen

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// systemd's socket activation (sd_listen_fds(3)): a unit with
// `Sockets=`/a .socket unit starts varde with the listening sockets as
// descriptors 3, 4, ... and LISTEN_PID=<varde's pid>, LISTEN_FDS=<count>,
// LISTEN_FDNAMES=<name:name...>. They go into the inventory, where a
// `bind` of the same address takes one (as if varde had bound it, but
// with no moment when the port is closed) and `bind fd@N` names one.

// SystemdSocket is one socket systemd passed.
type SystemdSocket struct {
	FD   int
	Name string // from LISTEN_FDNAMES, "" when not given
	Addr string
}

const sdListenFDsStart = 3

// Systemd adds the sockets systemd passed to this process to inv and
// removes the LISTEN_* variables, so no child process sees them. Without
// them (or when LISTEN_PID names another process) it does nothing. A
// passed descriptor that is not a listening TCP socket is an error: varde
// would silently not serve what the unit says it does.
func (inv *Inventory) Systemd(getenv func(string) string) ([]SystemdSocket, error) {
	pid, nfds := getenv("LISTEN_PID"), getenv("LISTEN_FDS")
	if pid == "" || nfds == "" {
		return nil, nil
	}
	defer func() {
		for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
			os.Unsetenv(v)
		}
	}()
	if p, err := strconv.Atoi(pid); err != nil || p != os.Getpid() {
		return nil, nil // meant for another process
	}
	n, err := strconv.Atoi(nfds)
	if err != nil || n < 0 || n > maxSockets {
		return nil, fmt.Errorf("listen: LISTEN_FDS=%q is not a count of descriptors", nfds)
	}
	names := strings.Split(getenv("LISTEN_FDNAMES"), ":")
	var out []SystemdSocket
	for i := 0; i < n; i++ {
		fd := sdListenFDsStart + i
		f, err := adoptInherited(fd)
		if err != nil {
			return out, fmt.Errorf("listen: systemd socket %d of %d: %w", i+1, n, err)
		}
		if err := inv.add(f, Props{}, fd); err != nil {
			return out, fmt.Errorf("listen: systemd socket fd %d: %w", fd, err)
		}
		s := SystemdSocket{FD: fd, Addr: inv.addrOfFD(fd)}
		if i < len(names) {
			s.Name = names[i]
		}
		out = append(out, s)
	}
	return out, nil
}

// addrOfFD is the address of the kept socket inherited as fd.
func (inv *Inventory) addrOfFD(fd int) string {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	for _, k := range inv.free {
		if k.fd == fd {
			return k.addr.String()
		}
	}
	return ""
}
