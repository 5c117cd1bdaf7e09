package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// rawH2 is a hand-driven HTTP/2 client: it sends exactly the frames a
// test wants, including invalid ones.
type rawH2 struct {
	t   testing.TB
	c   net.Conn
	fr  *http2.Framer
	buf bytes.Buffer
	enc *hpack.Encoder
}

func dialH2(t testing.TB, addr string) *rawH2 {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	r := &rawH2{t: t, c: c, fr: http2.NewFramer(c, c)}
	r.enc = hpack.NewEncoder(&r.buf)
	r.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	r.fr.WriteSettings()
	return r
}

// block encodes name/value pairs.
func (r *rawH2) block(kv ...string) []byte {
	r.buf.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		r.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return append([]byte(nil), r.buf.Bytes()...)
}

var getFields = []string{":method", "GET", ":scheme", "http", ":path", "/", ":authority", "x"}

func (r *rawH2) headers(id uint32, end bool, kv ...string) {
	r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: r.block(kv...), EndStream: end, EndHeaders: true})
}

// until reads frames until match returns true; it fails on EOF or timeout.
func (r *rawH2) until(what string, match func(http2.Frame) bool) http2.Frame {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			r.t.Fatalf("waiting for %s: %v", what, err)
		}
		if match(f) {
			return f
		}
	}
}

func (r *rawH2) expectRST(id uint32, code http2.ErrCode) {
	r.t.Helper()
	f := r.until("RST_STREAM", func(f http2.Frame) bool {
		_, rst := f.(*http2.RSTStreamFrame)
		_, h := f.(*http2.MetaHeadersFrame)
		return (rst || h) && f.Header().StreamID == id
	})
	if rst, ok := f.(*http2.RSTStreamFrame); !ok || rst.ErrCode != code {
		r.t.Fatalf("stream %d: got %v, want RST_STREAM %v", id, f, code)
	}
}

func (r *rawH2) expectGoAway(code http2.ErrCode) {
	r.t.Helper()
	f := r.until("GOAWAY", func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok })
	if g := f.(*http2.GoAwayFrame); g.ErrCode != code {
		r.t.Fatalf("GOAWAY %v, want %v", g.ErrCode, code)
	}
}

func (r *rawH2) expectStatus(id uint32, status string) {
	r.t.Helper()
	f := r.until("HEADERS", func(f http2.Frame) bool {
		_, h := f.(*http2.MetaHeadersFrame)
		_, rst := f.(*http2.RSTStreamFrame)
		return (h || rst) && f.Header().StreamID == id
	})
	mh, ok := f.(*http2.MetaHeadersFrame)
	if !ok || mh.PseudoValue("status") != status {
		r.t.Fatalf("stream %d: got %v, want :status %s", id, f, status)
	}
}

// TestH2Malformed: RFC 9113 8.2/8.3 downgrade defences. Each malformed
// request is reset with PROTOCOL_ERROR and never reaches the server; the
// connection stays usable.
func TestH2Malformed(t *testing.T) {
	srv, sn := backend(t, "a", nil)
	_, addr := startH2Engine(t, simpleConfig(hostport(srv)))
	base := []string{":method", "POST", ":scheme", "http", ":path", "/", ":authority", "x"}
	cases := []struct {
		name string
		kv   []string
		end  bool
	}{
		{"uppercase name", append(append([]string{}, getFields...), "X-Up", "1"), true},
		{"CR in value", append(append([]string{}, getFields...), "x-a", "1\r\nx-b: 2"), true},
		{"LF in value", append(append([]string{}, getFields...), "x-a", "1\nx"), true},
		{"NUL in value", append(append([]string{}, getFields...), "x-a", "1\x00"), true},
		{"leading space in value", append(append([]string{}, getFields...), "x-a", " 1"), true},
		{"space in name", append(append([]string{}, getFields...), "x a", "1"), true},
		{"colon in name", append(append([]string{}, getFields...), "x:a", "1"), true},
		{"connection", append(append([]string{}, getFields...), "connection", "close"), true},
		{"keep-alive", append(append([]string{}, getFields...), "keep-alive", "1"), true},
		{"proxy-connection", append(append([]string{}, getFields...), "proxy-connection", "x"), true},
		{"transfer-encoding", append(append([]string{}, base...), "transfer-encoding", "chunked"), false},
		{"upgrade", append(append([]string{}, getFields...), "upgrade", "websocket"), true},
		{"te gzip", append(append([]string{}, getFields...), "te", "gzip"), true},
		{"te trailers, gzip", append(append([]string{}, getFields...), "te", "trailers, gzip"), true},
		{"missing :method", []string{":scheme", "http", ":path", "/", ":authority", "x"}, true},
		{"missing :path", []string{":method", "GET", ":scheme", "http", ":authority", "x"}, true},
		{"missing :scheme", []string{":method", "GET", ":path", "/", ":authority", "x"}, true},
		{"empty :path", []string{":method", "GET", ":scheme", "http", ":path", "", ":authority", "x"}, true},
		{"absolute :path", []string{":method", "GET", ":scheme", "http", ":path", "http://y/", ":authority", "x"}, true},
		{"duplicate :path", append(append([]string{}, getFields...)[:6], ":path", "/b", ":authority", "x"), true},
		{"pseudo after regular", []string{":method", "GET", ":scheme", "http", "x-a", "1", ":path", "/", ":authority", "x"}, true},
		{"response pseudo", append(append([]string{}, getFields...), ":status", "200"), true},
		{"unknown pseudo", append([]string{":foo", "1"}, getFields...), true},
		{":protocol", append(append([]string{}, getFields...)[:0], ":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/", ":authority", "x"), true},
		{"userinfo in :authority", []string{":method", "GET", ":scheme", "http", ":path", "/", ":authority", "u@x"}, true},
		{"host differs from :authority", append(append([]string{}, getFields...), "host", "y"), true},
		{"bad content-length", append(append([]string{}, base...), "content-length", "1x"), false},
		{"two content-lengths", append(append([]string{}, base...), "content-length", "1", "content-length", "2"), false},
		{"content-length without DATA", append(append([]string{}, base...), "content-length", "3"), true},
	}
	r := dialH2(t, addr)
	id := uint32(1)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			r.headers(id, tc.end, tc.kv...)
			r.expectRST(id, http2.ErrCodeProtocol)
		})
		id += 2
	}
	r.t = t
	r.headers(id, true, getFields...)
	r.expectStatus(id, "200")
	if n := sn.hits.Load(); n != 1 {
		t.Fatalf("backend saw %d requests, want only the valid one", n)
	}
}

