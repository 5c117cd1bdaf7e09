package proxy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/generation"
)

// TestScriptRulesWithoutHost: lua.NAME rules with no scripting subsystem
// linked (this test binary has none) are refused, never run unbound.
func TestScriptRulesWithoutHost(t *testing.T) {
	for _, rule := range []string{"http-request lua.tag", "http-request use-service lua.svc", "http-response lua.tag"} {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "h.cfg")
		os.WriteFile(cfg, []byte("defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend f\n    bind 127.0.0.1:1\n    "+rule+"\n    default_backend b\nbackend b\n    server s 127.0.0.1:2\n"), 0o644)
		g, d := generation.Load([]string{cfg}, os.Getenv, generation.Options{})
		g.Close()
		if err := d.Err(); err == nil || !strings.Contains(err.Error(), "no lua-load script registered it") {
			t.Errorf("%s: got %v", rule, err)
		}
	}
}
