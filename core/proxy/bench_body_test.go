package proxy

import (
	"bytes"
	"fmt"
	"net"
	"testing"
)

// bodyBackend answers every request with a size-byte body (Content-Length
// framing), written from one prebuilt buffer so the backend adds no
// allocations to the measurement.
func bodyBackend(tb testing.TB, size int) string {
	tb.Helper()
	resp := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", size)
	resp = append(resp, bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]...)
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

// bodyClient fetches one large response per call over a kept-alive
// connection, reading it into a fixed buffer.
type bodyClient struct {
	c    net.Conn
	req  []byte
	buf  []byte
	want int
}

func bodyEngine(tb testing.TB, size int, tune func(*Config)) *bodyClient {
	cfg := simpleConfig(bodyBackend(tb, size), bodyBackend(tb, size))
	cfg.Backends[0].ForwardFor = &ForwardFor{}
	if tune != nil {
		tune(cfg)
	}
	_, addr := startEngine(tb, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	bc := &bodyClient{c: c, buf: make([]byte, 256<<10),
		req: []byte("GET /big HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")}
	// The head varde sends is fixed for this config: learn its length.
	c.Write(bc.req)
	n := 0
	for {
		m, err := c.Read(bc.buf[n:])
		if err != nil {
			tb.Fatal(err)
		}
		n += m
		if i := bytes.Index(bc.buf[:n], []byte("\r\n\r\n")); i >= 0 {
			bc.want = i + 4 + size
			break
		}
	}
	for n < bc.want {
		m, err := c.Read(bc.buf[:min(len(bc.buf), bc.want-n)])
		if err != nil {
			tb.Fatal(err)
		}
		n += m
	}
	for i := 0; i < 20; i++ {
		bc.do(tb)
	}
	return bc
}

func (bc *bodyClient) do(tb testing.TB) {
	if _, err := bc.c.Write(bc.req); err != nil {
		tb.Fatal(err)
	}
	n := 0
	for n < bc.want {
		m, err := bc.c.Read(bc.buf[:min(len(bc.buf), bc.want-n)])
		if err != nil {
			tb.Fatal(err)
		}
		n += m
	}
}

// benchBody measures one body size spliced (the default) and copied in
// user space (global nosplice).
func benchBody(b *testing.B, size int) {
	for _, mode := range []string{"splice", "copy"} {
		b.Run(mode, func(b *testing.B) {
			bc := bodyEngine(b, size, func(c *Config) { c.NoSplice = mode == "copy" })
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				bc.do(b)
			}
		})
	}
}

// BenchmarkProxied64K and BenchmarkProxied1M are issue 16's body shapes:
// one response of 64 KiB or 1 MiB with Content-Length per request, on a
// kept-alive client connection and a reused server connection.
func BenchmarkProxied64K(b *testing.B) { benchBody(b, 64<<10) }
func BenchmarkProxied1M(b *testing.B)  { benchBody(b, 1<<20) }

// TestProxiedBodyAllocs: the body shapes allocate nothing per request in
// the steady state, spliced or copied (client, engine and backend
// together, as AllocsPerRun counts every goroutine).
func TestProxiedBodyAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("alloc measurement (the race detector's sync.Pool drops items on purpose)")
	}
	for _, size := range []int{64 << 10, 1 << 20} {
		for _, nosplice := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/nosplice=%v", size, nosplice), func(t *testing.T) {
				bc := bodyEngine(t, size, func(c *Config) { c.NoSplice = nosplice })
				if n := testing.AllocsPerRun(100, func() { bc.do(t) }); n > 0 {
					t.Fatalf("%.2f allocations per proxied %d-byte response, want 0", n, size)
				}
			})
		}
	}
}
