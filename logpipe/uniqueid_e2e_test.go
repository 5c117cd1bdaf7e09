package logpipe_test

import (
	"net/http"
	"strings"
	"testing"
)

// %ID and the unique-id fetch log the id unique-id-format built, as in
// HAProxy 2.6: at request time for a forwarded request, at log time for
// one denied before (its id still reads the request).
func TestUniqueIDMatchesHAProxy(t *testing.T) {
	extra := "    unique-id-format \"%[path]_%[method]_%[req.hdr(x-a)]\"\n    unique-id-header X-Req-ID\n    http-request deny if { path /deny }\n"
	got, want := formatBoth(t, "MARK|%ID|%{+Q}ID|%[unique-id]|", extra, []string{"/a", "/b/c?q=1", "/deny"}, http.Header{"X-A": {"v"}})
	if len(want) != 3 || want[0] != "MARK|/a_GET_v|\"/a_GET_v\"|/a_GET_v|" || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("varde:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
