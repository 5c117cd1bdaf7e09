// Package policies_test runs every ready-made policy against its vectors
// file (NAME.lua with NAME.vectors.json), as `varde policy test` does.
package policies_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/scripting/vectors"

	_ "github.com/varde-lb/varde/scripting/lua"
)

func TestReadyMadePolicies(t *testing.T) {
	scripts, _ := filepath.Glob("*.lua")
	if len(scripts) < 7 {
		t.Fatalf("found %d policies, want the 7 ready-made ones", len(scripts))
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(script, ".lua")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(name + ".vectors.json")
			if err != nil {
				t.Fatalf("every policy needs a vectors file: %v", err)
			}
			f, err := vectors.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if f.Timeout == "" {
				f.Timeout = "200ms" // the scripts are fast; -race on a loaded machine is not
			}
			abs, _ := filepath.Abs(script)
			results, err := vectors.Run(abs, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range results {
				if !r.Pass {
					t.Errorf("%s: %s", r.Name, strings.Join(r.Fails, "; "))
				}
			}
		})
	}
}
