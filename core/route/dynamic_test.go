package route

import (
	"testing"

	"github.com/varde-lb/varde/core/acl/acltest"
)

// A dynamic name that is not a backend stops the rules and falls to
// default_backend (HAProxy 2.6, use_backend).
func TestDynamicBackendName(t *testing.T) {
	for _, withMap := range []bool{false, true} {
		c := compile(t, "web",
			"%[req.hdr(host),lower,field(1,.)] if { hdr(host) -m found }",
			"api if is_api",
		)
		if withMap {
			c.WithBackends(map[string]bool{"web": true, "api": true, "shop": true, "blog": true}, "fe")
		}
		for host, want := range map[string]string{
			"Shop.example.com": "shop",
			"blog":             "blog",
			"ghost.example":    "web", // no such backend: default, api is not tried
			"":                 "api", // condition false: next rule
		} {
			var hdrs []string
			if host != "" {
				hdrs = append(hdrs, "Host: "+host)
			}
			r := acltest.New("GET", "/api/x", hdrs...)
			if got, ok := c.ChooseBackend(r); !ok || got != want {
				t.Errorf("withMap=%v host %q: %q, %v; want %q", withMap, host, got, ok, want)
			}
		}
	}
}

func TestDynamicNameErrors(t *testing.T) {
	_, err := Compile([]RuleSpec{{Backend: "be_%[status]"}}, "", nil, nil)
	want := `route: use_backend: dynamic backend name "be_%[status]": %[ at offset 3: fetch "status" is not available in use_backend (hint: it exists at response, log time)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestDynamicNameAllocs(t *testing.T) {
	c := compile(t, "web", "be_%[req.hdr(host),lower]")
	c.WithBackends(map[string]bool{"be_shop": true, "web": true}, "fe")
	r := acltest.New("GET", "/", "Host: SHOP")
	if got, _ := c.ChooseBackend(r); got != "be_shop" {
		t.Fatalf("got %q", got)
	}
	if n := testing.AllocsPerRun(200, func() { c.ChooseBackend(r) }); n != 0 && !raceEnabled {
		t.Errorf("%v allocations per dynamic choice, want 0", n)
	}
}

func BenchmarkDynamicBackend(b *testing.B) {
	c, err := Compile([]RuleSpec{{Backend: "be_%[req.hdr(host),lower,field(1,.)]"}}, "web", nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	c.WithBackends(map[string]bool{"be_shop": true, "web": true}, "fe")
	r := acltest.New("GET", "/", "Host: Shop.example.com")
	b.ReportAllocs()
	for b.Loop() {
		c.ChooseBackend(r)
	}
}
