package httpx

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRequestGood(t *testing.T) {
	raw := "\r\nPOST /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nX-Empty:\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\nExpect: 100-continue\r\nX-Sp:  v  \t\r\n\r\nhello"
	var r Request
	if err := r.Parse([]byte(raw), DefaultLimits); err != nil {
		t.Fatal(err)
	}
	buf := []byte(raw)
	got := map[string]any{
		"method": string(r.Method.Of(buf)), "target": string(r.Target.Of(buf)), "minor": r.Minor,
		"cl": r.ContentLength, "headlen": r.HeadLen, "host": r.HostIdx, "expect": r.Expect100,
		"ka": r.KeepAlive(), "drop": r.ListedInConnection([]byte("x-drop")), "body": r.RequestBody(),
	}
	var fields []string
	for i := range r.Fields {
		if r.Forwardable(i, false) {
			fields = append(fields, string(r.Name(i))+"="+string(r.Value(i)))
		}
	}
	got["fields"] = fields
	want := map[string]any{
		"method": "POST", "target": "/a/b?x=1", "minor": 1, "cl": int64(5), "headlen": len(raw) - 5,
		"host": 0, "expect": true, "ka": true, "drop": true, "body": BodyLength,
		"fields": []string{"Host=example.com", "Content-Length=5", "X-Empty=", "Expect=100-continue", "X-Sp=v"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got)\n%s", d)
	}
}

// TestParseRequestBad is the bad-input list of the engine issue, byte for
// byte; the proxy tests replay the same table over sockets.
func TestParseRequestBad(t *testing.T) {
	for _, tc := range BadRequests {
		t.Run(tc.Name, func(t *testing.T) {
			var r Request
			err := r.Parse([]byte(tc.Raw), DefaultLimits)
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("Parse(%q) = %v, want status %d", tc.Raw, err, tc.Status)
			}
			if e.Status != tc.Status {
				t.Fatalf("Parse(%q) status %d (%v), want %d", tc.Raw, e.Status, e, tc.Status)
			}
		})
	}
}

