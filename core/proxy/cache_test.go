package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// cacheEngine starts an engine on cfg (its server line's address
// replaced by a backend running h) and returns the engine, its address
// and the backend's request count.
func cacheEngine(t testing.TB, cfg string, h http.HandlerFunc) (*Engine, string, *atomic.Int64) {
	return cacheEngineSink(t, cfg, h, nil)
}

// cacheEngineSink is cacheEngine with the engine's log records sent to sink.
func cacheEngineSink(t testing.TB, cfg string, h http.HandlerFunc, sink *recSink) (*Engine, string, *atomic.Int64) {
	var n atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(app.Close)
	cfg = strings.ReplaceAll(cfg, "{{ADDR}}", strings.TrimPrefix(app.URL, "http://"))
	pcfg := engineConfigText(t, "cache.cfg", cfg)
	if sink != nil {
		pcfg.Sink = sink
	}
	e, addr := startEngine(t, pcfg)
	return e, addr, &n
}

const cacheTestConfig = `defaults
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
    server s {{ADDR}}
cache c
    total-max-size 1
    max-object-size 100000
    max-age 60
    process-vary on
`

// get sends raw on a new connection and returns the response and body.
func cacheGet(t testing.TB, addr, raw string) (*http.Response, string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, raw)
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: strings.Fields(raw)[0]})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestCacheVaryEncoding(t *testing.T) {
	_, addr, n := cacheEngine(t, cacheTestConfig, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "accept-encoding")
		w.Header().Set("Content-Encoding", "gzip")
		io.WriteString(w, "z")
	})
	for i, tt := range []struct {
		ae   string
		hits int64
	}{{"gzip", 1}, {"gzip, br", 1}, {"br", 2}, {"gzip", 2}} {
		resp, _ := cacheGet(t, addr, "GET /v HTTP/1.1\r\nHost: x\r\nAccept-Encoding: "+tt.ae+"\r\n\r\n")
		if got := n.Load(); got != tt.hits {
			t.Errorf("#%d %s: backend saw %d requests, want %d (age %q)", i, tt.ae, got, tt.hits, resp.Header.Get("Age"))
		}
	}
}

// A response varde compresses for its client is stored as the server sent
// it: a later client without Accept-Encoding gets the plain body.
func TestCacheStoresUncompressed(t *testing.T) {
	cfg := strings.Replace(cacheTestConfig, "\nbackend b\n", "\nbackend b\n    compression algo gzip\n    compression type text/plain\n", 1)
	text := strings.Repeat("compress me ", 500)
	e, addr, n := cacheEngine(t, cfg, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, text)
	})
	resp, _ := cacheGet(t, addr, "GET /z HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("first answer not compressed: %v", resp.Header)
	}
	if e.cfg.Caches["c"].count() != 1 {
		t.Fatal("not stored")
	}
	resp, got := cacheGet(t, addr, "GET /z HTTP/1.1\r\nHost: x\r\n\r\n")
	if n.Load() != 1 || got != text || resp.Header.Get("Age") == "" || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("backend saw %d requests; hit headers %v, body %d bytes", n.Load(), resp.Header, len(got))
	}
}

// A frontend's compression comes before a backend's cache (HAProxy's
// filter order): a response it compresses is not stored, one it leaves
// alone is.
func TestCacheAfterFrontendCompression(t *testing.T) {
	cfg := strings.Replace(cacheTestConfig, "    default_backend b\n", "    compression algo gzip\n    compression type text/plain\n    default_backend b\n", 1)
	e, addr, _ := cacheEngine(t, cfg, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, strings.Repeat("z", 3000))
	})
	cacheGet(t, addr, "GET /z HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
	if n := e.cfg.Caches["c"].count(); n != 0 {
		t.Fatalf("a compressed response was stored (%d entries)", n)
	}
	cacheGet(t, addr, "GET /z HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, got := cacheGet(t, addr, "GET /z HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
	if resp.Header.Get("Age") == "" || resp.Header.Get("Content-Encoding") != "gzip" || len(got) == 0 {
		t.Fatalf("the hit for a gzip client: %v", resp.Header)
	}
}

// A chunked response is stored without its framing and answered in one
// chunk; a HEAD gets the head only.
func TestCacheChunked(t *testing.T) {
	_, addr, n := cacheEngine(t, cacheTestConfig, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "part one,")
		w.(http.Flusher).Flush()
		io.WriteString(w, strings.Repeat("x", 40000))
	})
	want := "part one," + strings.Repeat("x", 40000)
	for i := 0; i < 3; i++ {
		resp, got := cacheGet(t, addr, "GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
		if got != want || len(resp.TransferEncoding) != 1 {
			t.Fatalf("#%d: %d bytes, framing %v", i, len(got), resp.TransferEncoding)
		}
	}
	resp, got := cacheGet(t, addr, "HEAD /c HTTP/1.1\r\nHost: x\r\n\r\n")
	if n.Load() != 1 || got != "" || resp.Header.Get("Age") == "" {
		t.Fatalf("backend saw %d requests; HEAD got %q %v", n.Load(), got, resp.Header)
	}
}

