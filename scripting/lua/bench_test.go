package lua

import (
	"os"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
)

const canaryLike = `
function choose_backend(req)
  if req:header("x-canary") == "always" then return "canary" end
  local k = req:cookie("uid") or req.src
  local h = 0
  for i = 1, #k do h = (h * 31 + k:byte(i)) % 1000003 end
  if h % 100 < 5 then return "canary" end
  return nil
end`

func BenchmarkChooseBackend(b *testing.B) {
	p := mustCompile(b, canaryLike, core.PolicySpec{})
	bc := p.BackendChooser()
	req := acltest.New("GET", "/", "Host: x", "Cookie: uid=abcdef0123")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		bc.ChooseBackend(req)
	}
}

// BenchmarkChooseBackendNoDeadline is the same call without the
// per-instruction deadline check, to measure what the check costs.
func BenchmarkChooseBackendNoDeadline(b *testing.B) {
	p := mustCompile(b, canaryLike, core.PolicySpec{})
	st := p.get()
	st.L.RemoveContext()
	p.pool.Put(st)
	bc := p.BackendChooser()
	req := acltest.New("GET", "/", "Host: x", "Cookie: uid=abcdef0123")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		st := p.get()
		st.L.RemoveContext()
		p.pool.Put(st)
		bc.ChooseBackend(req)
	}
}

func BenchmarkChooseServer(b *testing.B) {
	p := mustCompile(b, `
function choose_server(req, servers)
  local best
  for _, s in ipairs(servers) do
    if best == nil or s.active < best.active then best = s end
  end
  return best.name
end`, core.PolicySpec{})
	sc := p.ServerChooser()
	sc.Update(servers("a", "b", "c", "d"))
	ctx := &core.PickContext{Req: acltest.New("GET", "/")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sc.Pick(ctx)
	}
}

func BenchmarkStickyKey(b *testing.B) {
	p := mustCompile(b, `function sticky_key(req) return req:cookie("uid") end`, core.PolicySpec{})
	st := p.Stickiness()
	all := servers("a", "b", "c", "d")
	req := acltest.New("GET", "/", "Cookie: uid=abcdef0123")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		st.Lookup(req, all)
	}
}

func BenchmarkHealth(b *testing.B) {
	p := mustCompile(b, `function health(server, r) if r.code == 429 then return true end return nil end`, core.PolicySpec{})
	j := p.HealthJudge()
	r := core.CheckResult{OK: true, Code: 200, Status: "L7OK"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		j.Judge(core.ServerView{Name: "a"}, r)
	}
}

var _ = lua.LNil

// BenchmarkNewState is what a state costs when the pool must make one
// (first use on a P, or after two garbage collections without use).
func BenchmarkNewState(b *testing.B) {
	p := mustCompile(b, canaryLike, core.PolicySpec{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.newState(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCanaryPolicy is policies/canary.lua's choose_server over two
// servers, as in `varde-bench -policy`.
func BenchmarkCanaryPolicy(b *testing.B) {
	src, err := os.ReadFile("../../policies/canary.lua")
	if err != nil {
		b.Fatal(err)
	}
	p := mustCompile(b, string(src), core.PolicySpec{})
	sc := p.ServerChooser()
	sc.Update(servers("n1", "n2"))
	ctx := &core.PickContext{Req: acltest.New("GET", "/", "Host: bench")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sc.Pick(ctx)
	}
}

// BenchmarkEmptyCall is the fixed cost of a call: pool, deadline, PCall,
// pushing req and the cached servers list.
func BenchmarkEmptyCall(b *testing.B) {
	p := mustCompile(b, `function choose_server(req, servers) return nil end`, core.PolicySpec{})
	sc := p.ServerChooser()
	sc.Update(servers("n1", "n2"))
	ctx := &core.PickContext{Req: acltest.New("GET", "/")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sc.Pick(ctx)
	}
}
