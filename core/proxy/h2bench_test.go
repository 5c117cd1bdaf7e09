package proxy

import (
	"testing"

	"golang.org/x/net/http2"
)

// BenchmarkH2Request: one HTTP/2 GET through the engine to a raw backend,
// on a kept-alive connection (a new stream each time), with a hand-driven
// client whose own costs are small. allocs/op are the engine's (and the
// client framer's few).
func BenchmarkH2Request(b *testing.B) {
	_, addr := startH2Engine(b, simpleConfig(rawBackend(b)))
	r := dialH2(b, addr)
	r.fr.WriteWindowUpdate(0, 1<<30) // DATA the client never returns
	blk := r.block(":method", "GET", ":scheme", "http", ":path", "/index.html", ":authority", "bench.example", "user-agent", "bench", "accept", "*/*")
	id := uint32(1)
	one := func() {
		r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: blk, EndStream: true, EndHeaders: true})
		for {
			f, err := r.fr.ReadFrame()
			if err != nil {
				b.Fatal(err)
			}
			if d, ok := f.(*http2.DataFrame); ok && d.StreamEnded() && d.StreamID == id {
				break
			}
			switch f := f.(type) {
			case *http2.GoAwayFrame:
				b.Fatalf("GOAWAY %v at stream %d", f.ErrCode, id)
			case *http2.RSTStreamFrame:
				b.Fatalf("RST_STREAM %v on stream %d", f.ErrCode, f.StreamID)
			}
		}
		id += 2
	}
	for i := 0; i < 10; i++ {
		one()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		one()
	}
}
