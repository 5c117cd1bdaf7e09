package proxy

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Seed builds a frame sequence with a real framer.
func h2Seed(build func(fr *http2.Framer, blk func(kv ...string) []byte)) []byte {
	var out, hb bytes.Buffer
	fr := http2.NewFramer(&out, nil)
	enc := hpack.NewEncoder(&hb)
	blk := func(kv ...string) []byte {
		hb.Reset()
		for i := 0; i+1 < len(kv); i += 2 {
			enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return append([]byte(nil), hb.Bytes()...)
	}
	fr.WriteSettings()
	build(fr, blk)
	return out.Bytes()
}

// FuzzH2Frames feeds arbitrary bytes after the connection preface to the
// HTTP/2 connection handler over net.Pipe, with a real backend behind it.
// Whatever the input, the handler must not panic, must answer or close,
// and must end within a bounded time once the client goes away.
func FuzzH2Frames(f *testing.F) {
	get := []string{":method", "GET", ":scheme", "http", ":path", "/", ":authority", "x"}
	post := []string{":method", "POST", ":scheme", "http", ":path", "/p", ":authority", "x", "content-length", "3"}
	f.Add(h2Seed(func(fr *http2.Framer, blk func(...string) []byte) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk(get...), EndStream: true, EndHeaders: true})
	}))
	f.Add(h2Seed(func(fr *http2.Framer, blk func(...string) []byte) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk(post...), EndHeaders: true})
		fr.WriteData(1, false, []byte("ab"))
		fr.WriteWindowUpdate(0, 1000)
		fr.WriteData(1, true, []byte("c"))
		fr.WritePing(false, [8]byte{1})
	}))
	f.Add(h2Seed(func(fr *http2.Framer, blk func(...string) []byte) {
		b := blk(get...)
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: b[:3]})
		fr.WriteContinuation(3, true, b[3:])
		fr.WriteRSTStream(3, http2.ErrCodeCancel)
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: blk(append(get, "te", "trailers")...), EndHeaders: true})
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: blk("x-t", "1"), EndStream: true, EndHeaders: true})
		fr.WriteGoAway(5, http2.ErrCodeNo, nil)
	}))
	srv, _ := backend(f, "a", nil)
	cfg := simpleConfig(hostport(srv))
	cfg.Frontends[0].Timeouts.Client = time.Second
	cfg.Backends[0].Timeouts.Server = time.Second
	e, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	fe := e.frontends[0]
	f.Fuzz(func(t *testing.T, in []byte) {
		cli, srvSide := net.Pipe()
		done := make(chan struct{})
		e.wg.Add(1)
		go func() { e.serveH2(fe, srvSide, admission{}); close(done) }()
		go io.Copy(io.Discard, cli)
		cli.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		cli.Write([]byte(http2.ClientPreface))
		cli.Write(in)
		time.Sleep(5 * time.Millisecond)
		cli.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("connection handler did not end after the client left")
		}
		if n := e.Panics.Load(); n != 0 {
			t.Fatalf("%d panics", n)
		}
	})
}
