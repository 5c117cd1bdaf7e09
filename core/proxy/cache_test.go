package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
)

// cacheEngine starts an engine on cfg (its server line's address
// replaced by a backend running h) and returns the engine, its address
// and the backend's request count.
func cacheEngine(t testing.TB, cfg string, h http.HandlerFunc) (*Engine, string, *atomic.Int64) {
	var n atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(app.Close)
	cfg = strings.ReplaceAll(cfg, "{{ADDR}}", strings.TrimPrefix(app.URL, "http://"))
	var d diag.List
	c := config.Parse("cache.cfg", []byte(cfg), nil, &d)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(c)
	if err != nil {
		t.Fatal(err)
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