// The cache never holds more blocks than total-max-size: storing more
// objects evicts the least recently used ones.
func TestCacheMemoryBound(t *testing.T) {
	e, addr, _ := cacheEngine(t, cacheTestConfig, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, strings.Repeat("m", 3000)) // 4 blocks each with its head
	})
	c := e.cfg.Caches["c"]
	for i := 0; i < 400; i++ {
		cacheGet(t, addr, "GET /m"+strconv.Itoa(i)+" HTTP/1.1\r\nHost: x\r\n\r\n")
		c.mu.Lock()
		used := c.used
		c.mu.Unlock()
		if used > c.maxBlocks {
			t.Fatalf("after %d objects: %d blocks used of %d", i+1, used, c.maxBlocks)
		}
	}
	c.mu.Lock()
	n := 0
	for e := c.lru.next; e != &c.lru; e = e.next {
		n++
	}
	used, oldest := c.used, c.lru.next
	_, indexed := c.entries[oldest.key]
	c.mu.Unlock()
	if n < 200 || n >= 400 || used > c.maxBlocks {
		t.Fatalf("%d objects in %d blocks: nothing evicted, or too much", n, used)
	}
	if !indexed {
		t.Fatal("the recency list holds an entry the index lost")
	}
	if c.lookup(&oldest.key, nil) == nil {
		t.Fatal("the oldest kept entry is not found")
	}
}

// Sessions on several event loops hit, store and evict the same cache at
// once (run with -race).
func TestCacheConcurrent(t *testing.T) {
	_, addr, _ := cacheEngine(t, strings.Replace(cacheTestConfig, "max-object-size 100000", "max-object-size 200000", 1), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, strings.Repeat(r.URL.Path, 20000))
	})
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				p := "/p" + strconv.Itoa((g+i)%12)
				_, got := cacheGet(t, addr, "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
				if got != strings.Repeat(p, 20000) {
					errs <- p + ": wrong body"
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// A request whose answer is too big for max-object-size always reaches
// the server; a smaller one is stored.
func TestCacheMaxObjectSize(t *testing.T) {
	cfg := strings.Replace(cacheTestConfig, "max-object-size 100000", "max-object-size 2000", 1)
	_, addr, n := cacheEngine(t, cfg, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, strings.Repeat("s", 3000))
	})
	for _, p := range []string{"/big", "/big", "/chunked", "/chunked"} {
		cacheGet(t, addr, "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	if n.Load() != 4 {
		t.Fatalf("backend saw %d requests, want 4", n.Load())
	}
}

// The clock moves past max-age: the entry is not served any more.
func TestCacheExpiry(t *testing.T) {
	e, addr, n := cacheEngine(t, cacheTestConfig, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=100") // capped by max-age 60
		io.WriteString(w, "e")
	})
	c := e.cfg.Caches["c"]
	cacheGet(t, addr, "GET /e HTTP/1.1\r\nHost: x\r\n\r\n")
	c.skew.Add(58) // a second may pass meanwhile: 58 or 59 s old
	resp, _ := cacheGet(t, addr, "GET /e HTTP/1.1\r\nHost: x\r\n\r\n")
	if age := resp.Header.Get("Age"); n.Load() != 1 || (age != "58" && age != "59") {
		t.Fatalf("at 58 s: backend saw %d, Age %q", n.Load(), age)
	}
	c.skew.Add(3)
	cacheGet(t, addr, "GET /e HTTP/1.1\r\nHost: x\r\n\r\n")
	if n.Load() != 2 {
		t.Fatalf("at 61 s: backend saw %d, want 2", n.Load())
	}
	if out := e.ShowCache(); !strings.Contains(out, ": c (shctx:") || !regexp.MustCompile(`hash:\d+ vary:0x0{16} size:\d+ \(1 blocks\), refcount:0, expire:(59|60)\n`).MatchString(out) {
		t.Fatalf("show cache:\n%s", out)
	}
}

