package config

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// FuzzVarRule feeds variable actions (and the capture, tarpit, set-src
// and unique-id lines, seeded too) through the whole parser: a line is
// either refused with a located error or kept with a variable that
// compiles, never both, never a panic.
func FuzzVarRule(f *testing.F) {
	for _, s := range []string{
		"http-request set-var(txn.a) str(b)",
		"http-request set-var(sess.n,ifnotexists,ifgt) var(sess.n,0),add(1)",
		"http-response set-var-fmt(res.x) \"%[status] %[src]\"",
		"http-request unset-var(proc.m)",
		"http-request set-var(txn.a,) int(1)",
		"http-request set-var(txn.a",
		"http-request set-var() int(1)",
		"http-response unset-var(req.a,ifset)",
		"tcp-request content set-var(sess.a) src",
		"http-request capture req.hdr(host) len 10",
		"http-response capture status id 0",
		"declare capture request len 4",
		"http-request tarpit deny_status 403",
		"http-request set-src hdr(x-real-ip)",
		"http-request set-dst-port int(80)",
		"unique-id-format \"%[uuid()]\"",
		"unique-id-header X-ID",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n\r") {
			return
		}
		src := "defaults\n    mode http\nfrontend f\n    bind 127.0.0.1:1\n    " + line + "\n"
		d := &diag.List{}
		c := Parse("f.cfg", []byte(src), func(string) string { return "" }, d)
		if c == nil || len(c.Frontends) == 0 {
			return
		}
		for _, r := range append(c.Frontends[0].HTTPRequest, c.Frontends[0].HTTPResponse...) {
			if r.Var == nil {
				continue
			}
			if d.HasErrors() && strings.HasPrefix(actionBase(r.Action), "set-var") {
				t.Fatalf("%q kept despite errors: %v", line, d.Err())
			}
			if _, err := parseVarCall(r.Action, actionBase(r.Action)); err != nil {
				t.Fatalf("%q kept with a bad variable: %v", line, err)
			}
		}
	})
}
