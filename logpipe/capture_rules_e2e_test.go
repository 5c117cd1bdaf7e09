package logpipe_test

import (
	"net/http"
	"strings"
	"testing"
)

// http-request/http-response capture and declare capture fill the log's
// %hr/%hs slots in the order of the lines that make them, with the
// header captures, as HAProxy 2.6.
func TestCaptureRulesMatchHAProxy(t *testing.T) {
	extra := `    capture request header X-A len 20
    declare capture request len 10
    http-request capture req.hdr(x-b) len 5
    declare capture response len 8
    capture response header X-Resp len 10
    http-request capture path id 1
    http-response capture status id 0
    http-request capture req.hdr(x-none) id 0
`
	hdr := http.Header{"X-A": {"alpha"}, "X-B": {"bravo-long-value"}}
	got, want := formatBoth(t, "MARK|%hr|%hs|%[capture.req.hdr(1)]|%[capture.req.hdr(2)]|", extra, []string{"/a/very/long/path", "/b"}, hdr)
	if len(want) != 2 || !strings.HasPrefix(want[0], "MARK|{alpha|/a/very/lo|bravo}|{200|two}|") || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("varde:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
