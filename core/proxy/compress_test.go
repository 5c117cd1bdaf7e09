package proxy

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

// compBackend answers every request with the raw response resps[path]
// (a missing path is a 404) and records the request heads it received.
type compBackend struct {
	mu    sync.Mutex
	heads []string
}

func (cb *compBackend) last() string {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if len(cb.heads) == 0 {
		return ""
	}
	return cb.heads[len(cb.heads)-1]
}

func startCompBackend(t *testing.T, resps map[string]string) (string, *compBackend) {
	cb := &compBackend{}
	addr := rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			var h strings.Builder
			req.Header.Write(&h)
			cb.mu.Lock()
			cb.heads = append(cb.heads, h.String())
			cb.mu.Unlock()
			r, ok := resps[req.URL.Path]
			if !ok {
				r = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found"
			}
			if _, err := io.WriteString(c, r); err != nil {
				return
			}
			if !strings.Contains(r, "Content-Length") && !strings.Contains(r, "chunked") {
				return // a close-delimited body
			}
		}
	})
	return addr, cb
}

// compConfig is simpleConfig with compression lines on the frontend and
// the backend (nil: none).
func compConfig(addr string, fe, be *config.Compression) *Config {
	cfg := simpleConfig(addr)
	cfg.Frontends[0].comp = compFromConfig(fe)
	cfg.Backends[0].comp = compFromConfig(be)
	return cfg
}

// algosOf writes `compression algo WORDS...` as the parser stores it.
func algosOf(words ...string) *config.Compression {
	c := &config.Compression{}
	for _, w := range words {
		c.Algos = append([]string{w}, c.Algos...)
	}
	return c
}

