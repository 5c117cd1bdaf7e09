package lua

import (
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/scripting"
)

func write(t testing.TB, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "p.lua")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustCompile(t testing.TB, src string, spec core.PolicySpec) *Policy {
	t.Helper()
	spec.Path = write(t, src)
	p, err := compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func servers(names ...string) []*core.Server {
	var out []*core.Server
	for i, n := range names {
		s := core.NewServer("be", n, i+1, netip.MustParseAddrPort("127.0.0.1:1"), 1, 0)
		out = append(out, s)
	}
	return out
}

func TestChooseBackend(t *testing.T) {
	p := mustCompile(t, `
function choose_backend(req)
  if req:header("x-canary") == "always" then return "canary" end
  if req:cookie("grp") == "b" then return "b" end
  if req.path == "/api" and req.method == "POST" then return "api" end
  if req.query == "x=1" then return "nope" end
  if req:fetch("req.hdr(host),lower") == "svc.example" then return "svc" end
  return nil
end`, core.PolicySpec{Backends: []string{"canary", "b", "api", "svc"}})
	bc := p.BackendChooser()
	for _, tc := range []struct {
		req  *acltest.Request
		want string
		ok   bool
	}{
		{acltest.New("GET", "/", "X-Canary: always"), "canary", true},
		{acltest.New("GET", "/", "Cookie: a=1; grp=b"), "b", true},
		{acltest.New("POST", "/api"), "api", true},
		{acltest.New("GET", "/", "Host: SVC.example"), "svc", true},
		{acltest.New("GET", "/?x=1"), "", false},
		{acltest.New("GET", "/"), "", false},
	} {
		got, ok := bc.ChooseBackend(tc.req)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s %s: got %q %v, want %q %v", tc.req.M, tc.req.U, got, ok, tc.want, tc.ok)
		}
	}
	e := p.stats.Entry(EntryChooseBackend)
	if e.Calls.Load() != 6 || e.Declined.Load() != 1 || e.Errors()[scripting.ReasonUnknown] != 1 {
		t.Errorf("calls %d declined %d errors %v", e.Calls.Load(), e.Declined.Load(), e.Errors())
	}
}

