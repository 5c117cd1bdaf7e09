// Package persist implements HAProxy's cookie persistence: `cookie NAME
// insert|rewrite|prefix [indirect] [nocache] [postonly] [preserve]
// [httponly] [secure] [domain D]... [maxidle T] [maxlife T]`, the servers'
// `cookie VALUE`, `option persist`, `force-persist` and `ignore-persist`.
//
// A Cookie plugs into the engine's backend hook: Lookup finds the server a
// request is bound to, RequestField strips what the server must not see,
// ResponseFields adds the Set-Cookie. A request carrying an unknown,
// expired or tampered value is simply balanced as if it had none.
package persist

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
)

// Config is the parsed `cookie` line plus the backend's persistence options.
type Config struct {
	Name     string
	Mode     string // insert, rewrite, prefix, or "" (passive: only read)
	Indirect bool
	NoCache  bool
	PostOnly bool
	Preserve bool
	HTTPOnly bool
	Secure   bool
	Domains  []string
	MaxIdle  time.Duration
	MaxLife  time.Duration

	// Persist is `option persist`: keep sending to a server that is down
	// (not in maintenance); the engine's redispatch handles failures.
	Persist bool
	// ForcePersist / IgnorePersist are `force-persist if COND` and
	// `ignore-persist if COND`; nil means never.
	ForcePersist  func(core.Request) bool
	IgnorePersist func(core.Request) bool
	// Now is the clock (tests); nil = time.Now.
	Now func() time.Time
}

// Cookie is a compiled cookie persistence for one backend.
type Cookie struct {
	cfg   Config
	name  []byte
	attrs string // "; path=/; domain=...; HttpOnly; Secure"
}

