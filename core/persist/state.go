package persist

import (
	"bytes"
	"strconv"
	"time"

	"github.com/varde-lb/varde/core"
)

// The cookie part of HAProxy's termination state (%tsc, configuration.txt
// §8.5): the third character says what the request's persistence cookie
// did, the fourth what happened to the cookie in the response.

// Name is the persistence cookie's name.
func (c *Cookie) Name() string { return c.cfg.Name }

// RequestState is the third character for req: N no cookie, I invalid
// (no server has that value, or an empty or malformed value), D the
// server it names is down, V valid and used, E expired (maxidle), O too
// old (maxlife), U present but ignored (ignore-persist).
func (c *Cookie) RequestState(req core.Request, servers []*core.Server) byte {
	if c.cfg.Mode == "" {
		return '-' // a cookie only read: HAProxy logs no cookie state
	}
	v, ok := c.find(req)
	if !ok {
		return 'N'
	}
	if st := c.dateState(v); st != 0 {
		return st
	}
	sv, ok := c.serverValue(v)
	if !ok || len(sv) == 0 {
		return 'I'
	}
	if c.cfg.IgnorePersist != nil && c.cfg.IgnorePersist(req) {
		return 'U'
	}
	state := byte('I')
	for _, s := range servers {
		if s.Cookie == "" || string(sv) != s.Cookie {
			continue
		}
		up := s.IsUp() && s.Admin() != core.AdminMaint
		if up || c.cfg.Persist || c.Forced(req) {
			if up {
				return 'V'
			}
			return 'D'
		}
		state = 'D' // down: HAProxy looks on for another server with it
	}
	return state
}

// dateState is O or E for an insert-mode value whose dates are past
// maxlife or maxidle (or more than a day in the future), 0 otherwise.
func (c *Cookie) dateState(v []byte) byte {
	if c.cfg.Mode != "insert" || c.cfg.MaxIdle <= 0 && c.cfg.MaxLife <= 0 || bytes.Count(v, []byte("|")) != 2 {
		return 0
	}
	parts := bytes.Split(v, []byte("|"))
	idle, err1 := strconv.ParseInt(string(parts[1]), 32, 64)
	life, err2 := strconv.ParseInt(string(parts[2]), 32, 64)
	if err1 != nil || err2 != nil {
		return 0 // malformed: serverValue refuses it (I)
	}
	now := c.cfg.Now().Unix()
	if c.cfg.MaxLife > 0 && (now-life > int64(c.cfg.MaxLife/time.Second) || life > now+86400) {
		return 'O'
	}
	if c.cfg.MaxIdle > 0 && (now-idle > int64(c.cfg.MaxIdle/time.Second) || idle > now+86400) {
		return 'E'
	}
	return 0
}

// ResponseState is the fourth character: I varde inserted a cookie, U it
// refreshed the client's (the same server, a new date), D it deleted the
// server's own (insert mode), R it rewrote the server's (rewrite, prefix),
// P the server's passed as it was, N no cookie either way. serverSet
// tells whether the server's response set our cookie, inserted whether
// varde added one, persisted whether the cookie chose the server.
func (c *Cookie) ResponseState(serverSet, inserted, persisted bool) byte {
	switch {
	case c.cfg.Mode == "":
		return '-'
	case inserted && persisted:
		return 'U'
	case inserted:
		return 'I'
	case !serverSet:
		return 'N'
	case c.cfg.Mode == "insert" && !c.cfg.Preserve:
		return 'D'
	case c.cfg.Mode == "rewrite" || c.cfg.Mode == "prefix":
		return 'R'
	}
	return 'P'
}

// SetsOurs reports whether a response's Set-Cookie value sets our cookie.
func (c *Cookie) SetsOurs(value []byte) bool { return c.setsOurs(value) }
