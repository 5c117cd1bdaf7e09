package haproxylua_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/generation"
	_ "github.com/varde-lb/varde/plugins/all"
)

// TestCheckReferences: every place a lua.NAME can hide in a configuration
// is checked against the scripts' registrations, at its line.
func TestCheckReferences(t *testing.T) {
	script := `core.register_action("act", {"http-req"}, function(txn) end)
core.register_action("resact", {"http-res"}, function(txn) end)
core.register_service("svc", "http", function(applet) applet:start_response() end)
core.register_service("tcpsvc", "tcp", function(applet) end)
core.register_fetches("f", function(txn) return "x" end)
core.register_converters("c", function(s) return s end)
`
	cases := []struct {
		name, lines string
		want        string // "" valid, else a substring of the first error
	}{
		{"all registered", "    acl a lua.f -m str x\n    http-request lua.act if a\n    http-request use-service lua.svc if { path /s }\n    http-request set-header X %[lua.f,lua.c]\n    http-response lua.resact\n    use_backend %[lua.f] if { lua.f -m str b }\n", ""},
		{"unknown action", "    http-request lua.nope\n", `h.cfg:10: error: http-request lua: lua action "nope" is not registered`},
		{"request action in a response rule", "    http-response lua.act\n", `lua action "act" is not registered for http-response`},
		{"response action in a request rule", "    http-request lua.resact\n", `lua action "resact" is not registered for http-request`},
		{"unknown service", "    http-request use-service lua.nosvc\n", `lua service "nosvc" is not registered`},
		{"tcp service", "    http-request use-service lua.tcpsvc\n", `is a tcp service`},
		{"unknown fetch in an acl", "    acl a lua.nof -m found\n", `h.cfg:10: error: acl: lua fetch "nof" is not registered`},
		{"unknown fetch in an anonymous acl", "    http-request deny if { lua.nof -m found }\n", `lua fetch "nof" is not registered`},
		{"unknown converter in a header", "    http-request set-header X %[str(a),lua.noc]\n", `lua converter "noc" is not registered`},
		{"unknown fetch in a use_backend name", "    use_backend be_%[lua.nof]\n", `h.cfg:10: error: use_backend: lua fetch "nof"`},
		{"unknown fetch in a redirect", "    http-request redirect location /%[lua.nof]\n", `lua fetch "nof" is not registered`},
		{"lua fetch in log-format", "    log-format %[lua.f]\n", `not available in log-format`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "s.lua"), []byte(script), 0o644)
			cfg := "global\n    lua-load " + filepath.Join(dir, "s.lua") + "\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend f\n    bind 127.0.0.1:1\n" + c.lines + "    default_backend b\nbackend b\n    server s 127.0.0.1:1\n"
			os.WriteFile(filepath.Join(dir, "h.cfg"), []byte(cfg), 0o644)
			g, d := generation.Load([]string{filepath.Join(dir, "h.cfg")}, os.Getenv, generation.Options{})
			defer g.Close()
			var first string
			for _, it := range d.Items() {
				if it.Severity.String() == "error" {
					first = strings.ReplaceAll(it.String(), dir+"/", "")
					break
				}
			}
			if c.want == "" && first != "" || c.want != "" && !strings.Contains(first, c.want) {
				t.Fatalf("first error %q, want %q", first, c.want)
			}
		})
	}
}
