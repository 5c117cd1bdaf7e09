package admin

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/listen"
)

// Reload (docs/reload.md) on the admin side: the `reload` command asks the
// process to reload its configuration and answers with the outcome; a new
// generation's admin part takes over the running one's health state and
// admin changes (core/health Inherit) and its `stats socket` listeners, so
// `varde ctl` never finds the socket missing.

// runReload answers `reload`: "Success=1", or "Success=0", a "--" line and
// every error with its file:line (the shape of HAProxy's master CLI).
func (s *Server) runReload(cmd Command) (string, bool) {
	if cmd.Op != OpReload {
		return "", false
	}
	f := s.reload.Load()
	if f == nil || *f == nil {
		return "Success=0\n--\nreload is not available in this mode.\n", true
	}
	if err := (*f)(); err != nil {
		return "Success=0\n--\n" + strings.TrimRight(err.Error(), "\n") + "\n", true
	}
	return "Success=1\n", true
}

// SetReload sets the function `reload` calls (the process's reload); the
// admin part of a generation sets it from generation.Options.Reload.
func (s *Server) SetReload(f func() error) { s.reload.Store(&f) }

// handed is a listener of the running generation's admin server, offered
// (a duplicate of its socket) to the next generation's server with the
// same address.
type handed struct {
	key     string       // "unix:PATH" or "tcp:ADDR"
	dup     net.Listener // the successor's copy
	orig    net.Listener // the running server's listener
	claimed bool
}

// handoff holds the listeners offered by the running generation until the
// new generation's servers start; a process has one of each.
var handoff struct {
	mu   sync.Mutex
	list []*handed
}

// offerSockets stages a duplicate of every listener of old's servers.
func offerSockets(old *Attached) []*handed {
	var out []*handed
	for _, srv := range old.Sockets {
		srv.mu.Lock()
		ls := append([]net.Listener(nil), srv.listeners...)
		srv.mu.Unlock()
		for _, l := range ls {
			if h := dupListener(l); h != nil {
				out = append(out, h)
			}
		}
	}
	handoff.mu.Lock()
	closeHanded(handoff.list) // a previous reload that failed before starting
	handoff.list = out
	handoff.mu.Unlock()
	return out
}

func dupListener(l net.Listener) *handed {
	fl, ok := l.(interface{ File() (*os.File, error) })
	if !ok {
		return nil
	}
	f, err := fl.File()
	if err != nil {
		return nil
	}
	defer f.Close()
	dup, err := listen.FileListener(f) // keeps the running socket non-blocking
	if err != nil {
		return nil
	}
	if u, ok := l.(*unixListener); ok {
		// Keyed by the configured path (the socket was bound under a
		// temporary name, unixsock.go); the duplicate owns the path only
		// from Commit on.
		d := &unixListener{UnixListener: dup.(*net.UnixListener), path: u.path, st: u.st}
		d.kept.Store(true)
		return &handed{key: "unix:" + u.path, dup: d, orig: l}
	}
	key := "tcp:" + l.Addr().String()
	if l.Addr().Network() == "unix" {
		key = "unix:" + l.Addr().String()
	}
	return &handed{key: key, dup: dup, orig: l}
}

// takeHanded returns the staged listener for key (a duplicate that does
// not remove the socket file when closed), or nil.
func takeHanded(network, addr string) net.Listener {
	handoff.mu.Lock()
	defer handoff.mu.Unlock()
	for _, h := range handoff.list {
		if !h.claimed && h.key == network+":"+addr {
			h.claimed = true
			return h.dup
		}
	}
	return nil
}

// closeUnclaimed closes the staged listeners no new server took (a
// `stats socket` the new configuration removed).
func closeUnclaimed() {
	handoff.mu.Lock()
	defer handoff.mu.Unlock()
	var left []*handed
	for _, h := range handoff.list {
		if !h.claimed {
			left = append(left, h)
		}
	}
	closeHanded(left)
	handoff.list = nil
}

func closeHanded(list []*handed) {
	for _, h := range list {
		if !h.claimed {
			h.dup.Close()
		}
	}
}

// Inherit takes over from the running generation's admin part: health
// state, admin changes and weights by server name, the memory-only state
// stores, and the sockets (staged here, taken when this part starts).
func (pt *part) Inherit(prev generation.Part) {
	old, ok := prev.(*part)
	if !ok || old.a == nil {
		return
	}
	pt.prev = old
	n := pt.a.Health.Inherit(old.a.Health)
	pt.g.Opts.Logger.Info("reload: server state carried over", "servers", n)
	pt.handed = offerSockets(old.a)
}

// afterStart completes the takeover once this part's sockets listen.
func (pt *part) afterStart() {
	pt.a.Health.ResumeRamps()
	for _, srv := range pt.a.Sockets {
		srv.SetReload(pt.g.Opts.Reload)
	}
	if pt.prev == nil {
		return
	}
	closeUnclaimed()
	for _, srv := range pt.a.Sockets {
		for _, o := range pt.prev.a.Sockets {
			if srv.cfg.Path == o.cfg.Path && srv.cfg.TCP == o.cfg.TCP && srv.cfg.StateFile == "" {
				srv.state.Adopt(o.state)
			}
		}
	}
}

// Commit makes the sockets taken over this part's for good, once the
// whole generation started (before, a failure must leave the running
// generation's socket files alone): the running part's copies will not
// remove the socket files when it retires, this part's will when it stops;
// the running part stops accepting.
func (pt *part) Commit() {
	for _, h := range pt.handed {
		if !h.claimed {
			continue
		}
		if ul, ok := h.orig.(*unixListener); ok {
			ul.kept.Store(true)
		}
		if ul, ok := h.dup.(*unixListener); ok {
			ul.kept.Store(false)
		}
	}
	// From here on every command reaches the new generation: a change
	// made on the old one now would be lost with it.
	if pt.prev != nil {
		for _, srv := range pt.prev.a.Sockets {
			srv.stopAccepting()
		}
	}
}

// stopAccepting closes the server's listeners (a socket file stays when
// its unlink was turned off); sessions already accepted finish.
func (s *Server) stopAccepting() {
	s.mu.Lock()
	ls := s.listeners
	s.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
}

// Drain retires the admin part of a generation a reload replaced; its
// socket files stay (Commit): they are its successor's sockets too.
func (pt *part) Drain(context.Context) error { return pt.a.Close() }

var (
	_ generation.Inheritor = (*part)(nil)
	_ generation.Drainer   = (*part)(nil)
	_ generation.Committer = (*part)(nil)
)
