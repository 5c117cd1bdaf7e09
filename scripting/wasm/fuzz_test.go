package wasm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core"
)

// FuzzFindCookie checks the Cookie header scanner against a plain
// reference: the first pair whose trimmed name matches, its trimmed value.
func FuzzFindCookie(f *testing.F) {
	f.Add("a=1; uid=u-42; b", "uid")
	f.Add(" canary = always ;", "canary")
	f.Add("=x; ;;", "")
	f.Add("a=b=c", "a")
	f.Fuzz(func(t *testing.T, h, name string) {
		got, ok := findCookie([]byte(h), []byte(name))
		var want string
		found := false
		for _, pair := range strings.Split(h, ";") {
			k, v, eq := strings.Cut(strings.Trim(pair, " \t"), "=")
			if eq && strings.Trim(k, " \t") == name {
				want, found = strings.Trim(v, " \t"), true
				break
			}
		}
		if ok != found || string(got) != want {
			t.Fatalf("findCookie(%q, %q) = %q %v, want %q %v", h, name, got, ok, want, found)
		}
	})
}

// FuzzCompile feeds arbitrary bytes (seeded with valid modules) to the
// compiler: it must refuse or accept, never panic, and close what it made.
func FuzzCompile(f *testing.F) {
	f.Add(answering("choose_server", "s2"))
	f.Add(wmodule{funcs: []wfunc{{export: "health", results: []byte{tI32}, body: retI32(1)}}}.encode())
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, bin []byte) {
		path := filepath.Join(dir, "m.wasm")
		if err := os.WriteFile(path, bin, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Compile(core.PolicySpec{Path: path})
		if err != nil {
			return
		}
		if p.Close() != nil || p.Instances() != 0 {
			t.Fatal("close left instances")
		}
	})
}
