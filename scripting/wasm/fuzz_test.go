package wasm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/varde-lb/varde/core"
)

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
