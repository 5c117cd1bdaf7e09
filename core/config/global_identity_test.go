package config

import (
	"strings"
	"testing"
)

// TestGlobalIdentity: user/group names must exist (nobody/nogroup and root
// do on every Debian system), numbers are taken as given, and the parse
// result carries what cmd/varde switches to. No warning: the switch is built.
func TestGlobalIdentity(t *testing.T) {
	tests := []struct {
		name, src string
		err       string // "" = no diagnostic at all
		user, grp string
		uid, gid  int
	}{
		{"user and group", "global\n user nobody\n group nogroup\n", "", "nobody", "nogroup", 0, 0},
		{"numbers", "global\n uid 65534\n gid 65534\n", "", "", "", 65534, 65534},
		{"uid without passwd entry nor gid", "global\n uid 54321\n", "t.cfg:2: error: uid: uid 54321 has no entry", "", "", 54321, 0},
		{"uid without passwd entry, gid given", "global\n uid 54321\n gid 54321\n", "", "", "", 54321, 54321},
		{"uid 0", "global\n uid 0\n", "", "", "", 0, 0},
		{"unknown user", "global\n user varde-no-such-user\n", `t.cfg:2: error: user: unknown user "varde-no-such-user"`, "", "", 0, 0},
		{"unknown group", "global\n group varde-no-such-group\n", `t.cfg:2: error: group: unknown group "varde-no-such-group"`, "", "", 0, 0},
		{"uid not a number", "global\n uid nobody\n", "t.cfg:2: error: uid:", "", "", 0, 0},
		{"negative gid", "global\n gid -1\n", "t.cfg:2: error: gid:", "", "", 0, 0},
		{"two users", "global\n user nobody root\n", "t.cfg:2: error: user: user expects exactly one argument", "", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, d := load(t, tt.src)
			var out strings.Builder
			d.Write(&out, false)
			if tt.err == "" && out.Len() != 0 {
				t.Fatalf("want no diagnostic, got:\n%s", out.String())
			}
			if tt.err != "" && !strings.Contains(out.String(), tt.err) {
				t.Fatalf("want %q, got:\n%s", tt.err, out.String())
			}
			g := c.Global
			if g.User != tt.user || g.Group != tt.grp || g.UID != tt.uid || g.GID != tt.gid {
				t.Fatalf("got user %q group %q uid %d gid %d", g.User, g.Group, g.UID, g.GID)
			}
		})
	}
}
