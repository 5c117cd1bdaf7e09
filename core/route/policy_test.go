package route

import (
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
)

type chooserFunc func(core.Request) (string, bool)

func (f chooserFunc) ChooseBackend(r core.Request) (string, bool) { return f(r) }

func TestPolicyChooser(t *testing.T) {
	builtin := New(nil, "web")
	known := func(b string) bool { return b == "web" || b == "canary" }
	tests := []struct {
		name   string
		policy chooserFunc
		want   string
		stats  core.FallbackStats
	}{
		{"policy choice", func(core.Request) (string, bool) { return "canary", true }, "canary", core.FallbackStats{}},
		{"declines", func(core.Request) (string, bool) { return "", false }, "web", core.FallbackStats{Declined: 1}},
		{"unknown backend", func(core.Request) (string, bool) { return "ghost", true }, "web", core.FallbackStats{Rejected: 1}},
		{"panics", func(core.Request) (string, bool) { panic("bug") }, "web", core.FallbackStats{Panics: 1}},
	}
	for _, tt := range tests {
		pc := &PolicyChooser{Policy: tt.policy, Builtin: builtin, Known: known}
		got, ok := pc.ChooseBackend(acltest.New("GET", "/"))
		if !ok || got != tt.want {
			t.Errorf("%s: got %q,%v want %q", tt.name, got, ok, tt.want)
		}
		if pc.Stats() != tt.stats {
			t.Errorf("%s: stats %+v want %+v", tt.name, pc.Stats(), tt.stats)
		}
	}
	pc := &PolicyChooser{Policy: chooserFunc(func(core.Request) (string, bool) { return "canary", true }), Builtin: builtin, Known: known}
	r := acltest.New("GET", "/")
	if n := testing.AllocsPerRun(500, func() { pc.ChooseBackend(r) }); n != 0 {
		t.Errorf("ChooseBackend through a policy allocates %v", n)
	}
}