// decode undoes a Content-Encoding (raw says deflate is RFC 1951).
func decode(t *testing.T, enc string, raw bool, b []byte) string {
	t.Helper()
	var r io.Reader
	var err error
	switch {
	case enc == "":
		return string(b)
	case enc == "gzip":
		r, err = gzip.NewReader(bytes.NewReader(b))
	case enc == "deflate" && raw:
		r = flate.NewReader(bytes.NewReader(b))
	case enc == "deflate":
		r, err = zlib.NewReader(bytes.NewReader(b))
	default:
		t.Fatalf("unexpected Content-Encoding %q", enc)
	}
	if err != nil {
		t.Fatalf("%s: %v", enc, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s: %v", enc, err)
	}
	return string(out)
}

const compText = "hello compressible world, hello compressible world, hello compressible world\n"

func clResp(extra, body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s", extra, len(body), body)
}

// TestCompressionRules runs HAProxy 2.6's rules (flt_http_comp.c) against
// real loopback backends, one row per rule.
func TestCompressionRules(t *testing.T) {
	text := "Content-Type: text/html; charset=utf-8\r\n"
	resps := map[string]string{
		"/":          clResp(text+"ETag: \"v1\"\r\n", compText),
		"/weak":      clResp(text+"ETag: W/\"v1\"\r\n", compText),
		"/badetag":   clResp(text+"ETag: v1\r\n", compText),
		"/twoetags":  clResp(text+"ETag: \"a\"\r\nETag: \"b\"\r\n", compText),
		"/encoded":   clResp(text+"Content-Encoding: br\r\n", compText),
		"/notransf":  clResp(text+"Cache-Control: public, No-Transform\r\n", compText),
		"/json":      clResp("Content-Type: application/json\r\n", compText),
		"/noct":      clResp("", compText),
		"/multipart": clResp("Content-Type: multipart/mixed; boundary=x\r\n", compText),
		"/empty":     clResp(text, ""),
		"/201":       strings.Replace(clResp(text, compText), "200 OK", "201 Created", 1),
		"/206":       strings.Replace(clResp(text, compText), "200 OK", "206 Partial Content", 1),
		"/204":       "HTTP/1.1 204 No Content\r\n\r\n",
		"/http10":    strings.Replace(clResp(text, compText), "HTTP/1.1", "HTTP/1.0", 1),
		"/chunked":   "HTTP/1.1 200 OK\r\n" + text + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
		"/close":     "HTTP/1.1 200 OK\r\n" + text + "\r\n" + compText,
	}
	addr, _ := startCompBackend(t, resps)
	gzipOnly := algosOf("gzip")
	both := algosOf("gzip", "deflate")
	withTypes := &config.Compression{Algos: []string{"gzip"}, Types: []string{"text/"}}
	rows := []struct {
		name      string
		fe, be    *config.Compression
		req       string // path, then request head lines
		enc       string // expected Content-Encoding ("": none)
		raw       bool
		chunkedCL bool // Content-Length gone, chunked, Vary added
		etag      string
		body      string
	}{
		{"gzip", gzipOnly, nil, "/\r\nAccept-Encoding: gzip", "gzip", false, true, `W/"v1"`, compText},
		{"no accept-encoding", gzipOnly, nil, "/", "", false, false, `"v1"`, compText},
		{"q=0 refuses", gzipOnly, nil, "/\r\nAccept-Encoding: gzip;q=0", "", false, false, `"v1"`, compText},
		{"case-insensitive token", gzipOnly, nil, "/\r\nAccept-Encoding: GZip", "gzip", false, true, `W/"v1"`, compText},
		{"deflate is zlib", both, nil, "/\r\nAccept-Encoding: deflate", "deflate", false, true, `W/"v1"`, compText},
		{"raw-deflate", algosOf("raw-deflate"), nil, "/\r\nAccept-Encoding: deflate", "deflate", true, true, `W/"v1"`, compText},
		{"highest q wins", both, nil, "/\r\nAccept-Encoding: gzip;q=0.5, deflate;q=0.8", "deflate", false, true, `W/"v1"`, compText},
		{"equal q: the client's first", both, nil, "/\r\nAccept-Encoding: gzip, deflate", "gzip", false, true, `W/"v1"`, compText},
		{"star takes the last algo written", both, nil, "/\r\nAccept-Encoding: *", "deflate", false, true, `W/"v1"`, compText},
		{"unknown coding", gzipOnly, nil, "/\r\nAccept-Encoding: br", "", false, false, `"v1"`, compText},
		{"second header line", gzipOnly, nil, "/\r\nAccept-Encoding: br\r\nAccept-Encoding: gzip", "gzip", false, true, `W/"v1"`, compText},
		{"identity chosen", algosOf("identity", "gzip"), nil, "/\r\nAccept-Encoding: identity", "", false, true, `W/"v1"`, compText},
		{"identity without accept-encoding", algosOf("identity"), nil, "/", "", false, true, `W/"v1"`, compText},
		{"backend algos win", gzipOnly, algosOf("deflate"), "/\r\nAccept-Encoding: gzip", "", false, false, `"v1"`, compText},
		{"backend only", nil, gzipOnly, "/\r\nAccept-Encoding: gzip", "gzip", false, true, `W/"v1"`, compText},
		{"weak etag kept", gzipOnly, nil, "/weak\r\nAccept-Encoding: gzip", "gzip", false, true, `W/"v1"`, compText},
		{"invalid etag", gzipOnly, nil, "/badetag\r\nAccept-Encoding: gzip", "", false, false, "v1", compText},
		{"two etags", gzipOnly, nil, "/twoetags\r\nAccept-Encoding: gzip", "", false, false, `"a"`, compText},
		{"already encoded", gzipOnly, nil, "/encoded\r\nAccept-Encoding: gzip", "br", false, false, "", compText},
		{"no-transform", gzipOnly, nil, "/notransf\r\nAccept-Encoding: gzip", "", false, false, "", compText},
		{"type listed", withTypes, nil, "/\r\nAccept-Encoding: gzip", "gzip", false, true, `W/"v1"`, compText},
		{"type not listed", withTypes, nil, "/json\r\nAccept-Encoding: gzip", "", false, false, "", compText},
		{"types and no content-type", withTypes, nil, "/noct\r\nAccept-Encoding: gzip", "", false, false, "", compText},
		{"no types, no content-type", gzipOnly, nil, "/noct\r\nAccept-Encoding: gzip", "gzip", false, true, "", compText},
		{"backend types win", withTypes, &config.Compression{Types: []string{"application/"}}, "/json\r\nAccept-Encoding: gzip", "gzip", false, true, "", compText},
		{"multipart", gzipOnly, nil, "/multipart\r\nAccept-Encoding: gzip", "", false, false, "", compText},
		{"empty body", gzipOnly, nil, "/empty\r\nAccept-Encoding: gzip", "", false, false, "", ""},
		{"201", gzipOnly, nil, "/201\r\nAccept-Encoding: gzip", "gzip", false, true, "", compText},
		{"206", gzipOnly, nil, "/206\r\nAccept-Encoding: gzip", "", false, false, "", compText},
		{"404", gzipOnly, nil, "/nope\r\nAccept-Encoding: gzip", "", false, false, "", "not found"},
		{"204", gzipOnly, nil, "/204\r\nAccept-Encoding: gzip", "", false, false, "", ""},
		{"HTTP/1.0 server", gzipOnly, nil, "/http10\r\nAccept-Encoding: gzip", "", false, false, "", compText},
		{"chunked", gzipOnly, nil, "/chunked\r\nAccept-Encoding: gzip", "gzip", false, true, "", "hello world"},
		{"close-delimited", gzipOnly, nil, "/close\r\nAccept-Encoding: gzip", "", false, false, "", compText},
		{"old mozilla", gzipOnly, nil, "/\r\nAccept-Encoding: gzip\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)", "", false, false, `"v1"`, compText},
		{"msie 7", gzipOnly, nil, "/\r\nAccept-Encoding: gzip\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)", "gzip", false, true, `W/"v1"`, compText},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			_, eaddr := startEngine(t, compConfig(addr, r.fe, r.be))
			path, hdrs, _ := strings.Cut(r.req, "\r\n")
			raw := "GET " + path + " HTTP/1.1\r\nHost: x\r\n"
			if hdrs != "" {
				raw += hdrs + "\r\n"
			}
			resp := compExchange(t, eaddr, raw+"\r\n", "GET")
			checkComp(t, resp, r.enc, r.raw, r.chunkedCL, r.etag, r.body)
		})
	}
}

