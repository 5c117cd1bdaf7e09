package httpx

import (
	"strings"
	"testing"
)

// TestAbsoluteForm: an absolute-form target whose authority differs from
// Host is refused; when they agree the target loses its default port and
// the rest of the head is untouched (HAProxy 2.6's behaviour, checked
// against HAProxy itself in core/proxy's TestDifferentialHAProxy).
func TestAbsoluteForm(t *testing.T) {
	tests := []struct {
		raw, target string
		err         error
	}{
		{raw: "GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n", target: "http://a.example/x"},
		{raw: "GET http://a.example/x HTTP/1.1\r\nHost: A.Example\r\n\r\n", target: "http://a.example/x"},
		{raw: "GET http://a.example:80/x?y HTTP/1.1\r\nHost: a.example\r\n\r\n", target: "http://a.example/x?y"},
		{raw: "GET http://a.example:80 HTTP/1.1\r\nHost: a.example:80\r\n\r\n", target: "http://a.example"},
		{raw: "GET http://a.example/x HTTP/1.1\r\nHost: a.example:80\r\n\r\n", target: "http://a.example/x"},
		{raw: "GET https://a.example:443/x HTTP/1.1\r\nHost: a.example\r\n\r\n", target: "https://a.example/x"},
		{raw: "GET HTTP://u:p@a.example:80/x HTTP/1.1\r\nHost: a.example\r\n\r\n", target: "HTTP://u:p@a.example/x"},
		{raw: "GET http://[2001:db8::1]:80/x HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n", target: "http://[2001:db8::1]/x"},
		{raw: "GET http://a.example/x HTTP/1.0\r\n\r\n", target: "http://a.example/x"},
		{raw: "GET ftp://a.example:80/x HTTP/1.1\r\nHost: a.example:80\r\n\r\n", target: "ftp://a.example:80/x"},
		{raw: "GET /x HTTP/1.1\r\nHost: b.example\r\n\r\n", target: "/x"},
		{raw: "GET /redirect?to=http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n", target: "/redirect?to=http://a.example/"},
		{raw: "OPTIONS * HTTP/1.1\r\nHost: b.example\r\n\r\n", target: "*"},
		{raw: "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", target: "a.example:443"},
		{raw: "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n", target: "[2001:db8::1]:443"},
		{raw: "OPTIONS * HTTP/1.0\r\n\r\n", target: "*"},
		{raw: "GET //x HTTP/1.1\r\nHost: a\r\n\r\n", target: "//x"},
		// Forms HAProxy 2.6 forwards but RFC 9112 3.2 does not allow.
		{raw: "GET * HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrTargetForm},
		{raw: "OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrTargetForm},
		{raw: "GET a HTTP/1.0\r\nHost: a\r\n\r\n", err: ErrTargetForm},
		{raw: "CONNECT a:443/x HTTP/1.1\r\nHost: a:443\r\n\r\n", err: ErrTargetForm},
		{raw: "CONNECT u@a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", err: ErrTargetForm},
		{raw: "GET .. HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrTargetForm},
		{raw: "GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n", err: ErrHostMismatch},
		{raw: "GET http://a.example:8080/x HTTP/1.1\r\nHost: a.example\r\n\r\n", err: ErrHostMismatch},
		{raw: "GET https://a.example:80/x HTTP/1.1\r\nHost: a.example\r\n\r\n", err: ErrHostMismatch},
		{raw: "GET http://a.example/x HTTP/1.1\r\nHost:\r\n\r\n", err: ErrHostMismatch},
		{raw: "GET http://b.example@a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n", err: ErrHostMismatch},
		{raw: "GET http://a.example/x HTTP/1.1\r\n\r\n", err: ErrMissingHost},
	}
	for _, tt := range tests {
		var r Request
		buf := []byte(tt.raw)
		err := r.Parse(buf, DefaultLimits)
		if err != tt.err {
			t.Errorf("%q: %v, want %v", tt.raw, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if got := string(r.Target.Of(buf)); got != tt.target {
			t.Errorf("%q: target %q, want %q", tt.raw, got, tt.target)
		}
		if m := string(r.Method.Of(buf)); !strings.HasPrefix(tt.raw, m+" ") {
			t.Errorf("%q: method %q", tt.raw, m)
		}
		if v, _ := r.Field("host"); tt.raw != "" && !strings.Contains(tt.raw, "Host: "+string(v)) && r.Minor == 1 {
			t.Errorf("%q: Host now %q", tt.raw, v)
		}
	}
}
