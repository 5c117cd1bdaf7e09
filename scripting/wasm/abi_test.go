package wasm

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/scripting"
)

// TestHostABI asks the echo guest for each request field and host service
// through choose_backend: what the guest library reads must be what the
// request view holds.
func TestHostABI(t *testing.T) {
	p := compileT(t, goGuest(t, "echo"), 0)
	if d := cmp.Diff([]string{"choose_backend", "choose_server", "sticky_key", "health"}, p.Entries()); d != "" {
		t.Fatalf("entries (-want +got)\n%s", d)
	}
	bc := p.BackendChooser()
	ask := func(q string, hdr ...string) string {
		r := req("192.0.2.7:4711", append([]string{"X-Ask", q, "Host", "example.com",
			"Cookie", "a=1; uid=u-42", "Cookie", "theme=dark", "X-Long", strings.Repeat("y", 3000)}, hdr...)...)
		r.method, r.path, r.query, r.tls = []byte("POST"), []byte("/api/v1"), []byte("x=1&y=2"), true
		name, ok := bc.ChooseBackend(r)
		if !ok {
			return "<declined>"
		}
		return name
	}
	p.SharedTable().Set("n", 41.0, 0)
	tests := []struct{ ask, want string }{
		{"method", "POST"},
		{"path", "/api/v1"},
		{"query", "x=1&y=2"},
		{"host", "example.com"},
		{"src", "192.0.2.7"},
		{"ssl", "true"},
		{"header:host", "example.com"},
		{"header:X-LONG", strings.Repeat("y", 3000)},
		{"header:nope", "<absent>"},
		{"cookie:uid", "u-42"},
		{"cookie:theme", "dark"},
		{"cookie:nope", "<absent>"},
		{"fetch:req.hdr(host),upper", "EXAMPLE.COM"},
		{"fetch:url_param(y)", "2"},
		{"fetch:src", "192.0.2.7"},
		{"fetch:no_such_fetch", "<absent>"},
		{"get:n", "41"},
		{"incr:n", "42"},
		{"get:n", "42"},
		{"set:color=blue", "true"},
		{"get:color", "blue"},
		{"get:nope", "<absent>"},
		{"log:hello from a policy", "logged"},
		{"big", strings.Repeat("x", 5000)},
	}
	for _, tt := range tests {
		if got := ask(tt.ask); got != tt.want {
			t.Errorf("ask %q = %.60q, want %.60q", tt.ask, got, tt.want)
		}
	}
	if got := ask(""); got != "<declined>" {
		t.Errorf("empty result = %q, want a decline", got)
	}
	if e := p.Stats().Entry("choose_backend"); e.ErrorTotal() != 0 {
		t.Errorf("errors %v", e.Errors())
	}
}

// TestStickyKey binds keys to usable servers by rendezvous hashing: the
// same key the same server, keys spread, a server leaving moves only its
// own keys, no key or no usable server declines.
func TestStickyKey(t *testing.T) {
	p := compileT(t, goGuest(t, "echo"), 0)
	st := p.Stickiness()
	pool := servers("a", "b", "c", "d")
	where := map[string]string{}
	count := map[string]int{}
	for i := range 400 {
		k := "user-" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		s := st.Lookup(req("10.0.0.1:1", "X-Key", k), pool)
		if s == nil {
			t.Fatalf("key %s: no server", k)
		}
		if again := st.Lookup(req("10.0.0.2:1", "X-Key", k), pool); again != s {
			t.Fatalf("key %s moved from %s to %v", k, s.Name, again)
		}
		where[k] = s.Name
		count[s.Name]++
	}
	for _, s := range pool {
		if count[s.Name] < 50 {
			t.Errorf("server %s got %d of 400 keys: %v", s.Name, count[s.Name], count)
		}
	}
	pool[1].SetAdmin(core.AdminMaint)
	for k, was := range where {
		s := st.Lookup(req("10.0.0.1:1", "X-Key", k), pool)
		if was != "b" && s.Name != was {
			t.Errorf("key %s moved from %s to %s when b left", k, was, s.Name)
		}
		if s.Name == "b" {
			t.Errorf("key %s still on b in maintenance", k)
		}
	}
	if s := st.Lookup(req("10.0.0.1:1"), pool); s != nil {
		t.Errorf("no key: got %s, want a decline", s.Name)
	}
	for _, s := range pool {
		s.SetHealth(core.HealthDown)
	}
	if s := st.Lookup(req("10.0.0.1:1", "X-Key", "k"), pool); s != nil {
		t.Errorf("no usable server: got %s", s.Name)
	}
}

// TestHealthAndServerFields: health sees the judged server and the probe;
// choose_server's per-field and bulk reads agree.
func TestHealthAndServerFields(t *testing.T) {
	p := compileT(t, goGuest(t, "echo"), 0)
	hj := p.HealthJudge()
	web1 := core.ServerView{Name: "web1", Weight: 1, Up: true}
	tests := []struct {
		name string
		r    core.CheckResult
		want bool
	}{
		{"429 is up", core.CheckResult{Status: "L7STS", Code: 429}, true},
		{"degraded body is down", core.CheckResult{OK: true, Status: "L7OK", Code: 200, Info: "status: degraded"}, false},
		{"no opinion keeps ok", core.CheckResult{OK: true, Status: "L7OK", Code: 200}, true},
		{"no opinion keeps down", core.CheckResult{Status: "L4CON"}, false},
		{"wrong verdict keeps probe", core.CheckResult{OK: true, Status: "L7STS", Code: 418}, true},
	}
	for _, tt := range tests {
		if got := hj.Judge(web1, tt.r); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if e := p.Stats().Entry("health"); e.Errors()[scripting.ReasonType] != 1 {
		t.Errorf("health errors %v, want one type error", e.Errors())
	}
	sc := p.ServerChooser()
	pool := servers("x", "y", "z")
	pool[2].Active.Store(7)
	pool[2].SetWeight(5)
	sc.Update(pool)
	for i, want := range []string{"x", "y", "z"} {
		s := sc.Pick(&core.PickContext{Req: req("10.0.0.1:1", "X-Index", string(rune('0'+i)))})
		if s == nil || s.Name != want {
			t.Errorf("index %d: %v, want %s", i, s, want)
		}
	}
	if e := p.Stats().Entry("choose_server"); e.ErrorTotal() != 0 {
		t.Errorf("choose_server errors %v (unknown means the guest saw fields disagree)", e.Errors())
	}
	// mode tcp: no request, the client address still reaches src.
	bc := p.BackendChooser()
	if _, ok := bc.ChooseBackend(nil); ok {
		t.Error("nil request: want a decline")
	}
	_ = netip.Addr{}
}
