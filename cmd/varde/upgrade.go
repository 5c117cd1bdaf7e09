package main

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/listen"
)

// A binary upgrade, HAProxy's way (docs/upgrade.md):
//
//	varde -f CFG -x /run/varde/admin.sock -sf $(cat /run/varde.pid)
//
// -x SOCKET: before binding, take the old process's listening sockets
// over its stats socket (`stats socket ... expose-fd listeners`, the
// `_getsocks` command; core/listen); every bind of the same address then
// reuses one, so the port is never closed. Received sockets no bind
// claims are closed once the new process listens (HAProxy does the same).
// -sf PID...: once the new process listens, send SIGUSR1 to the old ones:
// they stop accepting, finish their in-flight work and exit, leaving
// their VIPs in place (Generation.Handover). -st PID... sends SIGTERM.
// systemd's socket activation (LISTEN_FDS) is taken here too, at start.

// upgrade is what the command line asked for.
type upgrade struct {
	socket string // -x
	pids   []int  // -sf / -st
	sig    syscall.Signal
}

// fetchTimeout bounds the whole socket transfer.
const fetchTimeout = 10 * time.Second

// takeUpgradeFlags removes -x SOCKET, -sf PID... and -st PID... from args,
// with HAProxy's grammar: the PID list ends at the next argument that
// starts with '-'. Arguments after "--" are left alone.
func takeUpgradeFlags(args []string) (*upgrade, []string, error) {
	u := &upgrade{sig: syscall.SIGUSR1}
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--":
			return u, append(rest, args[i:]...), nil
		case "-x":
			if i+1 >= len(args) || u.socket != "" {
				return nil, nil, fmt.Errorf("-x takes one unix socket path, once")
			}
			i++
			u.socket = args[i]
		case "-sf", "-st":
			u.sig = map[string]syscall.Signal{"-sf": syscall.SIGUSR1, "-st": syscall.SIGTERM}[a]
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				pid, err := strconv.Atoi(strings.TrimSpace(args[i]))
				if err != nil || pid <= 0 {
					return nil, nil, fmt.Errorf("%s: %q is not a process id", a, args[i])
				}
				u.pids = append(u.pids, pid)
			}
		default:
			rest = append(rest, a)
		}
	}
	return u, rest, nil
}

// args gives the flags back in canonical form (haMain and haRunArgs pass
// them on to `varde run`).
func (u *upgrade) args() []string {
	var out []string
	if u.socket != "" {
		out = append(out, "-x", u.socket)
	}
	if len(u.pids) > 0 {
		out = append(out, map[syscall.Signal]string{syscall.SIGUSR1: "-sf", syscall.SIGTERM: "-st"}[u.sig])
		for _, p := range u.pids {
			out = append(out, strconv.Itoa(p))
		}
	}
	return out
}

// active: this process takes over from a running one (Options.Upgrade).
func (u *upgrade) active() bool { return u != nil && (u.socket != "" || len(u.pids) > 0) }

// options fills the process facts of a generation: the socket inventory
// (created here when nobody did) and Upgrade.
func (u *upgrade) options(o *generation.Options) {
	if o.Sockets == nil {
		o.Sockets = &listen.Inventory{}
	}
	o.Upgrade = o.Upgrade || u.active()
}

// take fills the inventory before the first generation binds: systemd's
// sockets, then the old process's (-x; `-x /dev/null` skips, as HAProxy).
// An -x that fails stops the start: binding anew would fail on the ports
// the old process holds, or, with SO_REUSEPORT elsewhere, split traffic.
func (u *upgrade) take(inv *listen.Inventory, log *slog.Logger) error {
	sd, err := inv.Systemd(os.Getenv)
	if err != nil {
		return err
	}
	for _, s := range sd {
		log.Info("systemd socket", "fd", s.FD, "name", s.Name, "addr", s.Addr)
	}
	if u == nil || u.socket == "" || u.socket == "/dev/null" {
		return nil
	}
	got, err := listen.Fetch(u.socket, fetchTimeout)
	if err != nil {
		return fmt.Errorf("cannot take the listening sockets of the old process (-x): %w", err)
	}
	tcp, skipped := 0, 0
	for _, r := range got {
		if inv.AddReceived(r) != nil {
			skipped++ // a unix or UDP socket of a HAProxy: varde binds those itself
			continue
		}
		tcp++
	}
	log.Info("received the old process's listening sockets", "from", u.socket, "tcp", tcp, "skipped", skipped)
	return nil
}

// started runs once the first generation listens: received sockets no
// bind took are closed (a bind the new configuration removed stops
// listening), then the old processes are told to finish.
func (u *upgrade) started(inv *listen.Inventory, log *slog.Logger) {
	for _, n := range inv.Notes() {
		log.Warn(n)
	}
	if left := inv.Unclaimed(); len(left) > 0 {
		log.Info("closing received sockets no bind uses", "addrs", strings.Join(left, " "))
		_ = inv.CloseUnclaimed()
	}
	if u == nil {
		return
	}
	for _, pid := range u.pids {
		if err := syscall.Kill(pid, u.sig); err != nil {
			log.Warn("cannot signal the old process", "pid", pid, "signal", u.sig.String(), "err", err)
			continue
		}
		log.Info("old process told to finish", "pid", pid, "signal", u.sig.String())
	}
}

// removeOwnPidfile removes the pid file on exit unless a successor has
// written its own pid there: the next upgrade reads it for -sf.
func removeOwnPidfile(path string) {
	b, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(os.Getpid()) {
		os.Remove(path)
	}
}
