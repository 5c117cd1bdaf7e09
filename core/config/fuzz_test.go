package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// fuzzSeeds are past crashers and the shapes the first FuzzParse never
// tried: quoted keywords (one word holding a space), unterminated quotes,
// braces, ${...}, backslashes and conditional blocks. TestFormerPanics
// keeps the crashers as table rows too.
var fuzzSeeds = []string{
	"", "\x00", "frontend", "backend b\n server", "listen l :", "acl", "frontend f\n use_backend b if {", "x \"", `\x`, "${", "${A-", "defaults d from d\n", "frontend f\n bind :1-",
	"global\n log file@/x anonymize hmac k rotate", "backend b\n balance uri len", "backend b\n cookie", "frontend f\n http-request redirect location /x code",
	"frontend f\n redirect code 301 prefix / drop-query append-slash set-cookie A=1 clear-cookie\n", "defaults\n option httplog clf\n option checkcache\nglobal\n maxcompcpuusage 0\n",
	"frontend f\n \"option httplog\"\n", "frontend f\n \"stats uri\"\n", "frontend f\n \"timeout client\"\n", "global\n \"stats socket\"\n",
	"backend b\n no \"option httplog\"\n", "frontend f\n option \"httplog clf\"\n", "frontend f\n 'timeout client' 5s\n", "frontend f\n timeout\\ client 5s\n",
	"global\n maxconn \"10\n", "frontend f\n bind \"${ADDR}:80\"\n", "backend b\n server s ${HOST}:80\n", "frontend f\n bind \"${L[*]}\"\n",
	".if defined(X)\nglobal\n.elif streq(\"${X}\",a)\n.else\n.endif\n", ".if\n.if (1 && !0) || feature(OPENSSL)\n.endif\n", ".else\n.endif\n.elif 1\n",
	".if version_atleast(2.4-dev19) && version_before(3)\n.notice \"ok\"\n.endif\n", ".if streq(a\n", ".alert \"stop\"\n.warning x y\n.diag d\n.foo\n",
	"frontend f\n acl a path_reg ^/a\\.b\\d+$\n http-request deny if { path_beg /x }\n", "\"\" x\n", "frontend f\n capture \"request header\" X len 5\n",
}

// FuzzLex runs the lexer alone on arbitrary lines: it must never panic,
// every token must point inside the input, and a line is either dropped
// with an error or kept.
func FuzzLex(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	env := func(k string) string { return map[string]string{"X": "a b\"#", "L": " x  y "}[k] }
	f.Fuzz(func(t *testing.T, src []byte) {
		nlines := bytes.Count(src, []byte("\n")) + 1
		d := &diag.List{}
		for _, l := range Lex("f.cfg", src, env, d) {
			if len(l.Words) == 0 || len(l.Words) > maxWords {
				t.Fatalf("line %v has %d words", l.Pos, len(l.Words))
			}
			for _, w := range l.Words {
				if w.Pos.Line < 1 || w.Pos.Line > nlines || w.Pos.Col < 1 || w.Pos.Line != l.Pos.Line {
					t.Fatalf("token %q at %v outside its line %v", w.Text, w.Pos, l.Pos)
				}
			}
		}
		for _, it := range d.Items() {
			if it.Pos.Line < 1 || it.Pos.Line > nlines {
				t.Fatalf("diagnostic outside the input: %s", it)
			}
		}
	})
}

// FuzzParse runs the lexer, parser and validator on arbitrary input: they
// must never panic, and every diagnostic must point inside the input.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*.cfg", "../../examples/seeds/*.cfg"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	for _, s := range fuzzSeeds {
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

// FuzzLoadFiles goes through the entry point `varde check` uses, with the
// input as a file: syntax detection sends keepalived-looking input to the
// keepalived parser, so both parsers are covered, and two -f files test
// the merge.
func FuzzLoadFiles(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("vrrp_instance V {\n state \"MASTER\n virtual_ipaddress { \"10.0.0.1 }\n}\n"))
	f.Add([]byte("global_defs {\n router_id \"a b\"\n}\ninclude \"x y\"\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		// keepalived's include reads what it names: keep the fuzzer away
		// from /dev/zero and other endless or shared files.
		if bytes.Contains(src, []byte("include")) && bytes.ContainsAny(src, "/*?[") {
			t.Skip("include outside the test directory")
		}
		a := filepath.Join(dir, "a.cfg")
		b := filepath.Join(dir, "b.cfg")
		if os.WriteFile(a, src, 0o600) != nil || os.WriteFile(b, src, 0o600) != nil {
			t.Skip("cannot write the input")
		}
		_, d := LoadFiles([]string{a, b}, func(string) string { return "v" })
		for _, it := range d.Items() {
			if !strings.HasPrefix(it.Pos.File, dir) && it.Pos.File != "" {
				t.Logf("diagnostic about another file: %s", it) // includes may name others
			}
			_ = it.String()
		}
		_ = d.Err()
	})
}
