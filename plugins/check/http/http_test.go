package http

import (
	"os"
	"testing"

	"github.com/varde-lb/varde/core/health"
)

func TestBuildRequest(t *testing.T) {
	for _, tc := range []struct {
		spec health.HTTPSpec
		want string
	}{
		{health.HTTPSpec{}, "OPTIONS / HTTP/1.0\r\nConnection: close\r\n\r\n"},
		{health.HTTPSpec{Method: "GET", URI: "/health_check.php"}, "GET /health_check.php HTTP/1.0\r\nConnection: close\r\n\r\n"},
		// 2010-era configs put headers after the version with \r\n.
		{health.HTTPSpec{Method: "GET", URI: "/api/health", Version: `HTTP/1.1\r\nHost: example.com`},
			"GET /api/health HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"},
		{health.HTTPSpec{Method: "POST", URI: "/c", Version: "HTTP/1.1", Headers: [][2]string{{"Host", "a"}}, Body: "ping"},
			"POST /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 4\r\n\r\nping"},
	} {
		if got := string(BuildRequest(tc.spec)); got != tc.want {
			t.Errorf("BuildRequest(%+v) = %q, want %q", tc.spec, got, tc.want)
		}
	}
}

func TestJudge(t *testing.T) {
	ok200 := "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nhealthy"
	for _, tc := range []struct {
		expect []health.Expect
		resp   string
		err    error
		status string
		code   int
	}{
		{nil, ok200, nil, "L7OK", 200},
		{nil, "HTTP/1.0 302 Found\r\n\r\n", nil, "L7OK", 302},
		{nil, "HTTP/1.1 404 Not Found\r\n\r\n", nil, "L7STS", 404},
		{nil, "HTTP/1.1 503 Service Unavailable\r\n\r\n", nil, "L7STS", 503},
		{nil, "", nil, "L7RSP", 0},
		{nil, "", os.ErrDeadlineExceeded, "L7TOUT", 0},
		{nil, "SSH-2.0\r\n", nil, "L7RSP", 0},
		{nil, "HTTP/1.1 2x0 OK\r\n", nil, "L7RSP", 0},
		{[]health.Expect{{Kind: "status", Pattern: "200-299"}}, ok200, nil, "L7OK", 200},
		{[]health.Expect{{Kind: "status", Pattern: "204,205"}}, ok200, nil, "L7STS", 200},
		{[]health.Expect{{Kind: "string", Pattern: "healthy"}}, ok200, nil, "L7OK", 200},
		{[]health.Expect{{Negate: true, Kind: "string", Pattern: "healthy"}}, ok200, nil, "L7RSP", 200},
		{[]health.Expect{{Kind: "rstring", Pattern: "^heal"}}, ok200, nil, "L7OK", 200},
		{[]health.Expect{{Kind: "rstatus", Pattern: "^5"}}, ok200, nil, "L7STS", 200},
		{[]health.Expect{{Kind: "string", Pattern: "x"}}, "HTTP/1.1 200 OK\r\n\r\npartial", os.ErrDeadlineExceeded, "L7TOUT", 200},
	} {
		p, err := New(health.HTTPSpec{Expect: tc.expect})
		if err != nil {
			t.Fatal(err)
		}
		r := p.Judge([]byte(tc.resp), tc.err)
		if r.Status != tc.status || r.Code != tc.code || r.OK != (tc.status == "L7OK") {
			t.Errorf("expect %+v on %q: got %s/%d ok=%v (%s)", tc.expect, tc.resp, r.Status, r.Code, r.OK, r.Info)
		}
	}
	if _, err := New(health.HTTPSpec{Expect: []health.Expect{{Kind: "rstring", Pattern: "("}}}); err == nil {
		t.Error("bad regex accepted")
	}
	if _, err := New(health.HTTPSpec{Expect: []health.Expect{{Kind: "hdr", Pattern: "x"}}}); err == nil {
		t.Error("unsupported expect accepted")
	}
}

func FuzzJudge(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\n\r\nbody"))
	f.Add([]byte("HTTP/1.0 503\n"))
	f.Fuzz(func(t *testing.T, resp []byte) {
		p, _ := New(health.HTTPSpec{Expect: []health.Expect{{Kind: "rstring", Pattern: "ok"}, {Kind: "status", Pattern: "200-399"}}})
		r := p.Judge(resp, nil)
		if r.OK && (r.Code < 200 || r.Code > 399) {
			t.Fatalf("%q passed with code %d", resp, r.Code)
		}
	})
}
