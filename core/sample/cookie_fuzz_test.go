package sample

import (
	"strings"
	"testing"
)

// cookieHeaders is one Cookie header.
type cookieHeaders struct{ v string }

func (c cookieHeaders) NumHeaders() int { return 1 }
func (c cookieHeaders) HeaderAt(int) (name, value []byte) {
	return []byte("Cookie"), []byte(c.v)
}

// FuzzCookie checks Cookie (req.cook, and the policies' cookie lookups)
// against a plain reference: the first pair whose trimmed name matches, its trimmed value.
func FuzzCookie(f *testing.F) {
	f.Add("a=1; uid=u-42; b", "uid")
	f.Add(" canary = always ;", "canary")
	f.Add("=x; ;;", "")
	f.Add("a=b=c", "a")
	f.Fuzz(func(t *testing.T, h, name string) {
		got, ok := Cookie(cookieHeaders{h}, name)
		var want string
		found := false
		for _, pair := range strings.Split(h, ";") {
			k, v, eq := strings.Cut(strings.Trim(pair, " \t"), "=")
			if name != "" && eq && strings.Trim(k, " \t") == name { // an empty name finds nothing
				want, found = strings.Trim(v, " \t"), true
				break
			}
		}
		if ok != found || string(got) != want {
			t.Fatalf("Cookie(%q, %q) = %q %v, want %q %v", h, name, got, ok, want, found)
		}
	})
}
