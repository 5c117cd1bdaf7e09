package proxy

import "testing"

// TestReplyReason: the one reason table serves return/deny replies and
// set-status, 1xx included, with HAProxy's spellings and class fallbacks
// (TestRewriteDifferential compares set-status phrases with HAProxy).
func TestReplyReason(t *testing.T) {
	for code, want := range map[int]string{
		100: "Continue", 101: "Switching Protocols", 102: "Processing", 150: "Informational",
		200: "OK", 299: "Success", 302: "Moved Temporarily", 399: "Redirection",
		408: "Request Time-out", 429: "Too Many Requests", 498: "Client Error",
		502: "Bad Gateway or Proxy Error", 598: "Server Error", 999: "Other",
	} {
		if got := replyReason(code); got != want {
			t.Errorf("replyReason(%d) = %q, want %q", code, got, want)
		}
	}
}