// In a listen section the rules run once, as the frontend's: the hit is
// answered after them and logged with the section's name.
func TestCacheListen(t *testing.T) {
	cfg := `defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
listen l
    bind 127.0.0.1:1
    http-request cache-use c
    http-response cache-store c
    http-response add-header X-Seen yes
    server s {{ADDR}}
cache c
    total-max-size 1
`
	sink := &recSink{}
	_, addr, n := cacheEngineSink(t, cfg, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "l")
	}, sink)
	cacheGet(t, addr, "GET /l HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, got := cacheGet(t, addr, "GET /l HTTP/1.1\r\nHost: x\r\n\r\n")
	if n.Load() != 1 || got != "l" || len(resp.Header.Values("X-Seen")) != 1 || resp.Header.Get("Age") == "" {
		t.Fatalf("backend saw %d; hit %v %q", n.Load(), resp.Header, got)
	}
	// The two records may come in either order (each at its session's
	// end): the hit is the one logged with the cache as its server.
	err := testenv.Until(3*time.Second, 10*time.Millisecond, func() error {
		recs := sink.all()
		if len(recs) != 2 {
			return fmt.Errorf("%d records, want 2", len(recs))
		}
		for _, r := range recs {
			if r.Server == cacheServer {
				if r.Backend != "l" || string(r.Term[:2]) != "LR" {
					return fmt.Errorf("hit logged as %s/%s %s", r.Backend, r.Server, r.Term[:2])
				}
				return nil
			}
		}
		return fmt.Errorf("no record of the hit among %d", len(recs))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// HTTP/2 clients are answered from the cache too (the stream writes the
// cached answer as it writes a server's), small and chunked alike.
func TestCacheH2(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.URL.Path == "/chunked" {
			io.WriteString(w, "a")
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, "h2 body "+r.URL.Path)
	}))
	t.Cleanup(app.Close)
	var hits atomic.Int64
	cfg := strings.ReplaceAll(cacheTestConfig, "{{ADDR}}", strings.TrimPrefix(app.URL, "http://"))
	pcfg := engineConfigText(t, "cache.cfg", cfg)
	_, addr := startH2Engine(t, pcfg)
	cl := h2Client(t)
	for _, p := range []string{"/small", "/chunked"} {
		for i := 0; i < 3; i++ {
			resp, err := cl.Get("http://" + addr + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := "h2 body " + p
			if p == "/chunked" {
				want = "a" + want
			}
			if resp.StatusCode != 200 || string(b) != want || resp.ProtoMajor != 2 {
				t.Fatalf("%s #%d: %d %q", p, i, resp.StatusCode, b)
			}
			if i > 0 && resp.Header.Get("Age") == "" {
				t.Fatalf("%s #%d: not from the cache: %v", p, i, resp.Header)
			}
			if resp.Header.Get("Age") != "" {
				hits.Add(1)
			}
		}
	}
	if hits.Load() != 4 {
		t.Fatalf("%d hits, want 4", hits.Load())
	}
}

// An http-response deny or return met by a cached answer replaces it, as
// it replaces a server's.
func TestCacheHitDenied(t *testing.T) {
	cfg := strings.Replace(cacheTestConfig, "    http-response cache-store c\n", "    http-response cache-store c\n    http-response deny deny_status 403 if { res.cache_hit } { path /deny }\n    http-response return status 200 content-type text/plain string ret if { res.cache_name c } { path /ret }\n", 1)
	_, addr, n := cacheEngine(t, cfg, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "from server")
	})
	for _, tt := range []struct {
		path, body string
		status     int
	}{{"/deny", "from server", 200}, {"/deny", "", 403}, {"/ret", "from server", 200}, {"/ret", "ret", 200}} {
		resp, got := cacheGet(t, addr, "GET "+tt.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp.StatusCode != tt.status || (tt.body != "" && got != tt.body) {
			t.Fatalf("%s: %d %q, want %d %q", tt.path, resp.StatusCode, got, tt.status, tt.body)
		}
	}
	if n.Load() != 2 {
		t.Fatalf("backend saw %d requests, want 2", n.Load())
	}
}
