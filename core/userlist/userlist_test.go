package userlist

import (
	"encoding/base64"
	"strings"
	"testing"
)

// hash is `openssl passwd -6 -salt abcdefgh s3cret`.
const hash = "$6$abcdefgh$Z7KfoKnKTSZrzo5VZ0YubGLQOj9ov6sHo9TmE3zIU/LHKhpE30zCnZ0mcIXYf9r9rQ4DYaXoxAFSPFlcWdxjB."

func TestCheck(t *testing.T) {
	l := New("L")
	l.Add("alice", hash, false)
	l.Add("bob", "pw", true)
	l.AddToGroup("alice", "admins")
	l.AddToGroup("alice", "admins") // once only
	l.AddToGroup("nobody", "admins")
	for _, tc := range []struct {
		user, pass string
		ok         bool
		groups     string
	}{
		{"alice", "s3cret", true, "admins"},
		{"alice", "s3cre", false, "admins"},
		{"alice", hash, false, "admins"}, // the hash is not a password
		{"bob", "pw", true, ""},
		{"bob", "PW", false, ""},
		{"bob", "", false, ""},
		{"eve", "pw", false, ""},
	} {
		groups, ok := l.Check([]byte(tc.user), []byte(tc.pass))
		if ok != tc.ok {
			t.Errorf("%s:%s: ok=%v, want %v", tc.user, tc.pass, ok, tc.ok)
		}
		var g []string
		for _, b := range groups {
			g = append(g, string(b))
		}
		if strings.Join(g, ",") != tc.groups {
			t.Errorf("%s: groups %v, want %q", tc.user, g, tc.groups)
		}
	}
	if _, ok := (*List)(nil).Check([]byte("bob"), []byte("pw")); ok {
		t.Error("a nil list accepted credentials")
	}
}

func TestBasic(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		value, user, pass string
		ok                bool
	}{
		{"Basic " + enc("bob:pw"), "bob", "pw", true},
		{"basic " + enc("bob:pw"), "bob", "pw", true},
		{"BASIC " + enc("a:b:c"), "a", "b:c", true},
		{"Basic " + enc(":"), "", "", true},
		{"Basic " + enc("nocolon"), "", "", false},
		{"Bearer " + enc("bob:pw"), "", "", false},
		{"Basic", "", "", false},
		{"Basic %%%", "", "", false},
		{"Basic " + enc(strings.Repeat("x", MaxCredentials+1)+":p"), "", "", false},
	} {
		var buf [MaxCredentials]byte
		u, p, ok := Basic([]byte(tc.value), buf[:])
		if ok != tc.ok || string(u) != tc.user || string(p) != tc.pass {
			t.Errorf("%q: got %q %q %v, want %q %q %v", tc.value, u, p, ok, tc.user, tc.pass, tc.ok)
		}
	}
}

// FuzzBasic: any header value decodes without panic, and what is
// accepted re-encodes to the credentials it came from.
func FuzzBasic(f *testing.F) {
	f.Add("Basic Ym9iOnB3")
	f.Add("basic   Ym9iOnB3  ")
	f.Add("Basic ====")
	f.Add("Digest x")
	f.Fuzz(func(t *testing.T, v string) {
		var buf [MaxCredentials]byte
		u, p, ok := Basic([]byte(v), buf[:])
		if !ok {
			return
		}
		if strings.IndexByte(string(u), ':') >= 0 {
			t.Fatalf("user %q holds a colon", u)
		}
		rest := strings.Trim(v, " \t")
		raw, err := base64.StdEncoding.DecodeString(strings.TrimLeft(rest[strings.IndexAny(rest, " \t"):], " \t"))
		if err != nil || string(raw) != string(u)+":"+string(p) {
			t.Fatalf("%q: accepted %q:%q, decodes to %q (%v)", v, u, p, raw, err)
		}
	})
}
