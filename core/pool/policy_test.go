package pool

import (
	"net/netip"
	"testing"

	"github.com/varde-lb/varde/core"
)

// scripted returns whatever its verdict function says, like a policy would.
type scripted struct {
	verdict func(pool []*core.Server) *core.Server
	pool    []*core.Server
}

func (s *scripted) Update(pool []*core.Server)              { s.pool = pool }
func (s *scripted) Pick(ctx *core.PickContext) *core.Server { return s.verdict(s.pool) }

func TestPolicyFallback(t *testing.T) {
	ss := servers() // a1, b1(backup), a2, b2, b3
	stranger := core.NewServer("other", "x", 1, netip.MustParseAddrPort("127.0.0.1:2"), 1, 0)
	tests := []struct {
		name    string
		verdict func([]*core.Server) *core.Server
		ctx     *core.PickContext
		want    string
		stats   core.FallbackStats
		note    string // the verdict noted for the log (policy.verdict)
	}{
		{"policy choice", func(p []*core.Server) *core.Server { return p[len(p)-1] }, &core.PickContext{}, "a2", core.FallbackStats{}, "a2"},
		{"declines", func([]*core.Server) *core.Server { return nil }, &core.PickContext{}, "a1", core.FallbackStats{Declined: 1}, "declined"},
		{"not in pool", func([]*core.Server) *core.Server { return stranger }, &core.PickContext{}, "a1", core.FallbackStats{Rejected: 1}, "fallback:unusable"},
		{"backup while actives up", func([]*core.Server) *core.Server { return ss[1] }, &core.PickContext{}, "a1", core.FallbackStats{Rejected: 1}, "fallback:unusable"},
		{"excluded", func(p []*core.Server) *core.Server { return p[0] }, &core.PickContext{Exclude: ss[0]}, "a2", core.FallbackStats{Rejected: 1}, "fallback:unusable"},
		{"panics", func([]*core.Server) *core.Server { panic("script bug") }, &core.PickContext{}, "a1", core.FallbackStats{Panics: 1}, "fallback:panic"},
	}
	for _, tt := range tests {
		pb := WithPolicy(&scripted{verdict: tt.verdict}, &recorder{})
		p := New("be", ss, pb, false)
		req := &notedReq{note: "stale"}
		tt.ctx.Req = req
		s := p.Pick(tt.ctx)
		if req.note != tt.note {
			t.Errorf("%s: noted %q, want %q", tt.name, req.note, tt.note)
		}
		if s == nil || s.Name != tt.want {
			t.Errorf("%s: got %v, want %s", tt.name, s, tt.want)
		}
		if got := pb.Stats(); got != tt.stats {
			t.Errorf("%s: stats %+v, want %+v", tt.name, got, tt.stats)
		}
	}
}

// notedReq keeps the policy's note, as the engine's request view does.
type notedReq struct {
	core.Request
	note string
}

func (r *notedReq) NotePolicy(v string) { r.note = v }
func (r *notedReq) PolicyNote() string  { return r.note }

func TestPolicyZeroAlloc(t *testing.T) {
	pb := WithPolicy(&scripted{verdict: func(p []*core.Server) *core.Server { return p[1] }}, &recorder{})
	p := New("be", servers(), pb, false)
	ctx := &core.PickContext{Req: &notedReq{}}
	if n := testing.AllocsPerRun(1000, func() { p.Pick(ctx) }); n != 0 {
		t.Errorf("Pick through a policy allocates %v", n)
	}
}
