package config

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// FuzzUserlist parses arbitrary userlist bodies. Whatever is accepted
// without error must be safe to enforce: unique names, a password on
// every user, only SHA-crypt hashes as hashed passwords, and every group
// reference resolved.
func FuzzUserlist(f *testing.F) {
	f.Add("user a password $6$s$h groups g\ngroup g users a\n")
	f.Add("user b insecure-password pw\ngroup ops\n")
	f.Add("group g users x,,y\nuser x insecure-password \"\"\n")
	f.Add("user a password $1$md5$x\n")
	f.Fuzz(func(t *testing.T, body string) {
		d := &diag.List{}
		c := Parse("f.cfg", []byte("userlist L\n"+body), nil, d)
		c.Validate(d)
		if d.HasErrors() {
			return
		}
		for _, ul := range c.Userlists {
			users, groups := map[string]bool{}, map[string]bool{}
			for _, g := range ul.Groups {
				if groups[g.Name] {
					t.Fatalf("group %q accepted twice", g.Name)
				}
				groups[g.Name] = true
			}
			for _, u := range ul.Users {
				if users[u.Name] {
					t.Fatalf("user %q accepted twice", u.Name)
				}
				users[u.Name] = true
				if !u.Insecure && !(strings.HasPrefix(u.Password, "$5$") || strings.HasPrefix(u.Password, "$6$")) {
					t.Fatalf("user %q: hash %q accepted", u.Name, u.Password)
				}
				for _, g := range u.Groups {
					if !groups[g] {
						t.Fatalf("user %q: unknown group %q accepted", u.Name, g)
					}
				}
			}
			for _, g := range ul.Groups {
				for _, u := range g.Users {
					if !users[u] {
						t.Fatalf("group %q: unknown user %q accepted", g.Name, u)
					}
				}
			}
		}
	})
}
