package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// startH2Engine runs cfg with one `proto h2` loopback listener on the
// first frontend and returns its address. A recovered panic fails the
// test: no frame sequence may reach one.
func startH2Engine(t testing.TB, cfg *Config) (*Engine, string) {
	t.Helper()
	var e *Engine
	t.Cleanup(func() { // runs after the engine's stop (cleanups are LIFO)
		if e == nil {
			return
		}
		if n := e.Panics.Load(); n != 0 {
			t.Errorf("%d panics", n)
		}
	})
	e, addr := startEngineOn(t, cfg, func(fc *FrontendConfig, l net.Listener) {
		fc.H2Listeners = append(fc.H2Listeners, l)
	})
	return e, addr
}

// h2Client speaks HTTP/2 with prior knowledge (x/net/http2, AllowHTTP).
func h2Client(t testing.TB) *http.Client {
	tr := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func TestH2Basic(t *testing.T) {
	srv, sn := backend(t, "a", nil)
	_, addr := startH2Engine(t, simpleConfig(hostport(srv)))
	c := h2Client(t)
	resp, err := c.Get("http://" + addr + "/x?y=1")
	if err != nil {
		t.Fatal(err)
	}
	b := body(t, resp)
	if resp.StatusCode != 200 || b != "hello from a" || resp.ProtoMajor != 2 {
		t.Fatalf("got %d %q proto %s", resp.StatusCode, b, resp.Proto)
	}
	r := sn.last()
	if r.URL.RequestURI() != "/x?y=1" || r.Host != addr || r.Proto != "HTTP/1.1" {
		t.Fatalf("backend saw %s %s host %s", r.Proto, r.URL.RequestURI(), r.Host)
	}
}

// TestH2Exchange: bodies both ways (content-length, and chunked when the
// client gives no length), a 1 MiB response through flow control, HEAD,
// cookie crumbs joined, rules and the log record, over one connection.
func TestH2Exchange(t *testing.T) {
	srv, sn := backend(t, "a", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if n := r.URL.Query().Get("size"); n != "" {
			k, _ := strconv.Atoi(n)
			w.Write(bytes.Repeat([]byte("z"), k))
			return
		}
		fmt.Fprintf(w, "%s len=%d te=%v cl=%d cookie=%s", r.Method, len(b), r.TransferEncoding, r.ContentLength, r.Header.Get("Cookie"))
	})
	cfg := simpleConfig(hostport(srv))
	cfg.Frontends[0].HTTPRequest = []*HTTPRule{{Action: ActDeny, Status: 403, Cond: pathIs("/deny")}}
	sink := &recSink{}
	cfg.Sink = sink
	_, addr := startH2Engine(t, cfg)
	c := h2Client(t)
	base := "http://" + addr
	big := strings.Repeat("p", 200<<10)
	cases := []struct {
		name, method, path string
		body               io.Reader
		status             int
		want               string
	}{
		{"get", "GET", "/", nil, 200, "GET len=0 te=[] cl=0 cookie=a=1; b=2"},
		{"post length", "POST", "/", strings.NewReader("hello"), 200, "POST len=5 te=[] cl=5 cookie=a=1; b=2"},
		{"post chunked", "POST", "/", io.MultiReader(strings.NewReader("he"), strings.NewReader("llo")), 200, "POST len=5 te=[chunked] cl=-1 cookie=a=1; b=2"},
		{"post 200k", "POST", "/", strings.NewReader(big), 200, "POST len=204800 te=[] cl=204800 cookie=a=1; b=2"},
		{"post 200k chunked", "PUT", "/", io.MultiReader(strings.NewReader(big)), 200, "PUT len=204800 te=[chunked] cl=-1 cookie=a=1; b=2"},
		{"1 MiB response", "GET", "/?size=1048576", nil, 200, strings.Repeat("z", 1<<20)},
		{"head", "HEAD", "/?size=10", nil, 200, ""},
		{"deny rule", "GET", "/deny", nil, 403, "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, tc.body)
			req.Header.Add("Cookie", "a=1")
			req.Header.Add("Cookie", "b=2")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got := body(t, resp)
			if resp.StatusCode != tc.status || got != tc.want || resp.ProtoMajor != 2 {
				t.Fatalf("got %d %s %.200q", resp.StatusCode, resp.Proto, got)
			}
			for _, h := range []string{"Connection", "Keep-Alive", "Transfer-Encoding"} {
				if v := resp.Header.Get(h); v != "" {
					t.Errorf("%s: %q leaked", h, v)
				}
			}
		})
	}
	recs := waitRecords(t, sink, len(cases))
	// HAProxy 2.6 logs an HTTP/2 request with its absolute URI.
	if got := string(recs[0].RequestLine.Bytes()); got != "GET http://"+addr+"/ HTTP/2.0" {
		t.Errorf("request line %q", got)
	}
	if recs[len(recs)-1].Status != 403 {
		t.Errorf("deny logged %d", recs[len(recs)-1].Status)
	}
	if n := sn.hits.Load(); n != int64(len(cases)-1) {
		t.Errorf("backend saw %d requests, want %d (deny must not reach it)", n, len(cases)-1)
	}
}

// TestH2ConcurrentStreams: 300 concurrent requests multiplexed (the
// client opens more connections beyond SETTINGS_MAX_CONCURRENT_STREAMS:
// the server never runs more than 100 per connection).
func TestH2ConcurrentStreams(t *testing.T) {
	var inflight, peak atomic.Int64
	srv, sn := backend(t, "a", func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		inflight.Add(-1)
		fmt.Fprint(w, r.URL.Path)
	})
	e, addr := startH2Engine(t, simpleConfig(hostport(srv)))
	c := h2Client(t)
	var wg sync.WaitGroup
	errs := make(chan error, 300)
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := fmt.Sprintf("/%d", i)
			resp, err := c.Get("http://" + addr + p)
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != p {
				errs <- fmt.Errorf("%s answered %q", p, b)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	conns := int64(e.frontends[0].TotalConns.Load())
	if sn.hits.Load() != 300 || peak.Load() > h2MaxStreams*conns {
		t.Fatalf("backend saw %d, peak concurrency %d over %d connections", sn.hits.Load(), peak.Load(), conns)
	}
}