func compExchange(t *testing.T, addr, raw, method string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return rawExchange(t, c, bufio.NewReader(c), raw, method)
}

func checkComp(t *testing.T, resp *http.Response, enc string, raw, chunked bool, etag, want string) {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	if got := resp.Header.Get("Content-Encoding"); got != enc {
		t.Errorf("Content-Encoding %q, want %q", got, enc)
	}
	vary := strings.Join(resp.Header.Values("Vary"), ",")
	if chunked {
		if resp.ContentLength != -1 || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
			t.Errorf("Content-Length %d, Transfer-Encoding %v: want chunked", resp.ContentLength, resp.TransferEncoding)
		}
		if !strings.Contains(vary, "Accept-Encoding") {
			t.Errorf("Vary %q lacks Accept-Encoding", vary)
		}
	} else if strings.Contains(vary, "Accept-Encoding") {
		t.Errorf("Vary %q on a response left alone", vary)
	}
	if etag != "" && resp.Header.Get("ETag") != etag {
		t.Errorf("ETag %q, want %q", resp.Header.Get("ETag"), etag)
	}
	if enc == "br" {
		enc = "" // not ours: compared as is
	}
	if got := decode(t, enc, raw, b); got != want {
		t.Errorf("body %q, want %q", got, want)
	}
}

// TestCompressionHeadAndHTTP10 checks the request side's exclusions: HEAD
// and HTTP/1.0 clients get the response as the server sent it.
func TestCompressionHeadAndHTTP10(t *testing.T) {
	addr, _ := startCompBackend(t, map[string]string{"/": clResp("Content-Type: text/plain\r\n", compText)})
	_, eaddr := startEngine(t, compConfig(addr, algosOf("gzip"), nil))
	resp := compExchange(t, eaddr, "HEAD / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", "HEAD")
	if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Vary") != "" {
		t.Errorf("HEAD compressed: %v", resp.Header)
	}
	resp = compExchange(t, eaddr, "GET / HTTP/1.0\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", "GET")
	checkComp(t, resp, "", false, false, "", compText)
}

// TestCompressionOffload: with offload the server never sees the client's
// Accept-Encoding (so it cannot compress itself); without, it does.
func TestCompressionOffload(t *testing.T) {
	addr, cb := startCompBackend(t, map[string]string{"/": clResp("Content-Type: text/plain\r\n", compText)})
	for _, offload := range []bool{false, true} {
		c := algosOf("gzip")
		c.Offload = offload
		_, eaddr := startEngine(t, compConfig(addr, c, nil))
		resp := compExchange(t, eaddr, "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, gzip\r\n\r\n", "GET")
		checkComp(t, resp, "gzip", false, true, "", compText)
		if got := strings.Contains(cb.last(), "Accept-Encoding"); got == offload {
			t.Errorf("offload %v: server saw Accept-Encoding %v:\n%s", offload, got, cb.last())
		}
	}
}

