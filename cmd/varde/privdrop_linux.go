package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/core/generation"
)

// keptCaps are the capabilities varde still needs once it is no longer
// root: binding ports below 1024 on reload, and VRRP (raw sockets,
// addresses, routes, macvlan links).
var keptCaps = []uint{unix.CAP_NET_BIND_SERVICE, unix.CAP_NET_RAW, unix.CAP_NET_ADMIN}

// dropPrivileges switches the whole process to the configuration's global
// user/group when varde runs as root, keeping keptCaps in the permitted and
// effective sets of every thread. The same three are inheritable and
// ambient, so keepalived notify and track scripts run as that user with
// them, exactly as under the packaged unit (AmbientCapabilities=): `ip
// route` in a notify script works both ways. It runs once, after the first
// generation has bound its listeners and created its stats socket.
func dropPrivileges(g *generation.Generation, log *slog.Logger) error {
	h := g.HAProxy()
	if h == nil {
		return nil
	}
	id, ok, err := wantedIdentity(&h.Global)
	if err != nil || !ok {
		return err
	}
	if euid := os.Geteuid(); euid != 0 {
		log.Warn("global user/group not applied: varde was not started as root and keeps its own user (HAProxy would exit unless it already is that user)", "uid", euid, "wanted", id.Name)
		return nil
	}
	if id.UID == 0 {
		return nil // root asked to stay root
	}
	if err := switchTo(id); err != nil {
		return fmt.Errorf("switching to user %s (uid %d, gid %d): %w", id.Name, id.UID, id.GID, err)
	}
	log.Info("dropped root privileges", "user", id.Name, "uid", id.UID, "gid", id.GID, "groups", id.Groups, "kept", "CAP_NET_BIND_SERVICE,CAP_NET_RAW,CAP_NET_ADMIN")
	return nil
}

// switchTo does the switch on all threads. Go's syscall.Setgroups/Setgid/
// Setuid already act on every thread (AllThreadsSyscall); keep-caps and the
// capability sets are per thread, so they go through AllThreadsSyscall too,
// which needs a binary without cgo (the package is built CGO_ENABLED=0).
func switchTo(id identity) error {
	if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 1, 0); err != nil {
		if errors.Is(err, syscall.ENOTSUP) {
			return errors.New("this varde binary was built with cgo, which cannot change every thread's capabilities; build it with CGO_ENABLED=0 (as packaging/mkdeb does) or start varde as the user with CAP_NET_BIND_SERVICE, CAP_NET_RAW and CAP_NET_ADMIN (examples/systemd/varde.service)")
		}
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS): %w", err)
	}
	if err := syscall.Setgroups(id.Groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(id.GID); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := syscall.Setuid(id.UID); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	if err := setCaps(keptCaps); err != nil {
		return err
	}
	for _, c := range keptCaps {
		if err := allThreads(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c)); err != nil {
			return fmt.Errorf("prctl(PR_CAP_AMBIENT_RAISE, %d): %w", c, err)
		}
	}
	if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS, 0): %w", err)
	}
	return nil
}

// setCaps sets permitted = effective = inheritable = caps on every thread
// (inheritable so that they can be raised as ambient). After setuid with keep-caps the permitted set is still root's
// full one and the effective set is empty: this narrows and raises it.
func setCaps(caps []uint) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	for _, c := range caps {
		data[c/32].Permitted |= 1 << (c % 32)
		data[c/32].Effective |= 1 << (c % 32)
		data[c/32].Inheritable |= 1 << (c % 32)
	}
	_, _, e := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	runtime.KeepAlive(&hdr)
	runtime.KeepAlive(&data)
	if e != 0 {
		return fmt.Errorf("capset: %w", e)
	}
	return nil
}

// allThreads runs a raw syscall on every thread of the process.
func allThreads(trap, a1, a2, a3 uintptr) error {
	if _, _, e := syscall.AllThreadsSyscall(trap, a1, a2, a3); e != 0 {
		return e
	}
	return nil
}
