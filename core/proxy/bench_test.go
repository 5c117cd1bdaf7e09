package proxy

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// rawBackend answers every request with a fixed small response, reusing
// one buffer per connection, so it adds no allocations of its own to the
// measurement.
func rawBackend(tb testing.TB) string {
	tb.Helper()
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n")
	return rawServer(tb, func(c net.Conn) {
		buf := make([]byte, 8192)
		n := 0
		for {
			m, err := c.Read(buf[n:])
			if err != nil {
				return
			}
			n += m
			for {
				i := bytes.Index(buf[:n], []byte("\r\n\r\n"))
				if i < 0 {
					break
				}
				if _, err := c.Write(resp); err != nil {
					return
				}
				copy(buf, buf[i+4:n])
				n -= i + 4
			}
		}
	})
}

// proxiedGET sends one GET over a kept-alive client connection and reads
// the whole response (its length is known in advance).
type rawClient struct {
	c    net.Conn
	req  []byte
	buf  []byte
	want int
}

func newRawClient(tb testing.TB, addr string) *rawClient {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	rc := &rawClient{c: c, buf: make([]byte, 4096),
		req: []byte("GET /index.html HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")}
	// Learn the response size once.
	c.Write(rc.req)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n := 0
	for {
		m, err := c.Read(rc.buf[n:])
		if err != nil {
			tb.Fatal(err)
		}
		n += m
		if i := bytes.Index(rc.buf[:n], []byte("\r\n\r\n")); i >= 0 && n >= i+4+12 {
			break
		}
	}
	rc.want = n
	c.SetReadDeadline(time.Time{})
	return rc
}

func (rc *rawClient) do(tb testing.TB) {
	if _, err := rc.c.Write(rc.req); err != nil {
		tb.Fatal(err)
	}
	n := 0
	for n < rc.want {
		m, err := rc.c.Read(rc.buf[n:])
		if err != nil {
			tb.Fatal(err)
		}
		n += m
	}
}

func benchEngine(tb testing.TB) *rawClient {
	cfg := simpleConfig(rawBackend(tb), rawBackend(tb))
	cfg.Backends[0].ForwardFor = &ForwardFor{}
	_, addr := startEngine(tb, cfg)
	rc := newRawClient(tb, addr)
	for i := 0; i < 100; i++ { // warm the pools and upstream connections
		rc.do(tb)
	}
	return rc
}

// BenchmarkProxiedGET is the fast path: parse, route, pick (round robin
// over two servers), rewrite the head with X-Forwarded-For, forward on a
// reused upstream connection, relay the response. It must show 0 allocs/op.
func BenchmarkProxiedGET(b *testing.B) {
	rc := benchEngine(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rc.do(b)
	}
}

// TestProxiedGETAllocs asserts the steady state of the fast path allocates
// nothing (client, engine and backend together, as AllocsPerRun counts
// every goroutine).
func TestProxiedGETAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("alloc measurement")
	}
	rc := benchEngine(t)
	n := testing.AllocsPerRun(500, func() { rc.do(t) })
	if n > 0 {
		t.Fatalf("%.2f allocations per proxied GET, want 0", n)
	}
}
