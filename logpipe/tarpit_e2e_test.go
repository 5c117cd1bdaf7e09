package logpipe_test

import (
	"strconv"
	"strings"
	"testing"
)

// http-request tarpit holds the request for timeout tarpit, then answers
// 500 (or deny_status) and logs PT, as HAProxy 2.6; %Tw is the time held.
func TestTarpitMatchesHAProxy(t *testing.T) {
	extra := "    timeout tarpit 700ms\n    http-request tarpit if { path /tp }\n    http-request tarpit deny_status 403 if { path /tp403 }\n"
	got, want := formatBoth(t, "MARK|%ST|%ts|%{+Q}r|%Tc|%Tr|%B|", extra, []string{"/tp", "/tp403"}, nil)
	if len(want) != 2 || !strings.HasPrefix(want[0], "MARK|500|PT|") || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("varde:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tw, _ := formatBoth(t, "MARK|%Tw|", extra, []string{"/tp"}, nil)
	if len(tw) != 1 {
		t.Fatalf("lines %q", tw)
	}
	if n, err := strconv.Atoi(strings.Split(tw[0], "|")[1]); err != nil || n < 650 || n > 2000 {
		t.Errorf("varde %%Tw %q, want the time held (700ms)", tw[0])
	}
}
