package proxy

import (
	"bytes"
	"strconv"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/core/userlist"
)

// userlistsOf compiles the configuration's userlist sections. Groups come
// from both spellings: `user U groups G` and `group G users U`.
func userlistsOf(c *config.Config) map[string]*userlist.List {
	if len(c.Userlists) == 0 {
		return nil
	}
	out := make(map[string]*userlist.List, len(c.Userlists))
	for _, ul := range c.Userlists {
		l := userlist.New(ul.Name)
		for _, u := range ul.Users {
			l.Add(u.Name, u.Password, u.Insecure)
		}
		for _, g := range ul.Groups {
			for _, u := range g.Users {
				l.AddToGroup(u, g.Name)
			}
		}
		for _, u := range ul.Users {
			for _, g := range u.Groups {
				l.AddToGroup(u.Name, g)
			}
		}
		out[ul.Name] = l
	}
	return out
}

// UserList implements sample.UserLists.
func (v *reqView) UserList(name string) *userlist.List { return v.s.e.cfg.Userlists[name] }

var _ sample.UserLists = (*reqView)(nil)

// setAuthRealm builds the 401 answers of the `http-request auth` rules;
// the realm defaults to the name of the proxy holding the rule, as in
// HAProxy.
func setAuthRealm(rules []*HTTPRule, proxy string) {
	for _, r := range rules {
		if r.Action != ActAuth {
			continue
		}
		if r.Value == "" {
			r.Value = proxy
		}
		for i, status := range [2]int{401, 407} {
			r.authPage[i] = authPage(r.Value, status)
			r.authKeep[i] = bytes.Replace(r.authPage[i], []byte("connection: close\r\n"), nil, 1)
		}
	}
}

// authPage is HAProxy 2.6's 401 answer (measured against
// /usr/sbin/haproxy, see TestAuthAgainstHAProxy) with the challenge, or
// its 407 with Proxy-Authenticate for a proxy request (proxyConn).
func authPage(realm string, status int) []byte {
	hdr := "www-authenticate"
	if status == 407 {
		hdr = "proxy-authenticate"
	}
	body := "<html><body><h1>" + strconv.Itoa(status) + " Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n"
	b := httpx.AppendStatusLine(nil, status, "Unauthorized")
	b = httpx.AppendFieldString(b, "content-length", strconv.Itoa(len(body)))
	b = httpx.AppendFieldString(b, "cache-control", "no-cache")
	b = httpx.AppendFieldString(b, "content-type", "text/html")
	b = httpx.AppendFieldString(b, hdr, `Basic realm="`+realm+`"`)
	b = httpx.AppendFieldString(b, "connection", "close")
	b = append(b, '\r', '\n')
	return append(b, body...)
}

// proxyConn reports a request to treat as addressed to a proxy under
// `option http-use-proxy-header`: as HAProxy 2.6 (TX_USE_PX_CONN), one
// whose target, as the client sent it, starts with neither '/' nor '*'
// (absolute form, CONNECT). Authentication then uses the Proxy-
// headers: 407 with Proxy-Authenticate, credentials from
// Proxy-Authorization.
func (s *session) proxyConn() bool {
	if !s.f.cfg.UseProxyHeader {
		return false
	}
	t := s.req.Target.Of(s.in)
	return len(t) > 0 && t[0] != '/' && t[0] != '*'
}

// ProxyConnection implements sample.ProxyRequest.
func (v *reqView) ProxyConnection() bool { return v.s.proxyConn() }

// answerAuth sends the rule's 401 and logs it; like a deny, a complete
// bodyless request keeps the connection.
func (s *session) answerAuth(rule *HTTPRule) bool {
	keep := !s.closeAfter && s.req.HeadLen > 0 && s.req.RequestBody() == httpx.BodyNone && !s.e.stopping.Load()
	i, status := 0, 401
	if s.proxyConn() {
		i, status = 1, 407
	}
	page := rule.authPage[i]
	if keep {
		page = rule.authKeep[i]
	} else {
		s.linger = true
	}
	n, sent, err := s.writeLocal(page, status, nil) // afterresp.go
	s.rec.BytesOut += countHTX(n, sent)
	s.rec.BytesIn = int64(s.req.HeadLen)
	if keep {
		s.consume(s.req.HeadLen)
	}
	s.log(nil, nil)
	s.errKeep = keep && err == nil
	return s.errKeep
}
