package admin

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"sync/atomic"
)

// unixListener is the stats socket's unix listener. A new process (binary
// upgrade) or generation (reload) binds the same path while this one
// still serves: the path is replaced atomically (bind to a temporary
// name, chmod, rename over), so `varde ctl` never finds it missing, and
// Close removes the path only while it is still this listener's socket,
// never the successor's.
type unixListener struct {
	*net.UnixListener
	path string
	st   os.FileInfo
	// kept: the socket belongs to another generation now (a reload's
	// successor holds a duplicate of it), or not yet to this one (a
	// duplicate staged for a reload that may still fail): Close leaves the
	// path alone.
	kept atomic.Bool
}

func listenUnix(path string, mode fs.FileMode) (net.Listener, error) {
	tmp := path + "." + strconv.Itoa(os.Getpid()) + ".tmp"
	_ = os.Remove(tmp)
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ul.SetUnlinkOnClose(false)
	fail := func(err error) (net.Listener, error) {
		ul.Close()
		os.Remove(tmp)
		return nil, err
	}
	// chmod before the socket is reachable under its name, so no client
	// connects through a wider mode.
	if err := os.Chmod(tmp, mode); err != nil {
		return fail(fmt.Errorf("chmod: %w", err))
	}
	st, err := os.Lstat(tmp)
	if err != nil {
		return fail(err)
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSocket == 0 {
		return fail(fmt.Errorf("%s exists and is not a socket", path))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	return &unixListener{UnixListener: ul, path: path, st: st}, nil
}

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	if l.kept.Load() {
		return err
	}
	if fi, serr := os.Lstat(l.path); serr == nil && os.SameFile(fi, l.st) {
		os.Remove(l.path)
	}
	return err
}
