package lua

import (
	"os"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
)

// TestLiveFieldsPerCall: the live fields a script names are copied when a
// call starts (srvRef.refresh), so each call sees the values of its time,
// and a field read by a computed key still goes through the Go __index.
func TestLiveFieldsPerCall(t *testing.T) {
	p := mustCompile(t, `
function choose_server(req, servers)
  local s = servers[1]
  local k = "wei" .. "ght"
  if s.active == 7 and s.up == false and s[k] == 3 and s.rtime == 1.5 then return "b" end
  if s.active == 0 and s.up then return "a" end
  return nil
end`, core.PolicySpec{})
	sc := p.ServerChooser()
	all := servers("a", "b")
	sc.Update(all)
	ctx := &core.PickContext{Req: acltest.New("GET", "/")}
	pick := func() string {
		t.Helper()
		s := sc.Pick(ctx)
		if s == nil {
			return ""
		}
		return s.Name
	}
	all[0].SetHealth(core.HealthUp)
	if got := pick(); got != "a" {
		t.Fatalf("first call picked %q, want a", got)
	}
	all[0].Active.Store(7)
	all[0].SetHealth(core.HealthDown)
	all[0].SetWeight(3)
	all[0].RTime.Store(1500000)
	if got := pick(); got != "b" {
		t.Fatalf("after the change picked %q, want b (stale live fields?)", got)
	}
	all[0].Active.Store(0)
	all[0].SetHealth(core.HealthUp)
	if got := pick(); got != "a" {
		t.Fatalf("after the change back picked %q, want a", got)
	}
	if !equalInts(p.live, []int{0, 2, 5}) {
		t.Errorf("live fields named = %v, want active rtime up (weight is read by a computed key)", p.live)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSrcPerCall: req.src follows each call's client, cached or not.
func TestSrcPerCall(t *testing.T) {
	p := mustCompile(t, `function choose_backend(req) return req.src end`, core.PolicySpec{})
	bc := p.BackendChooser()
	for _, tc := range []struct{ src, want string }{
		{"192.0.2.1:1000", "192.0.2.1"},
		{"192.0.2.1:2000", "192.0.2.1"},
		{"[::ffff:198.51.100.7]:80", "198.51.100.7"},
		{"[2001:db8::1]:443", "2001:db8::1"},
		{"192.0.2.1:1000", "192.0.2.1"},
	} {
		got, ok := bc.ChooseBackend(acltest.New("GET", "/").WithSrc(tc.src))
		if !ok || got != tc.want {
			t.Errorf("src %s: got %q %v, want %q", tc.src, got, ok, tc.want)
		}
	}
	// mode tcp without a client address: nil, not the last one
	if got, ok := bc.ChooseBackend(nil); ok {
		t.Errorf("no request: got %q, want a decline", got)
	}
}

// TestIpairs: the sandbox's allocation-free ipairs keeps Lua's meaning.
func TestIpairs(t *testing.T) {
	p := mustCompile(t, `
function choose_backend(req)
  local t = {}
  for i = 1, 2000 do t[i] = i * 2 end
  t[1500] = nil
  local n, sum = 0, 0
  for i, v in ipairs(t) do n = n + 1; sum = sum + v; assert(v == i * 2) end
  if n ~= 1499 or sum ~= 1499 * 1500 then return "bad" .. n end
  for _ in ipairs({}) do return "bad-empty" end
  if pcall(ipairs, nil) then return "bad-nil" end
  return "ok"
end`, core.PolicySpec{Timeout: time.Second})
	if got, ok := p.BackendChooser().ChooseBackend(acltest.New("GET", "/")); !ok || got != "ok" {
		t.Fatalf("got %q %v, want ok", got, ok)
	}
}

// TestCanaryAllocs bounds the garbage of policies/canary.lua's
// choose_server: varde.hash's number is the one allocation left.
func TestCanaryAllocs(t *testing.T) {
	if raceOn {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	src, err := os.ReadFile("../../policies/canary.lua")
	if err != nil {
		t.Fatal(err)
	}
	p := mustCompile(t, string(src), core.PolicySpec{Timeout: time.Second})
	sc := p.ServerChooser()
	all := servers("n1", "n2")
	sc.Update(all)
	ctx := &core.PickContext{Req: acltest.New("GET", "/", "Host: bench")}
	sc.Pick(ctx)
	if n := testing.AllocsPerRun(200, func() { sc.Pick(ctx) }); n > 1 {
		t.Errorf("canary.lua choose_server: %v allocations per call, want <= 1", n)
	}
}
