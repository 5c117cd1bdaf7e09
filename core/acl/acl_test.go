package acl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
)

func req() *acltest.Request {
	return acltest.New("GET", "/api/v1/Users?id=42&lang=fr&empty=",
		"Host: www.Example.com:8080",
		"X-Forwarded-For: 10.1.1.1, 10.2.2.2",
		"X-Forwarded-For: 10.3.3.3",
		"Content-Length: 12",
		"Accept: text/html",
		"Cookie: theme=dark; SESSION=abc123",
		"Cookie: lang=nb").WithSrc("192.168.1.20:5555")
}

func TestParseMatch(t *testing.T) {
	tests := []struct {
		words []string
		want  bool
	}{
		{[]string{"path", "/api/v1/Users"}, true},
		{[]string{"path", "/api/v1/users"}, false},
		{[]string{"path", "-i", "/api/v1/users"}, true},
		{[]string{"path_beg", "/static", "/api"}, true},
		{[]string{"path_beg", "/static"}, false},
		{[]string{"path_end", "Users"}, true},
		{[]string{"path_end", "-i", "USERS"}, true},
		{[]string{"path_sub", "v1"}, true},
		{[]string{"path_sub", "-i", "V1/u"}, true},
		{[]string{"path_sub", "v2"}, false},
		{[]string{"path_reg", `^/api/v[0-9]+/`}, true},
		{[]string{"path_reg", `users$`}, false},
		{[]string{"path_reg", "-i", `users$`}, true},
		{[]string{"path_dir", "v1"}, true},
		{[]string{"path_dir", "v"}, false},
		{[]string{"path_len", "gt", "5"}, true},
		{[]string{"path", "-m", "beg", "/api"}, true},
		{[]string{"path", "-m", "len", "13"}, true},
		{[]string{"path", "-m", "found"}, true},
		{[]string{"url", "-m", "sub", "lang=fr"}, true},
		{[]string{"url_beg", "/api/v1/Users?"}, true},
		{[]string{"method", "GET"}, true},
		{[]string{"method", "get"}, false},
		{[]string{"method", "-i", "get"}, false}, // as HAProxy: -i only for non-standard methods
		{[]string{"method", "POST", "PUT"}, false},
		{[]string{"hdr(host)", "-i", "www.example.com:8080"}, true},
		{[]string{"hdr(Host)", "www.example.com:8080"}, false},
		{[]string{"hdr_beg(host)", "-i", "www."}, true},
		{[]string{"hdr_end(host)", ":8080"}, true},
		{[]string{"hdr_sub(host)", "-i", "example"}, true},
		{[]string{"hdr_reg(host)", `^www\.`}, true},
		{[]string{"hdr_dom(host)", "-i", "example.com"}, true},
		{[]string{"hdr_dom(host)", "-i", "ample.com"}, false},
		{[]string{"hdr(x-forwarded-for)", "10.2.2.2"}, true}, // second value of first line
		{[]string{"hdr(x-forwarded-for)", "10.3.3.3"}, true}, // second line
		{[]string{"hdr(x-forwarded-for)", "10.4.4.4"}, false},
		{[]string{"hdr_cnt(x-forwarded-for)", "3"}, true},
		{[]string{"hdr_cnt(x-forwarded-for)", "gt", "3"}, false},
		{[]string{"hdr_cnt(x-missing)", "eq", "0"}, true},
		{[]string{"hdr_val(content-length)", "gt", "0"}, true},
		{[]string{"hdr_val(content-length)", "10:20"}, true},
		{[]string{"hdr(accept)", "-m", "found"}, true},
		{[]string{"hdr(authorization)", "-m", "found"}, false},
		{[]string{"req.hdr(accept)", "-m", "beg", "text/"}, true},
		{[]string{"url_param(id)", "42"}, true},
		{[]string{"url_param(id)", "4"}, false},
		{[]string{"urlp(lang)", "-m", "beg", "f"}, true},
		{[]string{"url_param(empty)", "-m", "found"}, true},
		{[]string{"url_param(nope)", "-m", "found"}, false},
		{[]string{"url_param(i)", "-m", "found"}, false},
		{[]string{"src", "192.168.1.0/24"}, true},
		{[]string{"src", "192.168.1.20"}, true},
		{[]string{"src", "10.0.0.0/8", "192.168.0.0/255.255.0.0"}, true},
		{[]string{"src", "10.0.0.0/8", "2001:db8::/32"}, false},
		{[]string{"src_port", "5555"}, true},
		{[]string{"dst_port", "80"}, true},
		{[]string{"ssl_fc"}, false},
		{[]string{"always_true"}, true},
		{[]string{"always_false"}, false},
		{[]string{"path", "--", "-i"}, false},
		{[]string{"path_beg"}, false}, // no value: never matches, as in HAProxy
		{[]string{"req.fhdr(x-forwarded-for)", "10.1.1.1, 10.2.2.2"}, true},
		{[]string{"req.fhdr(x-forwarded-for)", "10.2.2.2"}, false},
		{[]string{"cook(SESSION)", "abc123"}, true},
		{[]string{"cook(session)", "abc123"}, false}, // cookie names are case-sensitive
		{[]string{"cook(lang)", "nb"}, true},
		{[]string{"cook_beg(theme)", "da"}, true},
		{[]string{"req.cook(missing)", "-m", "found"}, false},
		{[]string{"cook(theme)", "-m", "found"}, true},
		{[]string{"base", "www.Example.com:8080/api/v1/Users"}, true},
		{[]string{"base_beg", "-i", "www.example.com:8080/api/"}, true},
		{[]string{"base_reg", `:8080/api`}, true},
		{[]string{"query", "id=42&lang=fr&empty="}, true},
		{[]string{"query", "-m", "sub", "lang=fr"}, true},
	}
	r := req()
	for _, tt := range tests {
		t.Run(strings.Join(tt.words, " "), func(t *testing.T) {
			m, err := ParseWords(tt.words)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Match(r); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMethodRules(t *testing.T) {
	for _, tt := range []struct {
		method string
		words  []string
		want   bool
	}{
		{"GET", []string{"method", "GET"}, true},
		{"get", []string{"method", "GET"}, false},
		{"get", []string{"method", "-i", "GET"}, false},
		{"PURGE", []string{"method", "PURGE"}, true},
		{"purge", []string{"method", "-i", "PURGE"}, true},
		{"purge", []string{"method", "PURGE"}, false},
		{"POST", []string{"method", "-m", "beg", "PO"}, true},
	} {
		m, err := ParseWords(tt.words)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Match(acltest.New(tt.method, "/")); got != tt.want {
			t.Errorf("%s vs %v: got %v", tt.method, tt.words, got)
		}
	}
}

func TestSrcIPv6(t *testing.T) {
	r := req().WithSrc("[2001:db8::5]:1000")
	for words, want := range map[string]bool{
		"src 2001:db8::/32":   true,
		"src 2001:db8::5":     true,
		"src 2001:db9::/32":   false,
		"src 192.168.0.0/16":  false,
		"src ::ffff:1.2.3.4":  false,
		"src 10.0.0.1 ::/0":   true,
		"src -m found":        true,
		"src 0.0.0.0/0 ::1/0": true,
	} {
		m, err := ParseWords(strings.Fields(words))
		if err != nil {
			t.Fatal(words, err)
		}
		if got := m.Match(r); got != want {
			t.Errorf("%s: got %v, want %v", words, got, want)
		}
	}
	// An IPv4 client seen through a dual-stack socket still matches v4 networks.
	m, _ := ParseWords([]string{"src", "192.0.2.0/24"})
	if !m.Match(req().WithSrc("[::ffff:192.0.2.7]:1")) {
		t.Error("v4-mapped client should match a v4 network")
	}
}

func TestSSLAndNil(t *testing.T) {
	m, _ := ParseWords([]string{"ssl_fc"})
	r := req()
	r.IsTLS = true
	if !m.Match(r) {
		t.Error("ssl_fc on TLS request")
	}
	for _, w := range [][]string{{"path_beg", "/"}, {"src", "0.0.0.0/0"}, {"ssl_fc"}, {"req.proto_http"}} {
		m, _ := ParseWords(w)
		if m.Match(nil) {
			t.Errorf("%v matched a nil request", w)
		}
	}
}

func TestPatternFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "nets.lst")
	os.WriteFile(f, []byte("# blocked\n10.0.0.0/8\n\n  192.168.1.0/24\n"), 0o644)
	m, err := ParseWords([]string{"src", "-f", f})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Match(req()) {
		t.Error("want match from pattern file")
	}
	if _, err := ParseWords([]string{"src", "-f", filepath.Join(dir, "missing")}); err == nil {
		t.Error("missing pattern file should fail")
	}
	// HAProxy keeps an ACL file line's trailing blanks: "10.0.0.0/8  " is
	// not an address (it refuses the configuration too).
	os.WriteFile(f, []byte("10.0.0.0/8  \n"), 0o644)
	if _, err := ParseWords([]string{"src", "-f", f}); err == nil || !strings.Contains(err.Error(), "bad network") {
		t.Errorf("trailing blanks: error %v, want bad network", err)
	}
}

// A fetch without arguments may be written with empty parentheses, as
// HAProxy 2.6 reads `ignore-persist if { always_true() }`.
func TestEmptyParentheses(t *testing.T) {
	for _, words := range [][]string{{"always_true()"}, {"src()", "127.0.0.1"}, {"path()", "/"}} {
		m, err := ParseWords(words)
		if err != nil {
			t.Errorf("%v: %v", words, err)
			continue
		}
		if words[0] == "always_true()" && !m.Match(req()) {
			t.Errorf("%v did not match", words)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		words    []string
		contains string
	}{
		{[]string{"pth_beg", "/x"}, "pth_beg: unknown criterion (hint: did you mean path_beg?)"},
		{[]string{"hdr_val", "1"}, "hdr_val: missing argument"},
		{[]string{"path(x)", "/"}, "takes no argument"},
		{[]string{"hdr(host", "x"}, "unbalanced parenthesis"},
		{[]string{"path_reg", "(a"}, "bad regular expression"},
		{[]string{"path_reg", `(?<=a)b`}, "RE2"},
		{[]string{"src", "10.0.0.300"}, "bad address"},
		{[]string{"src", "10.0.0.0/33"}, "bad network"},
		{[]string{"src", "-m", "beg", "10."}, "not usable on an address"},
		{[]string{"path", "-m", "bool"}, "not usable on a string"},
		{[]string{"path", "-m", "bogus", "x"}, `unknown match method "bogus"`},
		{[]string{"path", "-m"}, "-m needs a match method"},
		{[]string{"path", "-x", "y"}, `unknown flag "-x"`},
		{[]string{"path", "-f"}, "-f needs a file name"},
		{[]string{"ssl_fc", "1"}, "takes no value"},
		{[]string{"hdr_cnt(host)", "many"}, `bad integer "many"`},
		{[]string{"path", "-m", "found", "x"}, "takes no value"},
		{nil, "missing criterion"},
		{[]string{"nbsrv", "a"}, "nbsrv: bad integer \"a\""},
		{[]string{"cook", "a"}, "cook: missing argument"},
	}
	for _, tt := range tests {
		_, err := ParseWords(tt.words)
		if err == nil || !strings.Contains(err.Error(), tt.contains) {
			t.Errorf("%v: error %v, want it to contain %q", tt.words, err, tt.contains)
		}
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Errorf("%v: error is %T, want *Error", tt.words, err)
		}
	}
}

var _ core.Request = (*acltest.Request)(nil)

func TestMoreCriteriaZeroAlloc(t *testing.T) {
	r := req()
	for _, words := range [][]string{
		{"cook(lang)", "nb"}, {"cook_sub(SESSION)", "-i", "C12"}, {"base_beg", "-i", "www.example.com:8080/api"},
		{"req.fhdr(accept)", "text/html"}, {"query", "-m", "sub", "lang"}, {"hdr_dom(host)", "-i", "example.com"},
		{"src", "10.0.0.0/8", "192.168.1.0/24"}, {"hdr_val(content-length)", "12"},
	} {
		m, err := ParseWords(words)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Match(r) {
			t.Errorf("%v should match", words)
		}
		if n := testing.AllocsPerRun(200, func() { m.Match(r) }); n != 0 && !raceEnabled {
			t.Errorf("%v: %v allocations per Match", words, n)
		}
	}
}

func FuzzParseACL(f *testing.F) {
	for _, seed := range []string{
		"path_beg -i /a /b", "hdr(host) -m dom example.com", "src 10.0.0.0/255.0.0.0 ::1",
		"hdr_cnt(x) gt 1 2:3 :4", "url_param(id) -m reg ^[0-9]+$", "cook(a) -m found", "path -- -i",
		"method -u 3 -n GET", "base_len lt 10",
	} {
		f.Add(seed)
	}
	r := req()
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(text, "map") {
			return // map converters read files: never read arbitrary ones
		}
		words := strings.Fields(text)
		for i, w := range words {
			if w == "-f" && i+1 < len(words) {
				words[i+1] = "/nonexistent" // never read arbitrary files
			}
		}
		m, err := ParseWords(words)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if m.Match(r) != m.Match(r) {
			t.Fatal("Match is not deterministic")
		}
		m.Match(nil)
	})
}
