package proxy

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// cacheBenchClient is a kept-alive client of an engine whose backend's
// only answer is cacheable: after the first request every GET is a hit.
func cacheBenchClient(tb testing.TB) *rawClient {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: max-age=3600\r\nContent-Length: 12\r\n\r\nhello world\n")
	addr := rawServer(tb, func(c net.Conn) {
		buf := make([]byte, 8192)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			c.Write(resp)
		}
	})
	text := `defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend f
    bind 127.0.0.1:1
    default_backend b
backend b
    http-request cache-use c
    http-response cache-store c
    server s ` + addr + `
cache c
    total-max-size 4
`
	pcfg := engineConfigText(tb, "bench.cfg", text)
	_, eaddr := startEngine(tb, pcfg)
	rc := newRawClient(tb, eaddr) // the miss that stores the object
	// Learn the size of a hit (it carries an Age field).
	rc.c.Write(rc.req)
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n := 0
	for {
		m, err := rc.c.Read(rc.buf[n:])
		if err != nil {
			tb.Fatal(err)
		}
		n += m
		if i := bytes.Index(rc.buf[:n], []byte("\r\n\r\n")); i >= 0 && n >= i+4+12 {
			break
		}
	}
	if !bytes.Contains(rc.buf[:n], []byte("\r\nage: ")) {
		tb.Fatalf("not a hit:\n%s", rc.buf[:n])
	}
	rc.want = n
	rc.c.SetReadDeadline(time.Time{})
	for i := 0; i < 100; i++ {
		rc.do(tb)
	}
	return rc
}

// BenchmarkCacheHit is a GET answered from the cache on a kept-alive
// connection: key, lookup, head, rules, write. It must show 0 allocs/op.
func BenchmarkCacheHit(b *testing.B) {
	rc := cacheBenchClient(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rc.do(b)
	}
}

// TestCacheHitAllocs asserts a cache hit allocates nothing once warm.
func TestCacheHitAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("alloc measurement")
	}
	rc := cacheBenchClient(t)
	if n := testing.AllocsPerRun(500, func() { rc.do(t) }); n > 0 {
		t.Fatalf("%.2f allocations per cache hit, want 0", n)
	}
}
