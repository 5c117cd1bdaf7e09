package config

import (
	"regexp"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// rewriteLines are accepted and refused rewrite rules with what the parser
// must keep or say.
var rewriteLines = []struct {
	line string
	err  string // "" when accepted
}{
	{`http-request set-path /v2%[path]`, ""},
	{`http-request set-query ""`, "expects exactly 1 argument"},
	{`http-request set-uri /a /b`, "expects exactly 1 argument"},
	{`http-response set-path /x`, "not supported by varde"},
	{`http-request replace-path (a /b`, "invalid regex"},
	{`http-request replace-uri ^/(?=x) /y`, "invalid regex"},
	{`http-request replace-pathq ^/a(.*) /b\1`, ""},
	{`http-request replace-header X-A ^(.*)$ [\1]`, ""},
	{`http-response replace-value Vary ^a$`, "expects exactly 3 arguments"},
	{`http-request del-header X- -m beg`, ""},
	{`http-request del-header X- -m foo`, "unknown del-header match method"},
	{`http-request del-header ( -m reg`, "invalid regex"},
	{`http-response set-status 99`, "invalid status code"},
	{`http-response set-status 404 reason "Gone Away"`, ""},
	{`http-response set-status 404 because x`, "optional reason"},
	{`http-request set-status 200`, "not supported by varde"},
	{`http-after-response set-status 200`, ""},
	{`http-after-response allow`, ""},
	{`http-after-response set-path /x`, "not supported by varde"},
	{`http-after-response replace-header Server .* hidden`, ""},
	{`http-request normalize-uri path-merge-slashes`, ""},
	{`http-request normalize-uri path-strip-dotdot full if { path_beg /a }`, ""},
	{`http-request normalize-uri percent-to-uppercase if { path_beg /a }`, "as path-merge-slashes"},
	{`http-request normalize-uri path-strip-dotdot unless { path_beg /a }`, "as path-merge-slashes"},
	{`http-request normalize-uri percent-decode-unreserved`, ""},
	{`http-request normalize-uri path-strip-dot strict`, "unknown argument"},
	{`http-request normalize-uri path-merge`, "unknown normalizer"},
	{`http-request normalize-uri`, "missing argument"},
	{`http-response normalize-uri path-merge-slashes`, "not supported by varde"},
}

// TestNormalizeNeedsExperimental: as HAProxy 2.6, normalize-uri is refused
// unless the global section has expose-experimental-directives.
func TestNormalizeNeedsExperimental(t *testing.T) {
	src := "frontend f\n mode http\n bind :80\n http-request normalize-uri path-merge-slashes\n"
	d := &diag.List{}
	Parse("t.cfg", []byte(src), nil, d)
	if !d.HasErrors() || !strings.Contains(d.Err().Error(), "experimental") {
		t.Fatalf("accepted without expose-experimental-directives: %v", d.Items())
	}
}

func TestRewriteRuleParsing(t *testing.T) {
	for _, tt := range rewriteLines {
		src := "global\n expose-experimental-directives\ndefaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\nfrontend f\n bind :80\n " + tt.line + "\n"
		d := &diag.List{}
		c := Parse("t.cfg", []byte(src), nil, d)
		c.Validate(d)
		var errs []string
		for _, it := range d.Items() {
			if it.Severity == diag.Error {
				errs = append(errs, it.String())
			}
		}
		switch {
		case tt.err == "" && len(errs) > 0:
			t.Errorf("%s: refused: %v", tt.line, errs)
		case tt.err != "" && (len(errs) != 1 || !strings.Contains(errs[0], tt.err) || !strings.Contains(errs[0], "t.cfg:10")):
			t.Errorf("%s: errors %v, want one at line 10 with %q", tt.line, errs, tt.err)
		}
	}
}

// FuzzRewriteRule parses rewrite rules with fuzzed arguments: the parser
// never panics, and a rule it keeps has the regex it checked compiling.
func FuzzRewriteRule(f *testing.F) {
	for _, tt := range rewriteLines {
		f.Add(tt.line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n\r\x00") {
			return
		}
		src := "defaults\n mode http\nfrontend f\n bind :80\n " + line + "\n"
		d := &diag.List{}
		c := Parse("t.cfg", []byte(src), nil, d)
		c.Validate(d)
		for _, px := range c.Proxies {
			for _, r := range append(append(px.HTTPRequest, px.HTTPResponse...), px.HTTPAfterResponse...) {
				if r.Regex != "" && !compiles(r.Regex) {
					t.Fatalf("kept rule %q with a regex that does not compile", line)
				}
			}
		}
	})
}

func compiles(re string) bool {
	_, err := regexp.Compile(re)
	return err == nil
}
