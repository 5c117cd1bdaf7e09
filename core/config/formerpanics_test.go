package config

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// Inputs that panicked the parser (index out of range on a quoted
// keyword) or drew follow-on errors (unterminated quote). Each must give
// exactly one located error. New fuzz crashers become rows here.
func TestFormerPanics(t *testing.T) {
	const fe = "frontend f\n    bind :80\n    "
	tests := []struct {
		name, src string
		line      int
		keyword   string
		message   string
	}{
		{"quoted option", fe + `"option httplog"`, 3, "option httplog", `unknown keyword "option httplog" in frontend section`},
		{"quoted option in defaults", "defaults\n    \"option httplog\"", 2, "option httplog", `unknown keyword "option httplog" in defaults section`},
		{"quoted stats uri", fe + `"stats uri"`, 3, "stats uri", `unknown keyword "stats uri"`},
		{"quoted stats uri with value", fe + `"stats uri" /s`, 3, "stats uri", `unknown keyword "stats uri"`},
		{"quoted timeout", fe + `"timeout client"`, 3, "timeout client", `unknown keyword "timeout client"`},
		{"quoted timeout with value", fe + `"timeout client" 5s`, 3, "timeout client", `unknown keyword "timeout client"`},
		{"single-quoted timeout", fe + `'timeout client' 5s`, 3, "timeout client", `unknown keyword "timeout client"`},
		{"escaped space", fe + `timeout\ client 5s`, 3, "timeout client", `unknown keyword "timeout client"`},
		{"global stats socket", "global\n    \"stats socket\"", 2, "stats socket", `unknown keyword "stats socket" in global section`},
		{"global stats socket with path", "global\n    \"stats socket\" /run/x.sock", 2, "stats socket", `unknown keyword "stats socket" in global section`},
		{"no then quoted option", "backend b\n    no \"option redispatch\"", 2, "option redispatch", `unknown keyword "option redispatch"`},
		{"option with quoted name", fe + `option "httplog clf"`, 3, "option httplog clf", `unknown keyword "option httplog clf"`},
		{"quoted capture", fe + `capture "request header" X len 5`, 3, "capture request header", `unknown keyword "capture request header"`},
		{"quoted http-request", fe + `"http-request deny"`, 3, "http-request deny", `unknown keyword "http-request deny"`},
		{"quoted section", `"frontend f"`, 1, "frontend f", `unknown keyword "frontend f" outside of any section`},
		{"unterminated quote", fe + `option "httplog`, 3, "option", "unterminated quote; line ignored"},
		{"unterminated quote in a keyword", fe + `"option httplog`, 3, "", "unterminated quote; line ignored"},
		{"unterminated brace", fe + `bind "${ADDR:80"`, 3, "bind", "unmatched brace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &diag.List{}
			Parse("t.cfg", []byte(tt.src+"\n"), nil, d) // must not panic
			errs := errorsOf(d)
			if len(errs) != 1 {
				t.Fatalf("want exactly one error, got %d:\n%s", len(errs), render(d))
			}
			e := errs[0]
			if e.Pos.Line != tt.line || e.Keyword != tt.keyword || !strings.Contains(e.Message, tt.message) || e.Hint == "" {
				t.Errorf("got %s\nwant line %d keyword %q message ~%q with a hint", e, tt.line, tt.keyword, tt.message)
			}
		})
	}
}
