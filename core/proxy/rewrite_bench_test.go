package proxy

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/acl"
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
	if testing.Short() || raceEnabled {
		t.Skip("alloc measurement (the race detector drops pooled items)")
	}
	rc := rewriteBenchEngine(t)
	if n := testing.AllocsPerRun(300, func() { rc.do(t) }); n > 0 {
		t.Fatalf("%.2f allocations per rewritten GET, want 0", n)
	}
}

// TestRewriteH2: an HTTP/2 stream goes through the same rewrites: the
// server reads the new path and the set-header value a later rule tested,
// and the client gets the rewritten response.
func TestRewriteH2(t *testing.T) {
	be, beAddr := startRawBackend(t)
	cfg := simpleConfig(beAddr)
	actor := func(r *config.HTTPRule) *HTTPRule {
		a, err := actorBuilders[actionBase(r.Action)](r)
		if err != nil {
			t.Fatal(err)
		}
		return &HTTPRule{Action: ActActor, Actor: a}
	}
	fe := cfg.Frontends[0]
	seen := actor(&config.HTTPRule{Action: "set-path", Value: "/seen%[path]"})
	seen.Cond = hdrIs(t, "x-a", "1")
	fe.HTTPRequest = []*HTTPRule{
		{Action: ActSetHeader, Name: "X-A", Value: "1"},
		seen,
	}
	fe.HTTPResponse = []*HTTPRule{actor(&config.HTTPRule{Action: "set-status", Status: 203})}
	_, addr := startH2Engine(t, cfg)
	resp, err := h2Client(t).Get("http://" + addr + "/p?q=1")
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != 203 || resp.ProtoMajor != 2 {
		t.Errorf("got %d %s, want 203 over HTTP/2", resp.StatusCode, resp.Proto)
	}
	got := be.take()
	if len(got) != 1 || !strings.HasPrefix(got[0], "GET /seen/p?q=1 HTTP/1.1\n") || !strings.Contains(got[0], "\nX-A: 1") {
		t.Errorf("server read %q", got)
	}
}

func hdrIs(t *testing.T, name, v string) Cond {
	c, err := acl.ParseCondition([]string{"if", "{", "req.hdr(" + name + ")", v, "}"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
