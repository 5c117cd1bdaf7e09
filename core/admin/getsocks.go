package admin

import (
	"io"
	"net"
	"strings"
	"time"
)

// `_getsocks`: HAProxy's command by which a new process (`-x SOCKET`)
// takes the listening sockets of this one, so a binary upgrade refuses no
// connection (core/listen carries the wire format). Only a unix stats
// socket with `expose-fd listeners` answers; anywhere else the connection
// closes without a word, as HAProxy's does, and the new process reports
// that it received nothing.

// isGetSocks reports whether one command of a line is `_getsocks`.
func isGetSocks(cmd string) bool { return strings.TrimSpace(cmd) == "_getsocks" }

// getSocks sends the process's listening sockets on c.
func (s *Server) getSocks(c net.Conn) {
	uc, ok := c.(*net.UnixConn)
	if !ok || !s.cfg.ExposeFD || s.cfg.Sockets == nil {
		s.log.Warn("admin: _getsocks refused: the stats socket needs `expose-fd listeners` (and a unix path)")
		return
	}
	if err := s.cfg.Sockets.Send(uc); err != nil {
		s.log.Warn("admin: _getsocks", "err", err)
		return
	}
	s.log.Info("admin: listening sockets sent to a new process (_getsocks)")
	// The receiver acknowledges every message; read those answers before
	// closing, or the close would reset the connection under it.
	_ = uc.CloseWrite()
	_ = uc.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.Copy(io.Discard, uc)
}
