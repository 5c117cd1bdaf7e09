package config

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// FuzzReturnLine: return/deny lines never panic the parser, and a rule
// that is accepted obeys HAProxy's reply rules (a body has a content type,
// an error page carries no extra headers, the status is in range).
func FuzzReturnLine(f *testing.F) {
	for _, s := range []string{
		`http-request return status 200 content-type text/plain string "hi" hdr X-A b`,
		`http-request return content-type text/plain lf-string "%[req.hdr(host)]" if { path /x }`,
		`http-request return status 503 errorfile /x hdr A b`,
		`http-request return status 302 default-errorfiles`,
		`http-request deny deny_status 429 content-type a string b hdr content-length 3`,
		`http-request deny status 401 hdr`,
		`http-request return status`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n\r") {
			return
		}
		src := "frontend f\n bind :80\n " + line + "\n"
		d := &diag.List{}
		c := Parse("f.cfg", []byte(src), func(string) string { return "" }, d)
		if c == nil {
			return
		}
		for _, px := range c.Proxies {
			for _, r := range px.HTTPRequest {
				checkAcceptedReturn(t, line, r)
			}
		}
	})
}

func checkAcceptedReturn(t *testing.T, line string, r *HTTPRule) {
	if r.Action != "return" && r.Action != "deny" {
		return
	}
	if r.Status < 200 || r.Status > 599 {
		t.Fatalf("accepted %q with status %d", line, r.Status)
	}
	ret := r.Return
	if ret == nil {
		return
	}
	raw := ret.Kind == "errorfile" || ret.Kind == "default-errorfiles"
	switch {
	case ret.Kind != "" && !raw && ret.ContentType == "":
		t.Fatalf("accepted %q: a body without a content type", line)
	case raw && (ret.ContentType != "" || len(ret.Headers) > 0):
		t.Fatalf("accepted %q: an error page with extra headers", line)
	case ret.Kind == "" && ret.ContentType != "":
		t.Fatalf("accepted %q: a content type without a body", line)
	}
	for _, h := range ret.Headers {
		switch strings.ToLower(h.Name) {
		case "content-length", "content-type", "transfer-encoding", "connection":
			t.Fatalf("accepted %q with hdr %s", line, h.Name)
		}
	}
}