// New validates cfg and returns the persistence.
func New(cfg Config) (*Cookie, error) {
	if cfg.Name == "" || strings.ContainsAny(cfg.Name, "=;, \t") {
		return nil, fmt.Errorf("persist: invalid cookie name %q", cfg.Name)
	}
	switch cfg.Mode {
	case "", "insert", "rewrite", "prefix":
	default:
		return nil, fmt.Errorf("persist: cookie mode %q: want insert, rewrite or prefix", cfg.Mode)
	}
	if (cfg.MaxIdle > 0 || cfg.MaxLife > 0) && cfg.Mode != "insert" {
		return nil, fmt.Errorf("persist: maxidle and maxlife need insert mode")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var a strings.Builder
	a.WriteString("; path=/")
	for _, d := range cfg.Domains {
		a.WriteString("; domain=")
		a.WriteString(d)
	}
	if cfg.HTTPOnly {
		a.WriteString("; HttpOnly")
	}
	if cfg.Secure {
		a.WriteString("; Secure")
	}
	return &Cookie{cfg: cfg, name: []byte(cfg.Name), attrs: a.String()}, nil
}

var _ core.Stickiness = (*Cookie)(nil)

// find returns the value of our cookie in the request's Cookie headers.
func (c *Cookie) find(req core.Request) ([]byte, bool) {
	for i := range req.NumHeaders() {
		name, val := req.HeaderAt(i)
		if !bytes.EqualFold(name, []byte("cookie")) {
			continue
		}
		if v, ok := cookieValue(val, c.name); ok {
			return v, true
		}
	}
	return nil, false
}

// cookieValue finds name=value in a Cookie header value ("a=1; b=2").
func cookieValue(h, name []byte) ([]byte, bool) {
	for len(h) > 0 {
		var part []byte
		if i := bytes.IndexByte(h, ';'); i >= 0 {
			part, h = h[:i], h[i+1:]
		} else {
			part, h = h, nil
		}
		part = bytes.TrimSpace(part)
		k, v, ok := bytes.Cut(part, []byte("="))
		if ok && bytes.Equal(bytes.TrimSpace(k), name) {
			return bytes.TrimSpace(v), true
		}
	}
	return nil, false
}

// serverValue extracts the server part of a cookie value according to the
// mode and checks maxidle/maxlife dates; ok is false for expired or
// malformed values.
func (c *Cookie) serverValue(v []byte) ([]byte, bool) {
	switch c.cfg.Mode {
	case "prefix":
		i := bytes.IndexByte(v, '~')
		if i < 0 {
			return v, true // HAProxy: without '~' the whole value names the server
		}
		return v[:i], true
	case "insert":
		if c.cfg.MaxIdle <= 0 && c.cfg.MaxLife <= 0 {
			return v, true
		}
		// VALUE|IDLE|LIFE, dates as base-32 unix seconds; a cookie without
		// dates is accepted (HAProxy does so too, then stamps it).
		parts := bytes.Split(v, []byte("|"))
		if len(parts) == 1 {
			return v, true
		}
		if len(parts) != 3 {
			return nil, false
		}
		now := c.cfg.Now().Unix()
		idle, err1 := strconv.ParseInt(string(parts[1]), 32, 64)
		life, err2 := strconv.ParseInt(string(parts[2]), 32, 64)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		if c.cfg.MaxIdle > 0 && (now-idle > int64(c.cfg.MaxIdle/time.Second) || idle > now+86400) {
			return nil, false
		}
		if c.cfg.MaxLife > 0 && (now-life > int64(c.cfg.MaxLife/time.Second) || life > now+86400) {
			return nil, false
		}
		return parts[0], true
	}
	return v, true
}

// Lookup returns the server the request's cookie names, or nil to let the
// balancer choose: no cookie, unknown or expired value, ignore-persist, or
// a server that cannot take it (down without `option persist`, or in
// maintenance) unless force-persist matches.
func (c *Cookie) Lookup(req core.Request, servers []*core.Server) *core.Server {
	if c.cfg.IgnorePersist != nil && c.cfg.IgnorePersist(req) {
		return nil
	}
	v, ok := c.find(req)
	if !ok {
		return nil
	}
	sv, ok := c.serverValue(v)
	if !ok || len(sv) == 0 {
		return nil
	}
	var s *core.Server
	for _, x := range servers {
		if x.Cookie != "" && string(sv) == x.Cookie {
			s = x
			break
		}
	}
	if s == nil {
		return nil
	}
	if c.cfg.ForcePersist != nil && c.cfg.ForcePersist(req) {
		return s
	}
	if s.Admin() == core.AdminMaint {
		return nil
	}
	if !s.IsUp() && !c.cfg.Persist {
		return nil // redispatch: the cookie's server is down
	}
	return s // ready or draining: persistent traffic still goes to a draining server
}

// Forced reports whether `force-persist` matches req (the engine then
// disables the final redispatch, as HAProxy does).
func (c *Cookie) Forced(req core.Request) bool {
	return c.cfg.ForcePersist != nil && c.cfg.ForcePersist(req)
}

// RequestField rewrites the Cookie header the server receives: in insert
// mode with indirect our cookie is removed, in prefix mode the "SRV~" prefix
// is stripped. It returns dst with the replacement field appended (nothing
// when no cookie remains) and true, or false to forward the field as is.
func (c *Cookie) RequestField(dst, name, value []byte, _ *core.Server) ([]byte, bool) {
	if !bytes.EqualFold(name, []byte("cookie")) {
		return dst, false
	}
	if !(c.cfg.Mode == "insert" && c.cfg.Indirect) && c.cfg.Mode != "prefix" {
		return dst, false
	}
	if _, ok := cookieValue(value, c.name); !ok {
		return dst, false
	}
	out := make([]byte, 0, len(value))
	rest := value
	for len(rest) > 0 {
		var part []byte
		if i := bytes.IndexByte(rest, ';'); i >= 0 {
			part, rest = rest[:i], rest[i+1:]
		} else {
			part, rest = rest, nil
		}
		part = bytes.TrimSpace(part)
		if len(part) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(part, []byte("="))
		if ok && bytes.Equal(bytes.TrimSpace(k), c.name) {
			if c.cfg.Mode != "prefix" {
				continue // insert+indirect: the server never sees our cookie
			}
			if i := bytes.IndexByte(v, '~'); i >= 0 {
				part = append(append(append([]byte{}, k...), '='), v[i+1:]...)
			}
		}
		if len(out) > 0 {
			out = append(out, "; "...)
		}
		out = append(out, part...)
	}
	if len(out) == 0 {
		return dst, true
	}
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, out...)
	return append(dst, "\r\n"...), true
}