// TestH2ContentLengthMismatch: DATA longer or shorter than content-length
// resets the stream (RFC 9113 8.1.1); the server never gets a body that
// disagrees with the length it was told.
func TestH2ContentLengthMismatch(t *testing.T) {
	srv, _ := backend(t, "a", nil)
	_, addr := startH2Engine(t, simpleConfig(hostport(srv)))
	post := []string{":method", "POST", ":scheme", "http", ":path", "/", ":authority", "x", "content-length", "3"}
	for _, tc := range []struct {
		name string
		data []string
	}{
		{"longer", []string{"abcd"}},
		{"longer in two frames", []string{"ab", "cd"}},
		{"shorter", []string{"ab"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dialH2(t, addr)
			r.headers(1, false, post...)
			for i, d := range tc.data {
				r.fr.WriteData(1, i == len(tc.data)-1, []byte(d))
			}
			r.expectRST(1, http2.ErrCodeProtocol)
		})
	}
}

// TestH2StreamLimit: tune.h2.max-concurrent-streams (default 100) is
// announced, the streams up to it are served, the next one is refused.
func TestH2StreamLimit(t *testing.T) {
	for _, tc := range []struct{ conf, want int }{{0, h2MaxStreams}, {200, 200}, {10, 10}} {
		t.Run(fmt.Sprint(tc.conf), func(t *testing.T) {
			release := make(chan struct{})
			srv, _ := backend(t, "a", func(w http.ResponseWriter, r *http.Request) { <-release })
			defer close(release)
			cfg := simpleConfig(hostport(srv))
			cfg.H2MaxStreams = tc.conf
			_, addr := startH2Engine(t, cfg)
			r := dialH2(t, addr)
			set := r.until("SETTINGS", func(f http2.Frame) bool { s, ok := f.(*http2.SettingsFrame); return ok && !s.IsAck() }).(*http2.SettingsFrame)
			if v, ok := set.Value(http2.SettingMaxConcurrentStreams); !ok || int(v) != tc.want {
				t.Fatalf("announced MAX_CONCURRENT_STREAMS %d (%v), want %d", v, ok, tc.want)
			}
			for i := 0; i < tc.want; i++ {
				r.headers(uint32(2*i+1), true, getFields...)
			}
			last := uint32(2*tc.want + 1)
			r.headers(last, true, getFields...)
			f := r.until("RST_STREAM", func(f http2.Frame) bool { _, rst := f.(*http2.RSTStreamFrame); return rst })
			if rst := f.(*http2.RSTStreamFrame); rst.StreamID != last || rst.ErrCode != http2.ErrCodeRefusedStream {
				t.Fatalf("first reset: stream %d %v, want stream %d REFUSED_STREAM", rst.StreamID, rst.ErrCode, last)
			}
		})
	}
}

// TestH2RapidReset (CVE-2023-44487): a client that opens and cancels
// streams faster than the budget gets GOAWAY ENHANCE_YOUR_CALM.
func TestH2RapidReset(t *testing.T) {
	srv, _ := backend(t, "a", func(w http.ResponseWriter, r *http.Request) { time.Sleep(50 * time.Millisecond) })
	_, addr := startH2Engine(t, simpleConfig(hostport(srv)))
	r := dialH2(t, addr)
	blk := r.block(getFields...)
	// The frames go out as one burst, encoded beforehand: written one by
	// one from a loaded machine (-race, a busy CI), they could trickle in
	// slower than the budget's period and test nothing.
	var burst bytes.Buffer
	bf := http2.NewFramer(&burst, nil)
	for id := uint32(1); id < 40*h2ResetBudget; id += 2 {
		bf.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: blk, EndStream: true, EndHeaders: true})
		bf.WriteRSTStream(id, http2.ErrCodeCancel)
	}
	go r.c.Write(burst.Bytes())
	r.expectGoAway(http2.ErrCodeEnhanceYourCalm)
}