func TestParseRequestIncomplete(t *testing.T) {
	full := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	for i := 0; i < len(full); i++ {
		var r Request
		if err := r.Parse([]byte(full[:i]), DefaultLimits); err != ErrIncomplete {
			t.Fatalf("prefix %q: %v, want ErrIncomplete", full[:i], err)
		}
	}
	// A garbage method is rejected before the head is complete.
	var r Request
	if err := r.Parse([]byte("G\x00T"), DefaultLimits); err != ErrBadMethod {
		t.Fatalf("got %v", err)
	}
	if err := r.Parse([]byte("PRI * HTTP/2.0\r\n"), DefaultLimits); err != ErrH2Preface {
		t.Fatalf("preface: got %v", err)
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		raw    string
		head   bool
		status int
		body   BodyKind
		err    bool
	}{
		{raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", status: 200, body: BodyLength},
		{raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", head: true, status: 200, body: BodyNone},
		{raw: "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n", status: 204, body: BodyNone},
		{raw: "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", status: 304, body: BodyNone},
		{raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", status: 200, body: BodyChunked},
		{raw: "HTTP/1.0 200 OK\r\n\r\n", status: 200, body: BodyEOF},
		{raw: "HTTP/1.1 100 Continue\r\n\r\n", status: 100, body: BodyNone},
		{raw: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", status: 200, body: BodyNone},
		{raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", err: true},
		{raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", err: true},
		{raw: "HTTP/1.1 2x0 OK\r\n\r\n", err: true},
		{raw: "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", err: true},
		{raw: "ICY 200 OK\r\n\r\n", err: true},
	}
	for _, tc := range tests {
		var r Response
		err := r.Parse([]byte(tc.raw), DefaultLimits)
		if tc.err {
			if e, ok := err.(*Error); !ok || e.Status != 502 {
				t.Errorf("%q: got %v, want a 502 error", tc.raw, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.raw, err)
			continue
		}
		if r.Status != tc.status || r.ResponseBody(tc.head) != tc.body {
			t.Errorf("%q: status %d body %d, want %d %d", tc.raw, r.Status, r.ResponseBody(tc.head), tc.status, tc.body)
		}
	}
}

func TestChunked(t *testing.T) {
	good := []string{
		"0\r\n\r\n",
		"5\r\nhello\r\n0\r\n\r\n",
		"5;ext=1\r\nhello\r\nA \t;x\r\n0123456789\r\n0\r\nTrailer: v\r\n\r\n",
	}
	for _, s := range good {
		// Byte by byte and at once, with a pipelined next request behind.
		for _, step := range []int{1, len(s) + 7} {
			var c Chunked
			in := s + "NEXT..."
			consumed := 0
			for consumed < len(in) && !c.Done() {
				end := min(consumed+step, len(in))
				n, err := c.Scan([]byte(in[consumed:end]))
				if err != nil {
					t.Fatalf("%q step %d: %v", s, step, err)
				}
				consumed += n
				if n < end-consumed+n && !c.Done() {
					t.Fatalf("%q: short scan without end", s)
				}
			}
			if !c.Done() || consumed != len(s) {
				t.Fatalf("%q step %d: done=%v consumed %d want %d", s, step, c.Done(), consumed, len(s))
			}
		}
	}
	bad := []string{
		"\r\n", "x\r\n", "-1\r\n", "5 \r\nhello\r\n", "5\nhello", "5\r\nhelloX\r\n", "1000000000000000\r\n",
		"0\r\n bad\r\n\r\n", "0\r\nTrailer: v\n", "+5\r\nhello\r\n0\r\n\r\n", "0x5\r\n",
	}
	for _, s := range bad {
		var c Chunked
		if _, err := c.Scan([]byte(s)); err == nil {
			t.Errorf("%q: accepted", s)
		}
	}
}

func TestErrorPage(t *testing.T) {
	got := string(ErrorPage(503))
	want := "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n" +
		"<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got)\n%s", d)
	}
}

func TestParseAllocs(t *testing.T) {
	req := []byte("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\nAccept: */*\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n")
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\nConnection: keep-alive, X-A\r\n\r\n")
	r := Request{Head: Head{Fields: make([]Field, 0, 101)}}
	s := Response{Head: Head{Fields: make([]Field, 0, 101)}}
	n := testing.AllocsPerRun(100, func() {
		if err := r.Parse(req, DefaultLimits); err != nil {
			t.Fatal(err)
		}
		if err := s.Parse(resp, DefaultLimits); err != nil {
			t.Fatal(err)
		}
		_ = s.ListedInConnection([]byte("x-a"))
	})
	if n != 0 {
		t.Fatalf("%v allocs per parse, want 0", n)
	}
}

func BenchmarkParseRequest(b *testing.B) {
	req := []byte("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: text/html,application/xhtml+xml\r\nAccept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.5\r\nConnection: keep-alive\r\nCookie: SERVERID=s1; session=abcdef0123456789\r\n\r\n")
	r := Request{Head: Head{Fields: make([]Field, 0, 101)}}
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Parse(req, DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseResponse(b *testing.B) {
	resp := []byte("HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sat, 21 Nov 2026 19:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 612\r\nConnection: keep-alive\r\nETag: \"abc\"\r\n\r\n")
	r := Response{Head: Head{Fields: make([]Field, 0, 101)}}
	b.SetBytes(int64(len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Parse(resp, DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("GET http://u@a:80/x HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
	for _, tc := range BadRequests {
		f.Add([]byte(tc.Raw))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Request
		err := r.Parse(data, Limits{MaxHead: 1024, MaxHeaders: 20})
		if err != nil {
			return
		}
		// Invariants a smuggling-safe parser must keep.
		if r.HeadLen > len(data) || r.HeadLen > 1024 {
			t.Fatalf("head length %d out of range", r.HeadLen)
		}
		if r.TE && r.ContentLength >= 0 {
			t.Fatal("accepted both Content-Length and Transfer-Encoding")
		}
		if r.Minor == 1 && r.HostIdx < 0 {
			t.Fatal("accepted HTTP/1.1 without Host")
		}
		for i := range r.Fields {
			for _, c := range r.Value(i) {
				if c == '\r' || c == '\n' || c == 0 {
					t.Fatalf("accepted control byte in value %q", r.Value(i))
				}
			}
		}
		if r.RequestBody() == BodyChunked {
			var c Chunked
			_, _ = c.Scan(data[r.HeadLen:])
		}
		// An absolute-form target agrees with Host (default ports aside).
		tg := r.Target.Of(data)
		if n := schemeLen(tg); n > 0 && r.HostIdx >= 0 {
			if bytes.ContainsAny(tg, " \r\n") {
				t.Fatalf("target %q", tg)
			}
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), false)
	f.Add([]byte("HTTP/1.0 304 x\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		var r Response
		if err := r.Parse(data, Limits{MaxHead: 1024, MaxHeaders: 20}); err != nil {
			if err != ErrIncomplete && strings.HasPrefix(err.Error(), "httpx:") {
				if e, ok := err.(*Error); ok && e.Status != 502 {
					t.Fatalf("response error with status %d", e.Status)
				}
			}
			return
		}
		if r.Status < 100 || r.Status > 999 {
			t.Fatalf("status %d", r.Status)
		}
		if r.ResponseBody(head) == BodyChunked {
			var c Chunked
			_, _ = c.Scan(data[r.HeadLen:])
		}
	})
}