// compBody is a large, compressible but not trivial body.
func compBody(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %d: the quick brown fox %x jumps over the lazy dog\n", i, i*7919)
	}
	return b.String()[:n]
}

// TestCompressionLargeBodies decompresses big Content-Length and chunked
// bodies (many reads, many flushes) and compares every byte, on both lanes
// and over a kept-alive connection.
func TestCompressionLargeBodies(t *testing.T) {
	big := compBody(3 << 20)
	var chunked strings.Builder
	chunked.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
	for rest := big; len(rest) > 0; {
		n := min(len(rest), 7777)
		fmt.Fprintf(&chunked, "%x;ext=1\r\n%s\r\n", n, rest[:n])
		rest = rest[n:]
	}
	chunked.WriteString("0\r\n\r\n")
	addr, _ := startCompBackend(t, map[string]string{
		"/cl":      clResp("Content-Type: text/plain\r\n", big),
		"/chunked": chunked.String(),
	})
	lanes(t, func(t *testing.T) {
		for _, algo := range []string{"gzip", "deflate", "raw-deflate", "identity"} {
			_, eaddr := startEngine(t, compConfig(addr, algosOf(algo), nil))
			c, err := net.Dial("tcp", eaddr)
			if err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			coding := (&compState{algo: algoByName(algo)}).algo.token()
			for _, path := range []string{"/cl", "/chunked", "/cl"} {
				resp := rawExchange(t, c, br, "GET "+path+" HTTP/1.1\r\nHost: x\r\nAccept-Encoding: "+coding+"\r\n\r\n", "GET")
				enc := coding
				if algo == "identity" {
					enc = ""
				}
				checkComp(t, resp, enc, algo == "raw-deflate", true, "", big)
			}
			c.Close()
		}
	})
}

func algoByName(name string) compAlgo {
	return compFromConfig(algosOf(name)).algos[0]
}

// TestCompressionStreams: a chunk the server sent is decodable by the
// client before the server sends the next one (flushed, not held).
func TestCompressionStreams(t *testing.T) {
	next := make(chan struct{})
	addr := rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n")
		select {
		case <-next:
		case <-time.After(10 * time.Second):
			return
		}
		io.WriteString(c, "7\r\nsecond\n\r\n0\r\n\r\n")
	})
	_, eaddr := startEngine(t, compConfig(addr, algosOf("gzip"), nil))
	resp := compExchange(t, eaddr, "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", "GET")
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(zr).ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first part %q, %v", line, err)
	}
	close(next)
	rest, err := io.ReadAll(zr)
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

// TestCompressionH2: HTTP/2 clients get the compressed body in DATA frames.
func TestCompressionH2(t *testing.T) {
	big := compBody(200 << 10)
	addr, _ := startCompBackend(t, map[string]string{"/": clResp("Content-Type: text/plain\r\nETag: \"e\"\r\n", big)})
	_, eaddr := startH2Engine(t, compConfig(addr, algosOf("gzip"), nil))
	req, _ := http.NewRequest("GET", "http://"+eaddr+"/", nil)
	req.Header.Set("Accept-Encoding", "gzip") // set by hand: the transport then leaves the body encoded
	resp, err := h2Client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("proto %s", resp.Proto)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("ETag") != `W/"e"` || resp.Header.Get("Content-Length") != "" {
		t.Fatalf("headers %v", resp.Header)
	}
	if got := decode(t, "gzip", false, b); got != big {
		t.Fatalf("body differs (%d bytes, want %d)", len(got), len(big))
	}
}

// TestCompressionCounters: comp_in/comp_out/comp_rsp on the frontend and
// the backend, comp_byp for identity.
func TestCompressionCounters(t *testing.T) {
	text := compBody(10000)
	addr, _ := startCompBackend(t, map[string]string{"/": clResp("Content-Type: text/plain\r\n", text)})
	for _, algo := range []string{"gzip", "identity"} {
		e, eaddr := startEngine(t, compConfig(addr, algosOf(algo), nil))
		for i := 0; i < 3; i++ {
			resp := compExchange(t, eaddr, "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", "GET")
			io.ReadAll(resp.Body)
		}
		compExchange(t, eaddr, "GET /nope HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", "GET") // 404: not compressed
		waitCompRsp(t, &e.frontends[0].Meters.CompRsp, 3)
		waitCompRsp(t, &e.backends[0].Meters.CompRsp, 3)
		fm, bm := &e.frontends[0].Meters, &e.backends[0].Meters
		for _, m := range []*struct{ in, out, byp, rsp uint64 }{
			{fm.CompIn.Load(), fm.CompOut.Load(), fm.CompByp.Load(), fm.CompRsp.Load()},
			{bm.CompIn.Load(), bm.CompOut.Load(), bm.CompByp.Load(), bm.CompRsp.Load()},
		} {
			want := uint64(3 * len(text))
			ok := m.rsp == 3
			if algo == "identity" {
				ok = ok && m.byp == want && m.in == 0 && m.out == 0
			} else {
				ok = ok && m.in == want && m.out > 0 && m.out < m.in && m.byp == 0
			}
			if !ok {
				t.Errorf("%s: counters %+v", algo, *m)
			}
		}
	}
}

