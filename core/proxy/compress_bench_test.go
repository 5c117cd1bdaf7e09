package proxy

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// compRawBackend answers every request with a 16 KiB compressible text,
// reusing one buffer per connection (no allocations of its own).
func compRawBackend(tb testing.TB) string {
	tb.Helper()
	body := compBody(16 << 10)
	resp := []byte(clResp("Content-Type: text/plain\r\n", body))
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

// compGET sends one GET asking for gzip and reads the chunked response to
// its last chunk.
func compGET(tb testing.TB, c net.Conn, req, buf []byte) {
	if _, err := c.Write(req); err != nil {
		tb.Fatal(err)
	}
	n := 0
	for !bytes.HasSuffix(buf[:n], []byte("\r\n0\r\n\r\n")) {
		if n == len(buf) {
			tb.Fatal("response larger than the buffer")
		}
		m, err := c.Read(buf[n:])
		if err != nil {
			tb.Fatal(err)
		}
		n += m
	}
}

func compBenchClient(tb testing.TB) func() {
	cfg := compConfig(compRawBackend(tb), algosOf("gzip"), nil)
	_, addr := startEngine(tb, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(time.Minute))
	req := []byte("GET /index.html HTTP/1.1\r\nHost: bench.example\r\nAccept-Encoding: gzip, deflate\r\n\r\n")
	buf := make([]byte, 64<<10)
	do := func() { compGET(tb, c, req, buf) }
	for i := 0; i < 50; i++ { // warm the pools and the upstream connection
		do()
	}
	return do
}

// BenchmarkProxiedGETCompressed is BenchmarkProxiedGET with a 16 KiB
// text/plain response gzip-compressed on the way (level 1).
func BenchmarkProxiedGETCompressed(b *testing.B) {
	do := compBenchClient(b)
	b.ReportAllocs()
	b.SetBytes(16 << 10)
	b.ResetTimer()
	for b.Loop() {
		do()
	}
}
