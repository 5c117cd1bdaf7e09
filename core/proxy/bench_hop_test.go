package proxy

import (
	"testing"

	"github.com/varde-lb/varde/core/httpx"
)

// hopRequest carries hop-by-hop fields and one named in Connection, so the
// sanitising of the view is on the measured path.
const hopRequest = "GET /index.html HTTP/1.1\r\nHost: bench.example\r\nConnection: keep-alive, X-Trace\r\nKeep-Alive: timeout=5\r\nX-Trace: 1\r\nTE: trailers\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"

func hopClient(tb testing.TB) *rawClient {
	rc := benchEngine(tb)
	rc.req = []byte(hopRequest)
	for i := 0; i < 100; i++ {
		rc.do(tb)
	}
	return rc
}

// BenchmarkProxiedGETHopByHop is BenchmarkProxiedGET with a request whose
// view must be sanitised. It must show 0 allocs/op too.
func BenchmarkProxiedGETHopByHop(b *testing.B) {
	rc := hopClient(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rc.do(b)
	}
}

func TestProxiedGETHopByHopAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("alloc measurement")
	}
	rc := hopClient(t)
	if n := testing.AllocsPerRun(500, func() { rc.do(t) }); n > 0 {
		t.Fatalf("%.2f allocations per proxied GET with hop-by-hop fields, want 0", n)
	}
}

// BenchmarkSanitize measures parsing a head with and without sanitising
// its view, so the cost of the view is visible apart from the network.
func BenchmarkSanitize(b *testing.B) {
	for _, tc := range []struct {
		name     string
		req      string
		sanitize bool
	}{
		{"plain/parse", benchPlain, false},
		{"plain/parse+sanitize", benchPlain, true},
		{"hop/parse", hopRequest, false},
		{"hop/parse+sanitize", hopRequest, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := &Engine{cfg: &Config{}, limits: httpx.DefaultLimits}
			s := e.newSession()
			s.n = copy(s.in, tc.req)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.req.Parse(s.in[:s.n], e.limits); err != nil {
					b.Fatal(err)
				}
				if tc.sanitize {
					s.sanitize()
				}
			}
		})
	}
}

const benchPlain = "GET /index.html HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
