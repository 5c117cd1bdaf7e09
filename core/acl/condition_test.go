package acl

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/acl/acltest"
	"github.com/varde-lb/varde/core/sample"
)

func testSet(t testing.TB) *Set {
	s := NewSet()
	lines := []string{
		"is_api path_beg /api",
		"is_static path_beg /static /img",
		"is_static path_end .css", // same name: ORed
		"host_ex hdr(host) -i www.example.com:8080",
		"is_post method POST",
		"from_lan src 192.168.0.0/16",
		"has_id url_param(id) -m found",
		"TRUE always_false", // user ACLs shadow predefined ones
	}
	for _, l := range lines {
		w := strings.Fields(l)
		if err := s.Add(w[0], w[1:]); err != nil {
			t.Fatal(l, err)
		}
	}
	return s
}

func TestCondition(t *testing.T) {
	s := testSet(t)
	tests := []struct {
		cond string
		uri  string
		want bool
	}{
		{"if is_api", "/api/x", true},
		{"if is_api", "/web", false},
		{"unless is_api", "/web", true},
		{"unless is_api", "/api", false},
		{"if is_static", "/img/a.png", true},
		{"if is_static", "/site.css", true}, // second acl line
		{"if is_static", "/site.js", false},
		{"if is_api host_ex", "/api", true},    // implicit AND
		{"if is_api is_post", "/api", false},   // AND, second false
		{"if is_post || is_api", "/api", true}, // OR
		{"if is_post or is_api", "/api", true}, // OR keyword
		{"if is_post or is_static", "/api", false},
		{"if !is_post", "/", true},
		{"if ! is_post", "/", true},
		{"if !!is_post", "/", false},
		{"if is_api !is_post from_lan", "/api", true},
		{"if is_post is_api || host_ex from_lan", "/x", true}, // (a b) || (c d)
		{"if is_post is_api || host_ex !from_lan", "/x", false},
		{"if { path_beg /api } { hdr(host) -i www.example.com:8080 }", "/api/1", true},
		{"if { path_beg -i /API }", "/api/1", true},
		{"if !{ path_beg /api }", "/api/1", false},
		{"if { url_param(id) 7 } || { url_param(id) 8 }", "/?id=8", true},
		{"if has_id", "/?id=", true},
		{"if METH_GET", "/", true},
		{"if METH_POST", "/", false},
		{"if HTTP LOCALHOST", "/", false},
		{"unless FALSE", "/", true},
		{"if TRUE", "/", false}, // user-defined TRUE shadows the predefined one
		{"if HTTP_URL_SLASH", "/", true},
		{"if HTTP_URL_ABS", "http://a/b", true},
		{"if HTTP_CONTENT", "/", false},
	}
	for _, tt := range tests {
		t.Run(tt.cond+" "+tt.uri, func(t *testing.T) {
			c, err := ParseCondition(strings.Fields(tt.cond), s.Lookup)
			if err != nil {
				t.Fatal(err)
			}
			r := acltest.New("GET", tt.uri, "Host: www.example.com:8080").WithSrc("192.168.3.4:1000")
			if got := c.Match(r); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConditionErrors(t *testing.T) {
	s := testSet(t)
	tests := []struct {
		cond     string
		token    int
		contains string
	}{
		{"", -1, "missing condition"},
		{"if", 0, "empty condition"},
		{"when is_api", 0, "starts with `if` or `unless`"},
		{"if nope", 1, "nope: unknown ACL (hint: declare it first with `acl nope"},
		{"if path_beg", 1, "criteria are used in `acl` lines or in braces"},
		{"if is_api ||", 2, "ends with `||`"},
		{"if || is_api", 1, "without an ACL before it"},
		{"if is_api !", 2, "`!` at the end"},
		{"if { path_beg /api", 1, "missing `}`"},
		{"if { }", 1, "empty anonymous ACL"},
		{"if }", 1, "without a matching `{`"},
		{"if { path_beg { /x } }", 3, "cannot be nested"},
		{"if {path_beg /x}", 1, "braces must be separate words"},
		{"if { pth_beg /x }", 2, "did you mean path_beg"},
		{"if HTTP_1.1", 1, "predefined ACL is not supported"},
	}
	for _, tt := range tests {
		_, err := ParseCondition(strings.Fields(tt.cond), s.Lookup)
		if err == nil || !strings.Contains(err.Error(), tt.contains) {
			t.Errorf("%q: error %v, want it to contain %q", tt.cond, err, tt.contains)
			continue
		}
		if e := err.(*Error); e.Token != tt.token {
			t.Errorf("%q: error token %d, want %d", tt.cond, e.Token, tt.token)
		}
	}
	if err := s.Add("bad name", []string{"path", "/"}); err == nil {
		t.Error("ACL name with a space accepted")
	}
}

func TestMatchZeroAlloc(t *testing.T) {
	s := testSet(t)
	c, err := ParseCondition(strings.Fields(
		"if is_post || { hdr_dom(host) -i nomatch.org } || !is_api { path_reg -i ^/STATIC/ } || host_ex { url_param(lang) -m sub r } !{ src 10.0.0.0/8 } { hdr_cnt(accept) ge 0 }"), s.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	r := acltest.New("GET", "/static/app.js?lang=fr", "Host: www.example.com:8080", "Accept: */*").WithSrc("192.168.3.4:1000")
	if !c.Match(r) {
		t.Fatal("condition should match")
	}
	if raceEnabled {
		return // sync.Pool drops items under the race detector
	}
	if n := testing.AllocsPerRun(1000, func() { c.Match(r) }); n != 0 {
		t.Errorf("Condition.Match allocates %v times per run, want 0", n)
	}
}

func BenchmarkConditionMatch(b *testing.B) {
	s := testSet(b)
	c, _ := ParseCondition(strings.Fields("if is_post || is_static host_ex || { path_reg ^/api/v[0-9]+/ } !from_lan"), s.Lookup)
	r := acltest.New("GET", "/api/v2/items?id=1", "Host: www.example.com:8080").WithSrc("10.0.0.1:1")
	b.ReportAllocs()
	for b.Loop() {
		c.Match(r)
	}
}

func FuzzParseCondition(f *testing.F) {
	for _, seed := range []string{
		"if is_api", "unless is_api || is_static", "if !{ path_beg -i /a /b } host_ex",
		"if { hdr_cnt(x) gt 1:3 } or METH_GET", "if { src 10.0.0.0/8 ::1 } ! !", "if { } }",
		"if { url_param(id) -m reg ^[0-9]+$ }", "if { hdr_dom(host) -m dir a/b }",
	} {
		f.Add(seed)
	}
	s := testSet(f)
	r := acltest.New("POST", "/api/x?id=1", "Host: www.example.com:8080", "X: 1, 2").WithSrc("192.168.0.1:1")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseCondition(strings.Fields(text), s.Lookup)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		a := c.Match(r)
		if a != c.Match(r) {
			t.Fatal("Match is not deterministic")
		}
		c.Match(nil)
	})
}

// Response fetches are evaluated with MatchCtx (http-response rules), and
// Where tells the configuration layer they exist only there.
func TestResponseConditions(t *testing.T) {
	c, err := ParseCondition(strings.Fields("if { status ge 500 } || { res.hdr(content-type) -m beg text/ } { path_beg /api }"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if w, f := c.Where(); w != sample.AtResponse|sample.AtLog || f != "res.hdr" {
		t.Errorf("Where = %v, %q", w, f)
	}
	r := acltest.New("GET", "/api/x")
	var x sample.Ctx
	sample.RequestCtx(&x, r)
	if c.MatchCtx(&x) || c.Match(r) {
		t.Error("matched without a response")
	}
	x.Status = 503
	if !c.MatchCtx(&x) {
		t.Error("status 503 should match")
	}
	x.Status = 200
	x.Res = resHeaders{"Content-Type", "text/html"}
	if !c.MatchCtx(&x) {
		t.Error("text/ on /api should match")
	}
	if w, _ := Where(mustParse(t, "path_beg", "/a")); w != sample.AtAny {
		t.Errorf("path_beg Where = %v", w)
	}
}

type resHeaders [2]string

func (h resHeaders) NumHeaders() int               { return 1 }
func (h resHeaders) HeaderAt(int) ([]byte, []byte) { return []byte(h[0]), []byte(h[1]) }

func mustParse(t *testing.T, words ...string) Matcher {
	t.Helper()
	m, err := ParseWords(words)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
