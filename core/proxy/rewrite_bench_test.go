package proxy

import (
	"testing"

	"github.com/varde-lb/varde/core/config"
)

// rewriteBenchEngine is benchEngine with request and response rewrites:
// set-header, set-path with a fetch, replace-header, and on the response
// set-header, replace-value and set-status.
func rewriteBenchEngine(tb testing.TB) *rawClient {
	cfg := simpleConfig(rawBackend(tb), rawBackend(tb))
	actor := func(r *config.HTTPRule) *HTTPRule {
		a, err := actorBuilders[actionBase(r.Action)](r)
		if err != nil {
			tb.Fatal(err)
		}
		return &HTTPRule{Action: ActActor, Actor: a}
	}
	fe := cfg.Frontends[0]
	fe.HTTPRequest = []*HTTPRule{
		{Action: ActSetHeader, Name: "X-A", Value: "1"},
		actor(&config.HTTPRule{Action: "set-path", Value: "/v2%[path]"}),
		actor(&config.HTTPRule{Action: "replace-header", Name: "User-Agent", Regex: "^bench$", Value: `bench-x`}),
	}
	fe.HTTPResponse = []*HTTPRule{
		{Action: ActSetHeader, Name: "X-R", Value: "%[status]"},
		actor(&config.HTTPRule{Action: "replace-value", Name: "Content-Type", Regex: "^text/", Value: `text/plain`}),
		actor(&config.HTTPRule{Action: "set-status", Status: 200}),
	}
	for _, r := range append(fe.HTTPRequest, fe.HTTPResponse...) {
		if err := r.compile(); err != nil {
			tb.Fatal(err)
		}
	}
	_, addr := startEngine(tb, cfg)
	rc := newRawClient(tb, addr)
	for i := 0; i < 100; i++ {
		rc.do(tb)
	}
	return rc
}

func BenchmarkProxiedGETRewrite(b *testing.B) {
	rc := rewriteBenchEngine(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rc.do(b)
	}
}

// TestRewriteAllocs: once warm, rewriting both messages allocates nothing
// more than the fast path (the session's edit buffers are reused). A
// format with back-references costs one small slice per match (Go's
// regexp has no allocation-free submatch call); these formats have none.
func TestRewriteAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("alloc measurement")
	}
	rc := rewriteBenchEngine(t)
	if n := testing.AllocsPerRun(300, func() { rc.do(t) }); n > 0 {
		t.Fatalf("%.2f allocations per rewritten GET, want 0", n)
	}
}
