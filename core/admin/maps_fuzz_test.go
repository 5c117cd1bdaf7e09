package admin

import (
	"strings"
	"testing"
)

// FuzzMapCommand: any map/acl command line splits and parses without
// panic; a word never holds an unescaped blank, and escaping the words
// back and splitting again gives the same words.
func FuzzMapCommand(f *testing.F) {
	for _, s := range []string{
		"add map hosts.map a.example.com be_a",
		`add acl agents.acl Mon\ User\ Agent\;`,
		"show map @2 hosts.map",
		"commit acl @x f",
		"del map f #0x55d000000050",
		`set map f k\\ v`,
		"get map \t f  \\",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, cmd := range SplitLine(line) {
			_, _ = Parse(cmd)
			w := fields(cmd)
			var b strings.Builder
			for i, x := range w {
				if i > 0 {
					b.WriteByte(' ')
				}
				for j := 0; j < len(x); j++ {
					if x[j] == ' ' || x[j] == '\t' || x[j] == '\\' || x[j] == '\n' || x[j] == '\r' {
						b.WriteByte('\\')
					}
					b.WriteByte(x[j])
				}
			}
			again := fields(b.String())
			if strings.Join(again, "\x00") != strings.Join(w, "\x00") || len(again) != len(w) {
				t.Fatalf("%q: words %q, again %q", cmd, w, again)
			}
		}
	})
}