// TestCompressionLevel: tune.comp.maxlevel reaches the compressor (level 9
// produces fewer bytes than level 1 on the same body).
func TestCompressionLevel(t *testing.T) {
	text := compBody(256 << 10)
	addr, _ := startCompBackend(t, map[string]string{"/": clResp("Content-Type: text/plain\r\n", text)})
	out := map[int]uint64{}
	for _, level := range []int{1, 9} {
		cfg := compConfig(addr, algosOf("gzip"), nil)
		cfg.CompLevel = level
		e, eaddr := startEngine(t, cfg)
		resp := compExchange(t, eaddr, "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", "GET")
		checkComp(t, resp, "gzip", false, true, "", text)
		waitCompRsp(t, &e.frontends[0].Meters.CompRsp, 1)
		out[level] = e.frontends[0].Meters.CompOut.Load()
	}
	if out[9] == 0 || out[9] >= out[1] {
		t.Fatalf("compressed sizes: level 1 %d bytes, level 9 %d bytes", out[1], out[9])
	}
	t.Logf("256 KiB text: level 1 %d bytes, level 9 %d bytes", out[1], out[9])
}

// waitCompRsp waits (boundedly) until a comp_rsp counter reaches n: the
// engine counts a response just after its last byte left, so a client may
// have read it all a moment before.
func waitCompRsp(t *testing.T, c interface{ Load() uint64 }, n uint64) {
	t.Helper()
	err := testenv.Until(2*time.Second, 5*time.Millisecond, func() error {
		if got := c.Load(); got < n {
			return fmt.Errorf("comp_rsp %d, want %d", got, n)
		}
		return nil
	})
	if got := c.Load(); err != nil || got != n {
		t.Fatalf("comp_rsp %d, want %d (%v)", got, n, err)
	}
}

// TestCompressionAborts: a server that stops mid-body leaves the client
// with a chunked stream that never ends (the connection closes, as for an
// uncompressed body), and a client that leaves mid-body costs nothing more
// than a closed server connection; the engine keeps serving.
func TestCompressionAborts(t *testing.T) {
	text := compBody(1 << 20)
	noise := make([]byte, 8<<20) // incompressible: more than socket buffers hold
	rand.NewChaCha8([32]byte{1}).Read(noise)
	addr := rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if req.URL.Path == "/short" {
			io.WriteString(c, clResp("Content-Type: text/plain\r\n", text)[:200<<10]) // then close
			return
		}
		io.WriteString(c, clResp("Content-Type: text/plain\r\n", string(noise)))
	})
	sink := &recSink{}
	cfg := compConfig(addr, algosOf("gzip"), nil)
	cfg.Sink = sink
	_, eaddr := startEngine(t, cfg)

	resp := compExchange(t, eaddr, "GET /short HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", "GET")
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatal("a truncated compressed body read as complete")
	}

	c, err := net.Dial("tcp", eaddr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /full HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
	c.Read(make([]byte, 100))
	c.Close() // leaves mid-body

	resp = compExchange(t, eaddr, "GET /full HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", "GET")
	checkComp(t, resp, "gzip", false, true, "", string(noise))

	var terms []string
	testenv.Until(2*time.Second, 5*time.Millisecond, func() error { // three records, else the check below says which
		terms = terms[:0]
		for _, r := range sink.all() {
			terms = append(terms, string([]byte{r.Term[0], r.Term[1]}))
		}
		if len(terms) < 3 {
			return fmt.Errorf("%d records", len(terms))
		}
		return nil
	})
	sort.Strings(terms)
	if strings.Join(terms, " ") != "-- CD SD" {
		t.Fatalf("termination states %v, want --, CD (client left) and SD (server cut)", terms)
	}
}
