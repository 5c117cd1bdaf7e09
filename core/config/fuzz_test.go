package config

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// FuzzParse runs the lexer, parser and validator on arbitrary input: they
// must never panic, and every token and diagnostic must point inside the
// input.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*.cfg", "../../examples/seeds/*.cfg"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	// Past crashers and edge cases stay as seeds.
	for _, s := range []string{"", "\x00", "frontend", "backend b\n server", "listen l :", "acl", "frontend f\n use_backend b if {", "x \"", `\x`, "${", "${A-", "defaults d from d\n", "frontend f\n bind :1-",
		"global\n log file@/x anonymize hmac k rotate", "backend b\n balance uri len", "backend b\n cookie", "frontend f\n http-request redirect location /x code"} {
		f.Add([]byte(s))
	}
	env := func(k string) string {
		if k == "X" {
			return "a b\"#"
		}
		return ""
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		nlines := bytes.Count(src, []byte("\n")) + 1
		d := &diag.List{}
		for _, l := range Lex("f.cfg", src, env, d) {
			for _, w := range l.Words {
				if w.Pos.Line < 1 || w.Pos.Line > nlines || w.Pos.Col < 1 {
					t.Fatalf("token %q at %v outside the input", w.Text, w.Pos)
				}
			}
		}
		d = &diag.List{}
		c := Parse("f.cfg", src, env, d)
		c.Validate(d)
		for _, it := range d.Items() {
			if it.Pos.File != "f.cfg" || it.Pos.Line < 0 || it.Pos.Line > nlines {
				t.Fatalf("diagnostic outside the input: %s", it)
			}
			_ = it.String()
		}
		Detect(src)
	})
}
