package route

import (
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
)

type chooserFunc func(core.Request) (string, bool)

func (f chooserFunc) ChooseBackend(r core.Request) (string, bool) { return f(r) }

// notedReq is a request view that keeps the policy's note, as the
// engine's does (core.PolicyNoter).
type notedReq struct {
	core.Request
	note string
}

func (r *notedReq) NotePolicy(v string) { r.note = v }
func (r *notedReq) PolicyNote() string  { return r.note }

func TestPolicyChooser(t *testing.T) {
	builtin := New(nil, "web")
	known := func(b string) bool { return b == "web" || b == "canary" }
	tests := []struct {
		name   string
		policy chooserFunc
		want   string
		stats  core.FallbackStats
		note   string
	}{
		{"policy choice", func(core.Request) (string, bool) { return "canary", true }, "canary", core.FallbackStats{}, "canary"},
		{"declines", func(core.Request) (string, bool) { return "", false }, "web", core.FallbackStats{Declined: 1}, "declined"},
		{"engine noted why", func(r core.Request) (string, bool) {
			core.NotePolicy(r, core.PolicyFallback("timeout"))
			return "", false
		}, "web", core.FallbackStats{Declined: 1}, "fallback:timeout"},
		{"unknown backend", func(core.Request) (string, bool) { return "ghost", true }, "web", core.FallbackStats{Rejected: 1}, "fallback:unknown"},
		{"panics", func(core.Request) (string, bool) { panic("bug") }, "web", core.FallbackStats{Panics: 1}, "fallback:panic"},
	}
	for _, tt := range tests {
		pc := &PolicyChooser{Policy: tt.policy, Builtin: builtin, Known: known}
		req := &notedReq{Request: acltest.New("GET", "/"), note: "stale"}
		got, ok := pc.ChooseBackend(req)
		if !ok || got != tt.want {
			t.Errorf("%s: got %q,%v want %q", tt.name, got, ok, tt.want)
		}
		if pc.Stats() != tt.stats {
			t.Errorf("%s: stats %+v want %+v", tt.name, pc.Stats(), tt.stats)
		}
		if req.note != tt.note {
			t.Errorf("%s: note %q want %q", tt.name, req.note, tt.note)
		}
	}
	pc := &PolicyChooser{Policy: chooserFunc(func(core.Request) (string, bool) { return "canary", true }), Builtin: builtin, Known: known}
	r := &notedReq{Request: acltest.New("GET", "/")}
	if n := testing.AllocsPerRun(500, func() { pc.ChooseBackend(r) }); n != 0 {
		t.Errorf("ChooseBackend through a policy allocates %v", n)
	}
}
