// Package policies_test runs every ready-made policy against its vectors
// file (NAME.lua with NAME.vectors.json), as `varde policy test` does.
package policies_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/scripting/haproxylua"
	"github.com/varde-lb/varde/scripting/vectors"

	_ "github.com/varde-lb/varde/scripting/lua"
)

func TestReadyMadePolicies(t *testing.T) {
	scripts, _ := filepath.Glob("*.lua")
	if len(scripts) < 7 {
		t.Fatalf("found %d scripts, want the 5 ready-made policies and the 2 lua-load scripts", len(scripts))
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(script, ".lua")
		if _, ok := luaLoadScripts[script]; ok {
			continue // TestLuaLoadScripts
		}
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

// luaLoadScripts are the ready-made HAProxy Lua scripts (lua-load), with
// what each registers. They answer requests themselves, which a policy
// cannot; cmd/varde TestLuaLoadPolicies runs them under HAProxy 2.6 and a
// varde process and compares the answers.
var luaLoadScripts = map[string]struct{ action, service string }{
	"rate-limit.lua":  {action: "rate_limit"},
	"maintenance.lua": {service: "maintenance"},
}

// TestLuaLoadScripts loads each lua-load script as varde's check does (the
// API scan, the 5.3 syntax check, the sandbox) and checks its registration.
func TestLuaLoadScripts(t *testing.T) {
	for script, want := range luaLoadScripts {
		t.Run(script, func(t *testing.T) {
			abs, _ := filepath.Abs(script)
			c := &config.Config{}
			c.Global.LuaLoad = []*config.LuaLoad{{File: abs}}
			h, errs := haproxylua.NewHost(c, nil)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			defer h.Close()
			if want.action != "" {
				if ok, kind := h.HasAction(want.action, false); !ok || !kind {
					t.Errorf("no http-req action %q", want.action)
				}
			}
			if want.service != "" {
				if ok, http := h.HasService(want.service); !ok || !http {
					t.Errorf("no http service %q", want.service)
				}
			}
		})
	}
}