// TestH2ContinuationFlood (CVE-2024-27316): endless CONTINUATION frames
// end the connection, whatever their size.
func TestH2ContinuationFlood(t *testing.T) {
	srv, _ := backend(t, "a", nil)
	_, addr := startH2Engine(t, simpleConfig(hostport(srv)))
	for _, tc := range []struct {
		name string
		frag []byte
	}{{"empty frames", nil}, {"large frames", bytes.Repeat([]byte{0x00, 0x01, 'x', 0x01, 'y'}, 3000)}} {
		t.Run(tc.name, func(t *testing.T) {
			r := dialH2(t, addr)
			r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: r.block(getFields...), EndStream: true})
			go func() {
				for i := 0; i < 10000; i++ {
					if r.fr.WriteContinuation(1, false, tc.frag) != nil {
						return
					}
				}
			}()
			r.expectGoAway(http2.ErrCodeEnhanceYourCalm)
		})
	}
}

// TestH2HeaderListTooLarge: a request head over the session's limit gets
// 431 as over HTTP/1.1 (the connection stays usable).
func TestH2HeaderListTooLarge(t *testing.T) {
	srv, sn := backend(t, "a", nil)
	_, addr := startH2Engine(t, simpleConfig(hostport(srv)))
	r := dialH2(t, addr)
	big := append(append([]string{}, getFields...), "x-big", strings.Repeat("a", 15000), "x-big2", strings.Repeat("b", 5000))
	blk := r.block(big...)
	half := len(blk) / 2
	r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk[:half], EndStream: true})
	r.fr.WriteContinuation(1, true, blk[half:])
	r.expectStatus(1, "431")
	r.headers(3, true, getFields...)
	r.expectStatus(3, "200")
	if sn.hits.Load() != 1 {
		t.Fatalf("backend saw %d", sn.hits.Load())
	}
}

// TestH2GracefulStop: Stop sends GOAWAY, lets the stream in flight finish
// and closes the connection.
func TestH2GracefulStop(t *testing.T) {
	started := make(chan struct{})
	srv, _ := backend(t, "a", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		w.Write([]byte("done"))
	})
	e, addr := startH2Engine(t, simpleConfig(hostport(srv)))
	r := dialH2(t, addr)
	r.headers(1, true, getFields...)
	<-started
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- e.Stop(ctx)
	}()
	r.expectGoAway(http2.ErrCodeNo)
	r.expectStatus(1, "200")
	d := r.until("END_STREAM", func(f http2.Frame) bool {
		df, ok := f.(*http2.DataFrame)
		return ok && df.StreamEnded()
	})
	if got := string(d.(*http2.DataFrame).Data()); got != "done" {
		t.Fatalf("body %q", got)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v", err)
	}
	r.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		if _, err := r.fr.ReadFrame(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("connection not closed after the drain")
			}
			return
		}
	}
}

// TestH2ErrorsAndTimeouts: generated answers and limits are the HTTP/1.1
// session's: a 503 page when no server answers, and an idle connection
// closed with GOAWAY after timeout http-keep-alive.
func TestH2ErrorsAndTimeouts(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	cfg := simpleConfig(dead)
	cfg.Frontends[0].Timeouts.HTTPKeepAlive = 300 * time.Millisecond
	_, addr := startH2Engine(t, cfg)
	r := dialH2(t, addr)
	r.headers(1, true, getFields...)
	r.expectStatus(1, "503")
	d := r.until("503 page", func(f http2.Frame) bool { _, ok := f.(*http2.DataFrame); return ok })
	if !bytes.Contains(d.(*http2.DataFrame).Data(), []byte("503 Service Unavailable")) {
		t.Fatalf("page %q", d.(*http2.DataFrame).Data())
	}
	start := time.Now()
	r.expectGoAway(http2.ErrCodeNo)
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("idle connection closed after %v", el)
	}
}

// TestH2Expect100: the server's 100 Continue reaches the client as an
// interim HEADERS before the body is sent, then the final answer.
func TestH2Expect100(t *testing.T) {
	srv, sn := backend(t, "a", nil)
	_, addr := startH2Engine(t, simpleConfig(hostport(srv)))
	r := dialH2(t, addr)
	r.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/", ":authority", "x", "expect", "100-continue", "content-length", "3")
	r.expectStatus(1, "100")
	r.fr.WriteData(1, true, []byte("abc"))
	r.expectStatus(1, "200")
	if sn.hits.Load() != 1 {
		t.Fatalf("backend saw %d", sn.hits.Load())
	}
}
