package proxy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

// varsLuaScript reads what set-var rules set and sets variables the
// rules after it read, in every scope.
const varsLuaScript = `
core.register_action("vars", {"http-req"}, function(txn)
  txn:set_var("txn.lua", "saw:" .. tostring(txn:get_var("txn.a")) .. "," .. tostring(txn:get_var("sess.s")) .. "," .. tostring(txn:get_var("sess.lua")))
  txn:set_var("req.lua", 42)
  txn:set_var("sess.lua", "s")
end)
core.register_action("resvars", {"http-res"}, function(txn)
  txn:set_var("res.lua", tostring(txn:get_var("req.lua")) .. "/" .. tostring(txn:get_var("txn.lua")))
end)
`

const varsLuaConfig = `global
    lua-load {{DIR}}/vars.lua
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{{PORT}}
    http-request set-var(txn.a) str(from-rule)
    http-request set-var(sess.s) str(sess-rule)
    http-request lua.vars
    http-request set-header X-Lua %[var(txn.lua)]
    http-request set-header X-Lua-Req %[var(req.lua)]
    http-request set-header X-Lua-Sess %[var(sess.lua)]
    http-response lua.resvars
    http-response set-header X-Res %[var(res.lua)]
    default_backend app
backend app
    server s1 {{BACKEND}}
`

// TestVarsSharedWithLuaHAProxy: set-var rules and a lua-load script see
// the same variables, in HAProxy 2.6 and in varde alike (req.lua is gone
// once the response is processed: nil in the response action).
func TestVarsSharedWithLuaHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	b, _ := backend(t, "echo", echoXHeaders)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "vars.lua"), []byte(varsLuaScript), 0o644)
	ports := testenv.FreePorts(t, 2)
	render := func(port int) string {
		return strings.ReplaceAll(renderVarsConfig(varsLuaConfig, port, hostport(b)), "{{DIR}}", dir)
	}
	hcfg, vcfg := filepath.Join(dir, "haproxy.cfg"), filepath.Join(dir, "varde.cfg")
	os.WriteFile(hcfg, []byte(render(ports[0])), 0o644)
	os.WriteFile(vcfg, []byte(render(ports[1])), 0o644)
	_, hlog := testenv.Start(t, haproxy, "-db", "-f", hcfg)
	_, vlog := testenv.Start(t, varde, "run", "-f", vcfg)
	testenv.WaitListening(t, "haproxy", hlog, ports[0])
	testenv.WaitListening(t, "varde", vlog, ports[1])
	reqs := [][]string{{"GET /a HTTP/1.1\r\nHost: h\r\n\r\n", "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"}}
	hOut := varsExchange(t, fmt.Sprintf("127.0.0.1:%d", ports[0]), reqs)
	vOut := varsExchange(t, fmt.Sprintf("127.0.0.1:%d", ports[1]), reqs)
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("answers differ (-haproxy +varde)\n%s", d)
	}
	if len(vOut) != 2 || !strings.Contains(vOut[1], "X-Lua: saw:from-rule,sess-rule,s") || !strings.Contains(vOut[0], `X-Res="nil/saw:from-rule`) {
		t.Errorf("variables not shared:\n%s", strings.Join(vOut, "\n"))
	}
}
