package config

import (
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// Userlist is a `userlist NAME` section (HAProxy §3.4): users with a
// crypt(3) hash or a clear password, and groups, read by http_auth(NAME),
// http_auth_group(NAME) and `http-request auth`.
type Userlist struct {
	Name   string          `json:"name"`
	Pos    diag.Pos        `json:"pos"`
	Users  []*UserlistUser `json:"users,omitempty"`
	Groups []*UserGroup    `json:"groups,omitempty"`
}

// UserlistUser is `user NAME password HASH|insecure-password PW [groups G,...]`.
type UserlistUser struct {
	Name     string   `json:"name"`
	Pos      diag.Pos `json:"pos"`
	Password string   `json:"-"` // never in dumps
	Insecure bool     `json:"insecure,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}

// UserGroup is `group NAME [users U,...]`.
type UserGroup struct {
	Name  string   `json:"name"`
	Pos   diag.Pos `json:"pos"`
	Users []string `json:"users,omitempty"`
}

// Userlist returns the userlist named name, nil when there is none.
func (c *Config) Userlist(name string) *Userlist {
	for _, u := range c.Userlists {
		if u.Name == name {
			return u
		}
	}
	return nil
}

func (p *parser) startUserlist(l Line) {
	p.section, p.cur, p.ul = "userlist", nil, nil
	name, ok := p.namedSection(l, "userlist", "give each userlist its own name", func(n string) bool { return p.cfg.Userlist(n) != nil })
	if !ok {
		return
	}
	p.ul = &Userlist{Name: name, Pos: l.Pos}
	p.cfg.Userlists = append(p.cfg.Userlists, p.ul)
}

func (p *parser) userlistLine(l Line) {
	switch l.Keyword() {
	case "user":
		p.userLine(l)
	case "group":
		p.groupLine(l)
	default:
		p.d.Errorf(l.Pos, l.Keyword(), "a userlist holds only user and group lines", "unknown keyword %q in userlist section", l.Keyword())
	}
}

const userUsage = "user NAME password HASH|insecure-password PASSWORD [groups G1,G2]"

func (p *parser) userLine(l Line) {
	args := l.Args(1)
	if len(args) == 0 {
		p.d.Errorf(l.Pos, "user", userUsage, "user needs a name")
		return
	}
	u := &UserlistUser{Name: args[0].Text, Pos: l.Pos}
	for _, o := range p.ul.Users {
		if o.Name == u.Name {
			p.d.Errorf(args[0].Pos, "user", "give each user one line", "user %q is declared twice in userlist %q", u.Name, p.ul.Name)
			return
		}
	}
	pw := false
	for i := 1; i < len(args); i += 2 {
		if i+1 >= len(args) {
			p.d.Errorf(args[i].Pos, "user", userUsage, "%q needs a value", args[i].Text)
			return
		}
		v := args[i+1]
		switch args[i].Text {
		case "password":
			if !cryptHashSupported(v.Text) {
				// A hash varde cannot check would refuse every login or,
				// worse, be compared as a clear password.
				p.d.Errorf(v.Pos, "user", "hash it with `openssl passwd -6` (SHA-512) or -5 (SHA-256)", "user %q: only $5$ and $6$ crypt(3) hashes are supported", u.Name)
				return
			}
			u.Password, pw = v.Text, true
		case "insecure-password":
			u.Password, u.Insecure, pw = v.Text, true, true
		case "groups":
			u.Groups = splitComma(v.Text)
		default:
			p.d.Errorf(args[i].Pos, "user", userUsage, "unexpected %q", args[i].Text)
			return
		}
	}
	if !pw {
		p.d.Errorf(l.Pos, "user", userUsage, "user %q needs a password or an insecure-password", u.Name)
		return
	}
	p.ul.Users = append(p.ul.Users, u)
}

func (p *parser) groupLine(l Line) {
	args := l.Args(1)
	if len(args) == 0 {
		p.d.Errorf(l.Pos, "group", "group NAME [users U1,U2]", "group needs a name")
		return
	}
	g := &UserGroup{Name: args[0].Text, Pos: l.Pos}
	for _, o := range p.ul.Groups {
		if o.Name == g.Name {
			p.d.Errorf(args[0].Pos, "group", "give each group one line", "group %q is declared twice in userlist %q", g.Name, p.ul.Name)
			return
		}
	}
	switch {
	case len(args) == 1:
	case len(args) == 3 && args[1].Text == "users":
		g.Users = splitComma(args[2].Text)
	default:
		p.d.Errorf(args[1].Pos, "group", "group NAME [users U1,U2]", "unexpected %q", args[1].Text)
		return
	}
	p.ul.Groups = append(p.ul.Groups, g)
}

// cryptHashSupported: the SHA-crypt hashes core/stats checks.
func cryptHashSupported(s string) bool {
	return (strings.HasPrefix(s, "$6$") || strings.HasPrefix(s, "$5$")) && strings.Count(s, "$") >= 3
}

func splitComma(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// checkUserlists resolves what a userlist names: every group a user
// lists and every user a group lists must exist (HAProxy refuses both).
func checkUserlists(c *Config, d *diag.List) {
	for _, ul := range c.Userlists {
		groups := map[string]bool{}
		for _, g := range ul.Groups {
			groups[g.Name] = true
		}
		users := map[string]bool{}
		for _, u := range ul.Users {
			users[u.Name] = true
			for _, g := range u.Groups {
				if !groups[g] {
					d.Errorf(u.Pos, "user", "declare it with a group line in userlist "+ul.Name, "user %q: unknown group %q", u.Name, g)
				}
			}
		}
		for _, g := range ul.Groups {
			for _, u := range g.Users {
				if !users[u] {
					d.Errorf(g.Pos, "group", "declare the user in userlist "+ul.Name, "group %q: unknown user %q", g.Name, u)
				}
			}
		}
	}
}

// validateUserlistFetches refuses, as HAProxy does, http_auth(L) and
// http_auth_group(L) naming no userlist: the ACL could never match, and
// `http-request auth unless { http_auth(L) }` would lock everyone out or,
// negated the other way, let everyone in.
func (c *Config) validateUserlistFetches(px *Proxy, d *diag.List) {
	check := func(a *ACL) {
		if a == nil || (a.Criterion != "http_auth" && a.Criterion != "http_auth_group") {
			return
		}
		if a.Arg == "" {
			d.Errorf(a.Pos, a.Criterion, a.Criterion+"(USERLIST)", "%s needs a userlist name", a.Criterion)
			return
		}
		if c.Userlist(a.Arg) == nil {
			d.Errorf(a.Pos, a.Criterion, "declare `userlist "+a.Arg+"` with its users", "%s: no userlist %q", a.Criterion, a.Arg)
		}
	}
	eachACL(px, check)
}

// eachACL calls fn with every ACL of a proxy: the named ones, then the
// anonymous ones written inside its rules' conditions.
func eachACL(px *Proxy, fn func(*ACL)) {
	for _, a := range px.ACLs {
		fn(a)
	}
	for _, cond := range proxyConditions(px) {
		for _, and := range cond.Or {
			for _, t := range and {
				if t.Anon != nil {
					fn(t.Anon)
				}
			}
		}
	}
}

// proxyConditions lists the conditions of a proxy's rules.
func proxyConditions(px *Proxy) []*Condition {
	var conds []*Condition
	add := func(c *Condition) {
		if c != nil {
			conds = append(conds, c)
		}
	}
	for _, r := range px.HTTPRequest {
		add(r.Cond)
	}
	for _, r := range px.HTTPResponse {
		add(r.Cond)
	}
	for _, r := range px.HTTPAfterResponse {
		add(r.Cond)
	}
	for _, r := range px.TCPRequest {
		add(r.Cond)
	}
	for _, u := range px.UseBackends {
		add(u.Cond)
	}
	for _, mf := range px.MonitorFail {
		add(mf.Cond)
	}
	for _, r := range px.Redirects {
		add(r.Cond)
	}
	for _, us := range px.UseServers {
		add(us.Cond)
	}
	return conds
}

// parseAuthRule reads `http-request auth [realm REALM]`; the realm goes
// to r.Value ("" means the proxy's name, HAProxy's default).
func (p *parser) parseAuthRule(key string, args []Token, r *HTTPRule) bool {
	if key != "http-request auth" {
		p.d.Errorf(r.Pos, key, "use http-request auth", "auth is only an http-request action")
		return false
	}
	switch {
	case len(args) == 0:
	case len(args) == 2 && args[0].Text == "realm":
		r.Value = args[1].Text
	default:
		p.d.Errorf(args[0].Pos, key, "http-request auth [realm REALM] [if|unless COND]", "unexpected %q", args[0].Text)
		return false
	}
	return true
}
