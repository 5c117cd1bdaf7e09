package route

import (
	"errors"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/acl/acltest"
)

func compile(t *testing.T, def string, lines ...string) *Chooser {
	t.Helper()
	set := acl.NewSet()
	for _, l := range []string{"is_api path_beg /api", "is_admin path_beg /admin", "lan src 10.0.0.0/8"} {
		w := strings.Fields(l)
		if err := set.Add(w[0], w[1:]); err != nil {
			t.Fatal(err)
		}
	}
	var specs []RuleSpec
	for _, l := range lines {
		w := strings.Fields(l)
		specs = append(specs, RuleSpec{Backend: w[0], Cond: w[1:]})
	}
	known := func(b string) bool { return b != "ghost" }
	c, err := Compile(specs, def, set.Lookup, known)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChooseBackend(t *testing.T) {
	c := compile(t, "web",
		"admin if is_admin lan",
		"api if is_api",
		"api2 if { path_beg /api2 }", // shadowed by the rule above: first match wins
		"legacy unless { hdr(host) -m found }",
	)
	tests := []struct {
		uri, src string
		host     bool
		want     string
	}{
		{"/admin/x", "10.1.1.1:1", true, "admin"},
		{"/admin/x", "192.0.2.1:1", true, "web"}, // not from LAN
		{"/api/v1", "192.0.2.1:1", true, "api"},
		{"/api2/v1", "192.0.2.1:1", true, "api"},
		{"/", "192.0.2.1:1", false, "legacy"},
		{"/", "192.0.2.1:1", true, "web"},
	}
	for _, tt := range tests {
		var hdrs []string
		if tt.host {
			hdrs = append(hdrs, "Host: example.com")
		}
		r := acltest.New("GET", tt.uri, hdrs...).WithSrc(tt.src)
		got, ok := c.ChooseBackend(r)
		if !ok || got != tt.want {
			t.Errorf("%s from %s: got %q,%v want %q", tt.uri, tt.src, got, ok, tt.want)
		}
	}
	if diff := strings.Join(c.Backends(), ","); diff != "admin,api,api2,legacy,web" {
		t.Errorf("Backends = %s", diff)
	}
	if n := testing.AllocsPerRun(500, func() { c.ChooseBackend(acltestReq) }); n != 0 && !raceEnabled {
		t.Errorf("ChooseBackend allocates %v", n)
	}
}

var acltestReq = acltest.New("GET", "/api2/x", "Host: a")

func TestNoDefault(t *testing.T) {
	c := compile(t, "", "api if is_api")
	if b, ok := c.ChooseBackend(acltest.New("GET", "/x")); ok {
		t.Errorf("got %q, want no backend", b)
	}
	uncond := compile(t, "web", "all")
	if b, _ := uncond.ChooseBackend(acltest.New("GET", "/x")); b != "all" {
		t.Errorf("unconditional use_backend: got %q", b)
	}
}

func TestCompileErrors(t *testing.T) {
	set := acl.NewSet()
	known := func(b string) bool { return b != "ghost" }
	tests := []struct {
		specs    []RuleSpec
		def      string
		index    int
		contains string
	}{
		{[]RuleSpec{{Backend: "a", Cond: []string{"if", "nope"}}}, "", 0, "nope: unknown ACL"},
		{[]RuleSpec{{Backend: "a"}, {Backend: "ghost"}}, "", 1, `no backend named "ghost"`},
		{nil, "ghost", -1, "default_backend"},
		{[]RuleSpec{{Backend: "%[req.hdrz(host)]"}}, "", 0, `dynamic backend name "%[req.hdrz(host)]": %[ at offset 0: unknown fetch "req.hdrz"`},
		{[]RuleSpec{{Backend: ""}}, "", 0, "missing backend name"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.specs, tt.def, set.Lookup, known)
		var re *RuleError
		if !errors.As(err, &re) || re.Index != tt.index || !strings.Contains(err.Error(), tt.contains) {
			t.Errorf("error %v, want rule %d containing %q", err, tt.index, tt.contains)
		}
	}
}
