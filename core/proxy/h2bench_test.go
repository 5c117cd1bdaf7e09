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

// TestH2IdleWorkers: the most recently idle worker is reused first, and a
// worker idle for two reaper ticks is ended (told by a nil stream) while a
// younger one is kept.
func TestH2IdleWorkers(t *testing.T) {
	var p h2idleStack
	p.reaper.Do(func() {}) // no background reaper: the test ticks
	old, young := &h2w{next: make(chan *h2stream, 1)}, &h2w{next: make(chan *h2stream, 1)}
	p.put(old)
	p.tick()
	p.put(young)
	if w := p.take(); w != young {
		t.Fatalf("take: got %p, want the most recently idle %p", w, young)
	}
	p.put(young)
	p.tick() // old idle for two ticks, young for one
	select {
	case st := <-old.next:
		if st != nil {
			t.Fatalf("old worker got a stream, want nil (end)")
		}
	default:
		t.Fatal("old worker was not ended after two ticks")
	}
	select {
	case <-young.next:
		t.Fatal("young worker ended after one tick")
	default:
	}
	if w := p.take(); w != young {
		t.Fatalf("after reaping: got %p, want %p", w, young)
	}
	if w := p.take(); w != nil {
		t.Fatalf("stack should be empty, got %p", w)
	}
}
