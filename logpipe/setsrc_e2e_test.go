package logpipe_test

import (
	"net/http"
	"strings"
	"testing"
)

// The log line shows the addresses set-src and set-dst wrote (%ci, %cp,
// %fi), as HAProxy 2.6 logs its stream's addresses.
func TestSetSrcLoggedAsHAProxy(t *testing.T) {
	extra := "    http-request set-src hdr(x-real-ip)\n    http-request set-src-port int(4242)\n    http-request set-dst str(10.9.8.7)\n"
	got, want := formatBoth(t, "MARK|%ci|%cp|%fi|%[src]|", extra, []string{"/a"}, http.Header{"X-Real-Ip": {"192.0.2.9"}})
	if len(want) != 1 || want[0] != "MARK|192.0.2.9|4242|10.9.8.7|192.0.2.9|" || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("varde:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
