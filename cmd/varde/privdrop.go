package main

import (
	"fmt"
	"os/user"
	"strconv"

	"github.com/varde-lb/varde/core/config"
)

// identity is who varde becomes after the first generation is listening:
// HAProxy's global user/uid and group/gid, with the user's groups from
// /etc/group as supplementary groups (initgroups).
type identity struct {
	UID, GID int
	Groups   []int
	Name     string // for the log
}

// wantedIdentity resolves the global section's user/group lines. ok is false
// when the configuration names no user and no uid: nothing to switch. A name
// wins over a number when both are given. Without group/gid the user's own
// primary group is taken (HAProxy would keep gid 0, root's group: weaker).
func wantedIdentity(g *config.Global) (id identity, ok bool, err error) {
	if g.User == "" && g.UID == 0 {
		return identity{}, false, nil
	}
	var u *user.User
	if g.User != "" {
		if u, err = user.Lookup(g.User); err != nil {
			return id, false, fmt.Errorf("global user %q: %w", g.User, err)
		}
	} else if u, err = user.LookupId(strconv.Itoa(g.UID)); err != nil {
		u = nil // a bare uid with no passwd entry is taken as given
	}
	id.UID, id.GID, id.Name = g.UID, g.GID, "uid "+strconv.Itoa(g.UID)
	if u != nil {
		id.UID, _ = strconv.Atoi(u.Uid)
		id.Name = u.Username
		if id.GID == 0 {
			id.GID, _ = strconv.Atoi(u.Gid)
		}
	}
	if g.Group != "" {
		gr, gerr := user.LookupGroup(g.Group)
		if gerr != nil {
			return id, false, fmt.Errorf("global group %q: %w", g.Group, gerr)
		}
		id.GID, _ = strconv.Atoi(gr.Gid)
	}
	id.Groups = supplementary(u, id.GID)
	return id, true, nil
}

// supplementary is initgroups(3): gid plus the groups listing u in /etc/group.
func supplementary(u *user.User, gid int) []int {
	groups := []int{gid}
	if u == nil {
		return groups
	}
	ids, err := u.GroupIds()
	if err != nil {
		return groups
	}
	// GroupIds also lists the passwd primary group, which initgroups does
	// not add when another group is asked for.
	primary, _ := strconv.Atoi(u.Gid)
	for _, s := range ids {
		n, err := strconv.Atoi(s)
		if err == nil && n != gid && n != primary {
			groups = append(groups, n)
		}
	}
	return groups
}
