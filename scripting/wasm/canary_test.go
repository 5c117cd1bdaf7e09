package wasm

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/scripting"
)

// TestCanaryChooseServer runs policies/wasm/canary (built from Go source)
// through core.Policy: forced choices by header and cookie, the stable
// percentage split, the shared-table override, and no opinion when the
// wanted group has no usable server.
func TestCanaryChooseServer(t *testing.T) {
	p := compileT(t, goPolicy(t, "canary"), 0)
	if d := cmp.Diff([]string{"choose_server"}, p.Entries()); d != "" {
		t.Fatalf("entries (-want +got)\n%s", d)
	}
	if p.BackendChooser() != nil || p.Stickiness() != nil || p.HealthJudge() != nil {
		t.Fatal("accessors of entry points the module does not export must be nil")
	}
	pool := servers("s1", "canary1", "s2", "canary2", "s3")
	sc := p.ServerChooser()
	sc.Update(pool)
	pick := func(r *fakeReq) string {
		s := sc.Pick(&core.PickContext{Req: r, Src: r.src.Addr()})
		if s == nil {
			return ""
		}
		return s.Name
	}
	tests := []struct {
		name string
		req  *fakeReq
		want string // prefix
	}{
		{"header always", req("10.0.0.1:1", "X-Canary", "always"), "canary"},
		{"header ALWAYS", req("10.0.0.1:1", "x-canary", "ALWAYS"), "canary"},
		{"cookie always", req("10.0.0.1:1", "Cookie", "a=1; canary=always; b=2"), "canary"},
		{"header never", req("10.0.0.1:1", "X-Canary", "never"), "s"},
		{"plain", req("10.0.0.1:1"), "s"},
	}
	for _, tt := range tests {
		if got := pick(tt.req); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: picked %q, want %s*", tt.name, got, tt.want)
		}
	}
	// The split by uid is canary.lua's: varde.hash(uid) % 100 < 5, with
	// varde.hash the low 32 bits of xxHash64.
	for i := range 300 {
		uid := fmt.Sprintf("u%d", i)
		want := uint32(xxhash.Sum64String(uid))%100 < 5
		got := strings.HasPrefix(pick(req("10.0.0.9:1", "Cookie", "uid="+uid)), "canary")
		if got != want {
			t.Errorf("uid=%s: canary %v, want %v", uid, got, want)
		}
	}
	// Within a side, the least busy usable server.
	pool[0].Active.Store(3)
	pool[2].Active.Store(1)
	pool[4].Active.Store(2)
	if got := pick(req("10.0.0.1:1", "X-Canary", "never")); got != "s2" {
		t.Errorf("least active of s1=3 s2=1 s3=2: %s", got)
	}
	share := func() int {
		n := 0
		for i := range 1000 {
			if strings.HasPrefix(pick(req(fmt.Sprintf("10.1.%d.%d:1", i/250, i%250))), "canary") {
				n++
			}
		}
		return n
	}
	if n := share(); n < 20 || n > 90 {
		t.Errorf("default split sent %d of 1000 clients to canary, want about 5%%", n)
	}
	p.SetVar("percent", 100.0) // as the admin socket sets a number
	if n := share(); n != 1000 {
		t.Errorf("percent=100 sent %d of 1000 to canary", n)
	}
	p.SharedTable().Set("percent", "0", 0)
	if n := share(); n != 0 {
		t.Errorf("percent=0 sent %d of 1000 to canary", n)
	}
	// No usable canary: no opinion, counted as declined.
	pool[1].SetHealth(core.HealthDown)
	pool[3].SetHealth(core.HealthDown)
	e := p.Stats().Entry("choose_server")
	before := e.Declined.Load()
	if got := pick(req("10.0.0.1:1", "X-Canary", "always")); got != "" {
		t.Errorf("no usable canary: picked %q, want no opinion", got)
	}
	if e.Declined.Load() != before+1 || e.ErrorTotal() != 0 {
		t.Errorf("declined %d->%d, errors %v", before, e.Declined.Load(), e.Errors())
	}
	if e.Calls.Load() < 3000 || e.P99() == 0 {
		t.Errorf("calls %d p99 %v", e.Calls.Load(), e.P99())
	}
	_ = scripting.ReasonError
}

// TestLeastconnAndHealth runs policies/wasm/leastconn: the least loaded
// server per weight, and health() overruling a 429 probe.
func TestLeastconnAndHealth(t *testing.T) {
	p := compileT(t, goPolicy(t, "leastconn"), 0)
	if d := cmp.Diff([]string{"choose_server", "health"}, p.Entries()); d != "" {
		t.Fatalf("entries (-want +got)\n%s", d)
	}
	pool := servers("a", "b", "c")
	pool[0].Active.Store(4)
	pool[1].Active.Store(6)
	pool[1].SetWeight(3) // 2 per weight unit
	pool[2].Active.Store(3)
	sc := p.ServerChooser()
	sc.Update(pool)
	if s := sc.Pick(&core.PickContext{}); s == nil || s.Name != "b" {
		t.Errorf("picked %v, want b (6/3 < 3/1 < 4/1)", s)
	}
	pool[1].SetAdmin(core.AdminMaint)
	if s := sc.Pick(&core.PickContext{}); s == nil || s.Name != "c" {
		t.Errorf("b in maintenance: picked %v, want c", s)
	}
	hj := p.HealthJudge()
	tests := []struct {
		r    core.CheckResult
		want bool
	}{
		{core.CheckResult{OK: false, Status: "L7STS", Code: 429}, true},
		{core.CheckResult{OK: false, Status: "L7STS", Code: 503}, false},
		{core.CheckResult{OK: true, Status: "L7OK", Code: 200}, true},
		{core.CheckResult{OK: false, Status: "L4CON"}, false},
	}
	for _, tt := range tests {
		if got := hj.Judge(pool[0].View(), tt.r); got != tt.want {
			t.Errorf("health(%+v) = %v, want %v", tt.r, got, tt.want)
		}
	}
	if e := p.Stats().Entry("health"); e.Calls.Load() != 4 || e.Declined.Load() != 3 {
		t.Errorf("health calls %d declined %d, want 4 and 3", e.Calls.Load(), e.Declined.Load())
	}
}