// ResponseFields adds the Set-Cookie (and, with nocache, Cache-Control:
// private) in insert mode when the client has no valid cookie for the
// server that answered — or always without indirect, as HAProxy does.
func (c *Cookie) ResponseFields(dst []byte, req core.Request, status int, srv *core.Server, persisted bool) []byte {
	if c.cfg.Mode != "insert" || srv == nil || srv.Cookie == "" {
		return dst
	}
	if c.cfg.PostOnly && (req == nil || !bytes.Equal(req.Method(), []byte("POST"))) {
		return dst
	}
	if persisted && c.cfg.Indirect && c.cfg.MaxIdle <= 0 {
		return dst
	}
	if c.cfg.Preserve && c.serverSetOurs(dst) {
		return dst // preserve: the server's own cookie stands
	}
	dst = append(dst, "Set-Cookie: "...)
	dst = append(dst, c.name...)
	dst = append(dst, '=')
	dst = append(dst, c.Value(srv)...)
	dst = append(dst, c.attrs...)
	dst = append(dst, "\r\n"...)
	if c.cfg.NoCache {
		dst = append(dst, "Cache-Control: private\r\n"...)
	}
	return dst
}

// ResponseField handles the server's own Set-Cookie for our cookie, as
// HAProxy does: rewrite and prefix modes change its value
// (RewriteSetCookie); insert mode removes it so the client only gets
// varde's, unless `preserve` keeps it (and ResponseFields then adds none).
// It returns false for every other field.
func (c *Cookie) ResponseField(dst, name, value []byte, srv *core.Server) ([]byte, bool) {
	if c.cfg.Mode == "" || !bytes.EqualFold(name, []byte("set-cookie")) || !c.setsOurs(value) {
		return dst, false
	}
	if c.cfg.Mode == "insert" {
		if c.cfg.Preserve {
			return dst, false
		}
		return dst, true
	}
	nv, ok := c.RewriteSetCookie(string(value), srv)
	if !ok {
		return dst, false
	}
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, nv...)
	return append(dst, "\r\n"...), true
}

// setsOurs reports whether a Set-Cookie value sets our cookie.
func (c *Cookie) setsOurs(value []byte) bool {
	nv, _, _ := bytes.Cut(value, []byte(";"))
	k, _, ok := bytes.Cut(nv, []byte("="))
	return ok && bytes.Equal(bytes.TrimSpace(k), c.name)
}

// serverSetOurs reports whether the response head in head (as the engine
// built it so far) carries a Set-Cookie for our cookie.
func (c *Cookie) serverSetOurs(head []byte) bool {
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(k), []byte("set-cookie")) && c.setsOurs(bytes.TrimSpace(v)) {
			return true
		}
	}
	return false
}

// Value is the cookie value inserted for srv (with dates when maxidle or
// maxlife is set).
func (c *Cookie) Value(srv *core.Server) string {
	if c.cfg.MaxIdle <= 0 && c.cfg.MaxLife <= 0 {
		return srv.Cookie
	}
	now := strconv.FormatInt(c.cfg.Now().Unix(), 32)
	return srv.Cookie + "|" + now + "|" + now
}

// RewriteSetCookie applies rewrite and prefix modes to a server's
// Set-Cookie value for our cookie: rewrite replaces the value with the
// server's cookie value, prefix prepends "SRV~". It returns the new value
// and true when it changed anything. (Used by engines that expose response
// header rewriting.)
func (c *Cookie) RewriteSetCookie(value string, srv *core.Server) (string, bool) {
	if srv == nil || srv.Cookie == "" || (c.cfg.Mode != "rewrite" && c.cfg.Mode != "prefix") {
		return value, false
	}
	nv, attrs, _ := strings.Cut(value, ";")
	k, v, ok := strings.Cut(nv, "=")
	if !ok || strings.TrimSpace(k) != c.cfg.Name {
		return value, false
	}
	if c.cfg.Mode == "rewrite" {
		v = srv.Cookie
	} else {
		v = srv.Cookie + "~" + strings.TrimSpace(v)
	}
	out := strings.TrimSpace(k) + "=" + v
	if attrs != "" {
		out += ";" + attrs
	}
	return out, true
}
