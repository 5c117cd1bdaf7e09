package proxy

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/acl"
)

// Header values and redirect targets are core/sample templates: any fetch
// with converters, and the log-format aliases, at request and response time.
func TestRuleValuesUseSampleExpressions(t *testing.T) {
	b1, s1 := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-App", "Leaf")
		w.WriteHeader(201)
	})
	cfg := simpleConfig(hostport(b1))
	fe := cfg.Frontends[0]
	fe.HTTPRequest = []*HTTPRule{
		{Action: ActRedirect, RedirectKind: RedirectLocation, Target: "https://%[req.hdr(host),lower,field(1,:)]%[path]?from=%[src]", Cond: pathIs("/go")},
		{Action: ActSetHeader, Name: "X-Host", Value: "%[req.hdr(host),lower]"},
		{Action: ActAddHeader, Name: "X-Url", Value: "%[url] %[urlp(id),mul(2)] %ci %[ssl_fc]"},
		{Action: ActAddHeader, Name: "X-Be", Value: "%[be_name]/%[fe_name]"},
	}
	created, err := acl.ParseCondition([]string{"if", "{", "status", "201", "}", "{", "res.hdr(x-app)", "-i", "leaf", "}"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	notFound, err := acl.ParseCondition([]string{"if", "{", "status", "404", "}"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fe.HTTPResponse = []*HTTPRule{
		{Action: ActSetHeader, Name: "X-Status", Value: "%[status] %[res.hdr(x-app),upper] %[srv_name] %[srv_id] %[hdr(x-app)]"},
		{Action: ActSetHeader, Name: "X-Created", Value: "yes", Cond: created},
		{Action: ActSetHeader, Name: "X-Missing", Value: "yes", Cond: notFound},
	}
	_, addr := startEngine(t, cfg)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	req, _ := http.NewRequest("GET", "http://"+addr+"/p?id=21", nil)
	req.Host = "WWW.Example.COM"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	r := s1.last()
	got := []string{r.Header.Get("X-Host"), r.Header.Get("X-Url"), r.Header.Get("X-Be"), resp.Header.Get("X-Status"),
		resp.Header.Get("X-Created"), resp.Header.Get("X-Missing")}
	// A value is evaluated when its rule runs, as HAProxy does: in the
	// frontend's http-request rules no backend is chosen yet.
	want := []string{"www.example.com", "/p?id=21 42 127.0.0.1 0", "/" + fe.Name,
		"201 LEAF " + cfg.Backends[0].Servers[0].Name + " 1 Leaf", "yes", ""}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("rule values (-want +got)\n%s", d)
	}

	req, _ = http.NewRequest("GET", "http://"+addr+"/go", nil)
	req.Host = "Shop.Example:8080"
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || loc != "https://shop.example/go?from=127.0.0.1" {
		t.Fatalf("redirect: %d %q", resp.StatusCode, loc)
	}
}

func TestRuleCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		rule HTTPRule
		want string
	}{
		{HTTPRule{Action: ActSetHeader, Name: "X", Value: "%[req.hdrx(a)]"}, `header X: %[ at offset 0: unknown fetch "req.hdrx" (hint: did you mean "req.hdr"?)`},
		{HTTPRule{Action: ActAddHeader, Name: "X", Value: "%[src"}, `header X: %[ at offset 0: missing ']' after "src"`},
		{HTTPRule{Action: ActRedirect, RedirectKind: RedirectPrefix, Target: "%[path,nonexistentconv]"}, `redirect prefix: %[ at offset 0: unknown converter "nonexistentconv" (hint: see docs/samples.md for the supported names)`},
	} {
		err := tc.rule.compile()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %s", tc.rule, err, tc.want)
		}
	}
}

// TestSampleRulesAllocs: header values built from sample expressions keep
// the proxied fast path free of allocations.
func TestSampleRulesAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("alloc measurement (sync.Pool drops items under the race detector)")
	}
	cfg := simpleConfig(rawBackend(t), rawBackend(t))
	fe := cfg.Frontends[0]
	fe.HTTPRequest = []*HTTPRule{{Action: ActSetHeader, Name: "X-Host", Value: "%[req.hdr(host),lower] %[src,ipmask(24)]"}}
	fe.HTTPResponse = []*HTTPRule{{Action: ActAddHeader, Name: "X-S", Value: "%[status]"}}
	_, addr := startEngine(t, cfg)
	rc := newRawClient(t, addr)
	for i := 0; i < 100; i++ {
		rc.do(t)
	}
	if n := testing.AllocsPerRun(300, func() { rc.do(t) }); n > 0 {
		t.Fatalf("%.2f allocations per proxied GET with sample header rules, want 0", n)
	}
}
