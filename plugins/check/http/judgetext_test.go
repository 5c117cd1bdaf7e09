package http

import (
	"errors"
	"os"
	"testing"

	"github.com/varde-lb/varde/core/health"
)

// TestJudgeTexts pins HAProxy 2.6.12's last_chk texts for HTTP checks (the
// differential test in plugins/check/tcpcheck compares them with haproxy).
func TestJudgeTexts(t *testing.T) {
	ok := "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"
	cases := []struct {
		name   string
		expect []health.Expect
		resp   string
		err    error
		status string
		info   string
	}{
		{"success has no text", nil, ok, nil, "L7OK", ""},
		{"wrong status: the reason", nil, "HTTP/1.0 503 Service Unavailable\r\n\r\n", nil, "L7STS", "Service Unavailable"},
		{"empty", nil, "", nil, "L7RSP", ""},
		{"not HTTP", nil, "220 smtp ready\r\n", nil, "L7RSP", ""},
		{"timeout", nil, "", os.ErrDeadlineExceeded, "L7TOUT", ""},
		{"comment on the failing rule", []health.Expect{{Kind: "status", Pattern: "200", Comment: "health page"}}, "HTTP/1.0 503 Service Unavailable\r\n\r\n", nil, "L7STS", "Service Unavailable comment: health page"},
		{"comment when not HTTP", []health.Expect{{Kind: "status", Pattern: "200", Comment: "c"}}, "hello\r\n", nil, "L7RSP", " comment: c"},
		{"no body", []health.Expect{{Kind: "string", Pattern: "ready"}}, ok, nil, "L7RSP", "HTTP content check could not find a response body"},
		{"body mismatch", []health.Expect{{Kind: "string", Pattern: "ready"}}, "HTTP/1.0 200 OK\r\n\r\nbusy", errors.New("EOF"), "L7RSP", "HTTP content check did not match"},
		{"unwanted body", []health.Expect{{Negate: true, Kind: "rstring", Pattern: "bu.y"}}, "HTTP/1.0 200 OK\r\n\r\nbusy", nil, "L7RSP", "HTTP check matched unwanted content"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(health.HTTPSpec{Expect: tc.expect})
			if err != nil {
				t.Fatal(err)
			}
			r := p.Judge([]byte(tc.resp), tc.err)
			if r.Status != tc.status || r.Info != tc.info {
				t.Errorf("got %s %q, want %s %q", r.Status, r.Info, tc.status, tc.info)
			}
		})
	}
}