func TestChooseServerAndFailures(t *testing.T) {
	src := `
function choose_server(req, servers)
  local m = req:header("x-mode")
  if m == "loop" then while true do end end
  if m == "alloc" then local t = {} local i = 0 while true do i = i + 1 t[i] = tostring(i) .. "xxxxxxxxxxxxxxxx" end end
  if m == "strbomb" then local s = "x" while true do s = s .. s end end
  if m == "rep" then return string.rep("x", 1e9) end
  if m == "error" then error("boom") end
  if m == "nilidx" then local x = nil; return x.y end
  if m == "type" then return {} end
  if m == "unknown" then return "zz" end
  if m == "down" then return "s3" end
  if m == "recurse" then local function f(n) return f(n+1)+1 end return f(1) end
  local best
  for _, s in ipairs(servers) do
    if best == nil or s.active < best.active or (s.active == best.active and s.name > best.name) then best = s end
  end
  return best.name
end`
	p := mustCompile(t, src, core.PolicySpec{Servers: []string{"s1", "s2", "s3"}, Timeout: 50 * time.Millisecond}) // generous: a loaded machine must not turn an error into a timeout
	all := servers("s1", "s2", "s3")
	sc := p.ServerChooser()
	sc.Update(all[:2])
	all[0].Active.Store(3)
	pick := func(mode string) *core.Server {
		return sc.Pick(&core.PickContext{Req: acltest.New("GET", "/", "X-Mode: "+mode)})
	}
	if s := pick(""); s == nil || s.Name != "s2" {
		t.Fatalf("pick = %v, want s2", s)
	}
	for _, tc := range []struct{ mode, reason string }{
		{"loop", scripting.ReasonTimeout}, {"alloc", scripting.ReasonTimeout}, {"strbomb", ""},
		{"rep", scripting.ReasonMemory}, {"error", scripting.ReasonError}, {"nilidx", scripting.ReasonError},
		{"type", scripting.ReasonType}, {"unknown", scripting.ReasonUnknown}, {"down", scripting.ReasonUnusable},
		{"recurse", ""},
	} {
		before := p.stats.Entry(EntryChooseServer).Errors()
		start := time.Now()
		if s := pick(tc.mode); s != nil {
			t.Errorf("%s: picked %s, want a fallback", tc.mode, s.Name)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("%s: took %v", tc.mode, d)
		}
		after := p.stats.Entry(EntryChooseServer).Errors()
		n := 0
		for r := range after {
			if after[r] != before[r] {
				n++
				if tc.reason != "" && r != tc.reason {
					t.Errorf("%s: counted %s, want %s", tc.mode, r, tc.reason)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d reasons counted, want 1 (%v -> %v)", tc.mode, n, before, after)
		}
	}
	if s := pick(""); s == nil || s.Name != "s2" {
		t.Fatalf("after failures pick = %v, want s2", s)
	}
}

func TestStickyKey(t *testing.T) {
	p := mustCompile(t, `function sticky_key(req) return req:header("x-user") end`, core.PolicySpec{})
	all := servers("a", "b", "c", "d")
	st := p.Stickiness()
	got := map[string]string{}
	for i := 0; i < 50; i++ {
		u := "user" + string(rune('A'+i))
		s := st.Lookup(acltest.New("GET", "/", "X-User: "+u), all)
		if s == nil {
			t.Fatal("no server")
		}
		got[u] = s.Name
		if s2 := st.Lookup(acltest.New("GET", "/", "X-User: "+u), all); s2 != s {
			t.Fatalf("%s: not stable", u)
		}
	}
	all[1].SetAdmin(core.AdminMaint)
	moved := 0
	for u, name := range got {
		s := st.Lookup(acltest.New("GET", "/", "X-User: "+u), all)
		if s.Name == "b" {
			t.Fatalf("%s bound to a server in maintenance", u)
		}
		if name != "b" && s.Name != name {
			moved++
		}
	}
	if moved != 0 {
		t.Errorf("%d keys moved although their server stayed", moved)
	}
	all[2].Cookie = "C1"
	if s := st.Lookup(acltest.New("GET", "/", "X-User: C1"), all); s != all[2] {
		t.Errorf("cookie-valued key -> %v, want c", s)
	}
	if s := st.Lookup(acltest.New("GET", "/"), all); s != nil {
		t.Errorf("nil key -> %v", s)
	}
}

func TestHealth(t *testing.T) {
	p := mustCompile(t, `
function health(server, result)
  if result.code == 429 then return true end
  if result.body:find("degraded", 1, true) then return false end
  if server.name == "bad" then return 42 end
  return nil
end`, core.PolicySpec{})
	j := p.HealthJudge()
	v := core.ServerView{Name: "s"}
	if !j.Judge(v, core.CheckResult{OK: false, Code: 429}) {
		t.Error("429 should be up")
	}
	if j.Judge(v, core.CheckResult{OK: true, Code: 200, Body: []byte("status: degraded")}) {
		t.Error("degraded should be down")
	}
	if !j.Judge(v, core.CheckResult{OK: true, Code: 200}) {
		t.Error("nil keeps the probe's verdict")
	}
	if j.Judge(core.ServerView{Name: "bad"}, core.CheckResult{OK: false}) {
		t.Error("wrong type keeps the probe's verdict")
	}
	if p.stats.Entry(EntryHealth).Errors()[scripting.ReasonType] != 1 {
		t.Error("type error not counted")
	}
}

func TestShared(t *testing.T) {
	p := mustCompile(t, `
function choose_backend(req)
  local n = shared.incr("hits", 1, 60)
  shared.set("last", req.path)
  if shared.get("color") then return shared.get("color") end
  return tostring(n)
end`, core.PolicySpec{})
	bc := p.BackendChooser()
	if b, _ := bc.ChooseBackend(acltest.New("GET", "/x")); b != "1" {
		t.Errorf("got %q", b)
	}
	if b, _ := bc.ChooseBackend(acltest.New("GET", "/x")); b != "2" {
		t.Errorf("got %q", b)
	}
	p.Shared().Set("color", "blue", 0)
	if b, _ := bc.ChooseBackend(acltest.New("GET", "/y")); b != "blue" {
		t.Errorf("got %q", b)
	}
	if v, _ := p.Shared().Get("last"); v != "/y" {
		t.Errorf("last = %v", v)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"function choose_backend(req)\n  return 7 // 2\nend", "p.lua:2: integer division"},
		{"local x = 1\nlocal y = x & 3", "p.lua:2: bitwise and"},
		{"-- a // b in a comment\nlocal s = 'a // b'\nfor i=1,2 do goto done end", "p.lua:3: goto"},
		{"function choose_backend(req)\n  return req:fetch(\"nosuchfetch\")\nend", "p.lua:2: req:fetch"},
		{"function choose_backend(req)\n  return (\nend", "p.lua:3:"},
		{"local x = 1", "defines none of the entry points"},
		{"choose_server = 3", "not a function"},
		{"while true do end", "top-level code"},
		{"x = io.open('/etc/passwd')", "p.lua:1:"},
		{"x = os.getenv('HOME')", "p.lua:1:"},
		{"require('os')", "p.lua:1:"},
		{"loadstring('return 1')", "p.lua:1:"},
	} {
		_, err := compile(core.PolicySpec{Path: write(t, tc.src)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestCompat(t *testing.T) {
	p := mustCompile(t, `
function choose_backend(req)
  local t = table.pack(1, 2, 3)
  local a, b, c = table.unpack(t)
  assert(t.n == 3 and a + b + c == 6)
  assert(math.tointeger(3.0) == 3 and math.tointeger(3.5) == nil)
  assert(math.type(1) == "integer" and math.type(1.5) == "float" and math.type("1") == nil)
  assert(string.rep("ab", 3, ",") == "ab,ab,ab")
  assert(string.format("%d-%5.2f-%s", 3, 1.5, "x") == "3- 1.50-x")
  assert(not pcall(string.format, "%d", 1.5))
  assert(not pcall(string.format, "%100d", 1))
  assert(_VERSION == "Lua 5.3")
  assert(io == nil and os == nil and debug == nil and package == nil and load == nil and dofile == nil and string.dump == nil)
  return "ok"
end`, core.PolicySpec{})
	if b, ok := p.BackendChooser().ChooseBackend(acltest.New("GET", "/")); b != "ok" || !ok {
		t.Fatalf("got %q %v; errors %v", b, ok, p.stats.Entry(EntryChooseBackend).Errors())
	}
}

// TestCompileCloseCycles: compiling and closing a policy many times leaves
// no goroutine behind and releases the shared table.
func TestCompileCloseCycles(t *testing.T) {
	path := write(t, `function choose_backend(req) while req.path == "/loop" do end return "b" end`)
	before := runtime.NumGoroutine()
	for i := 0; i < 200; i++ {
		p, err := compile(core.PolicySpec{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		p.BackendChooser().ChooseBackend(acltest.New("GET", "/"))
		p.BackendChooser().ChooseBackend(acltest.New("GET", "/loop"))
		p.Close()
	}
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("goroutines %d -> %d", before, after)
	}
	if scripting.SharedTables.Lookup(path) != nil {
		t.Error("shared table still held after the last Close")
	}
}

// TestConcurrentCalls runs entry points from many goroutines while the
// pool changes and some calls time out (go test -race).
func TestConcurrentCalls(t *testing.T) {
	p := mustCompile(t, `
function choose_server(req, servers)
  if req:header("x-slow") then while true do end end
  shared.incr("n", 1, 60)
  return servers[1 + varde.hash(req.path) % #servers].name
end
function choose_backend(req) return req:fetch("req.hdr(host)") end`, core.PolicySpec{Timeout: 2 * time.Millisecond})
	all := servers("a", "b", "c")
	sc, bc := p.ServerChooser(), p.BackendChooser()
	sc.Update(all)
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func(g int) {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 200; i++ {
				hdrs := []string{"Host: h" + string(rune('0'+g))}
				if i%50 == 0 {
					hdrs = append(hdrs, "X-Slow: 1")
				}
				req := acltest.New("GET", "/p"+string(rune('a'+i%26)), hdrs...)
				sc.Pick(&core.PickContext{Req: req})
				// a decline is allowed only as a timeout (checked below):
				// under -race on a loaded machine a call can exceed 2 ms
				if b, ok := bc.ChooseBackend(req); ok && b != "h"+string(rune('0'+g)) {
					t.Errorf("choose_backend = %q %v", b, ok)
					return
				}
				if i%20 == 0 {
					sc.Update(all[:2+i%2])
				}
			}
		}(g)
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	e := p.stats.Entry(EntryChooseServer)
	// 16 loops time out; on a loaded machine (or under -race) an ordinary
	// call may exceed 2 ms too, never fewer.
	if e.Calls.Load() != 800 || e.Errors()[scripting.ReasonTimeout] < 16 {
		t.Errorf("calls %d, timeouts %d; want 800, >= 16", e.Calls.Load(), e.Errors()[scripting.ReasonTimeout])
	}
	be := p.stats.Entry(EntryChooseBackend)
	if be.Calls.Load() != 800 || be.ErrorTotal() != be.Errors()[scripting.ReasonTimeout] || be.Declined.Load() != 0 {
		t.Errorf("choose_backend: calls %d, errors %v, declined %d; want 800 calls and no failure but timeouts",
			be.Calls.Load(), be.Errors(), be.Declined.Load())
	}
}

// req:var reads process-wide variables (`set var proc.NAME` on the admin
// socket, txn:set_var in a lua-load script); anything else is nil.
func TestReqVarReadsProcVars(t *testing.T) {
	p := mustCompile(t, `
function choose_backend(req)
  if req:var("proc.live_backend_test") ~= nil then return req:var("proc.live_backend_test") end
  if req:var("txn.x") ~= nil then return "txn" end
  return req:fetch("var(proc.fetched_test)")
end`, core.PolicySpec{Backends: []string{"green", "txn", "blue"}})
	bc := p.BackendChooser()
	t.Cleanup(func() { sample.UnsetProcVar("proc.live_backend_test") })
	if got, ok := bc.ChooseBackend(acltest.New("GET", "/")); ok {
		t.Fatalf("unset variable: chose %q", got)
	}
	var v sample.Value
	v.SetStr([]byte("green"))
	if !sample.SetProcVar("proc.live_backend_test", v) {
		t.Fatal("SetProcVar refused")
	}
	if got, ok := bc.ChooseBackend(acltest.New("GET", "/")); !ok || got != "green" {
		t.Fatalf("proc variable: got %q %v, want green", got, ok)
	}
	// the same variable through the sample engine (what WASM modules use)
	sample.UnsetProcVar("proc.live_backend_test")
	t.Cleanup(func() { sample.UnsetProcVar("proc.fetched_test") })
	v.SetStr([]byte("blue"))
	sample.SetProcVar("proc.fetched_test", v)
	if got, ok := bc.ChooseBackend(acltest.New("GET", "/")); !ok || got != "blue" {
		t.Fatalf("req:fetch(var(proc...)): got %q %v, want blue", got, ok)
	}
}
