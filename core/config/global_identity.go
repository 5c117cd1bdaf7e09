package config

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"

	"github.com/varde-lb/varde/core/diag"
)

// globalIdentity parses the global user, group, uid and gid lines. Names
// are looked up now, so an unknown one is refused by `varde check` with its
// line, as HAProxy refuses it; numbers are taken as given. The switch itself
// happens in cmd/varde (privdrop_linux.go) once the first generation is
// listening, and only when varde was started as root; a non-root varde
// logs there that it keeps its own user (check's output must not depend on
// who runs it).
func (p *parser) globalIdentity(g *Global, key string, kwPos diag.Pos, args []Token) {
	if len(args) != 1 {
		p.d.Errorf(kwPos, key, key+" VALUE", "%s expects exactly one argument, got %d", key, len(args))
		return
	}
	t := args[0]
	switch key {
	case "user":
		if _, err := user.Lookup(t.Text); err != nil {
			p.d.Errorf(t.Pos, key, "name a user in /etc/passwd, or give a number with uid", "%v", lookupErr("user", t.Text, err))
			return
		}
		g.User = t.Text
	case "group":
		if _, err := user.LookupGroup(t.Text); err != nil {
			p.d.Errorf(t.Pos, key, "name a group in /etc/group, or give a number with gid", "%v", lookupErr("group", t.Text, err))
			return
		}
		g.Group = t.Text
	default: // uid, gid
		n, err := ParseInt(t.Text, 0, 1<<31-1)
		if err != nil {
			p.d.Errorf(t.Pos, key, "write a whole number (0 switches nothing)", "%v", err)
			return
		}
		if key == "uid" {
			g.UID, g.UIDPos = int(n), t.Pos
		} else {
			g.GID = int(n)
		}
	}
}

// lookupErr words an os/user failure for the diagnostic.
func lookupErr(kind, name string, err error) error {
	var uu user.UnknownUserError
	var ug user.UnknownGroupError
	if errors.As(err, &uu) || errors.As(err, &ug) {
		return fmt.Errorf("unknown %s %q", kind, name)
	}
	return fmt.Errorf("cannot look up %s %q: %w", kind, name, err)
}

// validateIdentity refuses a uid that has no passwd entry when neither group
// nor gid says which group to take: HAProxy would keep group 0 (root's),
// which is less than the configuration asks to give up.
func (c *Config) validateIdentity(d *diag.List) {
	g := &c.Global
	if g.UID == 0 || g.User != "" || g.Group != "" || g.GID != 0 {
		return
	}
	if _, err := user.LookupId(strconv.Itoa(g.UID)); err == nil {
		return
	}
	d.Errorf(g.UIDPos, "uid", "add a gid (or group) line", "uid %d has no entry in /etc/passwd to take its group from; varde would stay in group 0 (root)", g.UID)
}
