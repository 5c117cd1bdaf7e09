package haproxylua_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/testenv"
	_ "github.com/varde-lb/varde/plugins/all"
	_ "github.com/varde-lb/varde/scripting/haproxylua"
)

const concurrentScript = `
core.register_action("tag", {"http-req"}, function(txn)
  txn.http:req_set_header("x-tag", txn.sf:req_hdr("x-id"))
  txn:set_var("txn.id", txn.sf:req_hdr("x-id"))
end)
core.register_service("svc", "http", function(applet)
  applet:start_response()
  applet:send("svc " .. applet.headers["x-id"][0])
end)
core.register_fetches("id", function(txn) return txn:get_var("txn.id") end)
`

// TestConcurrentCalls runs the real engine in-process (run it with -race)
// with many clients at once through an action, a fetch reading the
// variable the action set, and a service, with the shared state (lua-load)
// and with pooled states (lua-load-per-thread): every answer carries its
// own request's id, so states and variables never leak across requests.
func TestConcurrentCalls(t *testing.T) {
	for _, kw := range []string{"lua-load", "lua-load-per-thread"} {
		t.Run(kw, func(t *testing.T) { concurrentCalls(t, kw) })
	}
}

func concurrentCalls(t *testing.T, keyword string) {
	dir := t.TempDir()
	be := echoBackend(t)
	port := testenv.FreePort(t)
	os.WriteFile(filepath.Join(dir, "s.lua"), []byte(concurrentScript), 0o644)
	cfg := filepath.Join(dir, "h.cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`global
    %s %s/s.lua
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:%d
    http-request use-service lua.svc if { path_beg /svc }
    http-request lua.tag
    http-request set-header x-var %%[lua.id]
    default_backend b
backend b
    server s1 127.0.0.1:%d
`, keyword, dir, port, be)), 0o644)
	g, d := generation.Load([]string{cfg}, os.Getenv, generation.Options{Grace: time.Second})
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			path := "/p"
			want := fmt.Sprintf("x-tag: id%d\nx-var: id%d", i, i)
			if i%2 == 1 {
				path, want = "/svc", fmt.Sprintf("svc id%d", i)
			}
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
			req.Header.Set("x-id", fmt.Sprintf("id%d", i))
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
				errs <- fmt.Errorf("request %d: %d %q, want %q", i, resp.StatusCode, b, want)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestVarsDoNotLeak: a variable set by a lua fetch (no action runs) in one
// request is gone in the next request of the same keep-alive connection.
func TestVarsDoNotLeak(t *testing.T) {
	dir := t.TempDir()
	be := echoBackend(t)
	port := testenv.FreePort(t)
	os.WriteFile(filepath.Join(dir, "s.lua"), []byte(`
core.register_fetches("mark", function(txn)
  local before = txn:get_var("txn.seen") or "none"
  txn:set_var("txn.seen", txn.sf:req_hdr("x-id"))
  return before
end)
`), 0o644)
	cfg := filepath.Join(dir, "h.cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`global
    lua-load %s/s.lua
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:%d
    http-request set-header x-before %%[lua.mark]
    default_backend b
backend b
    server s1 127.0.0.1:%d
`, dir, port, be)), 0o644)
	g, d := generation.Load([]string{cfg}, os.Getenv, generation.Options{Grace: time.Second})
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	c := &http.Client{Timeout: 5 * time.Second} // keep-alive: one connection
	defer func() {
		// The counters the stats page and Prometheus show.
		got := map[string]float64{}
		for _, e := range g.Extras() {
			got[e.Subsystem+"_"+e.Name] = e.Value
		}
		if got["haproxy_lua_calls_total"] < 3 || got["haproxy_lua_runtime_errors_total"] != 0 {
			t.Errorf("lua counters %v, want >= 3 calls and no error", got)
		}
	}()
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
		req.Header.Set("x-id", fmt.Sprint(i))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "x-before: none") {
			t.Fatalf("request %d saw a variable of an earlier request:\n%s", i, b)
		}
	}
}

// TestReloadsLeaveNothing: generations with lua-load built, started,
// used and stopped one after the other leave the goroutine count flat
// (states, pools and deadline timers go with their generation).
func TestReloadsLeaveNothing(t *testing.T) {
	dir := t.TempDir()
	be := echoBackend(t)
	os.WriteFile(filepath.Join(dir, "s.lua"), []byte(concurrentScript), 0o644)
	cycle := func() {
		port := testenv.FreePort(t)
		cfg := filepath.Join(dir, "h.cfg")
		os.WriteFile(cfg, []byte(fmt.Sprintf("global\n    lua-load %s/s.lua\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind 127.0.0.1:%d\n    http-request lua.tag\n    default_backend b\nbackend b\n    server s1 127.0.0.1:%d\n", dir, port, be)), 0o644)
		g, d := generation.Load([]string{cfg}, os.Getenv, generation.Options{Grace: time.Second})
		if d.HasErrors() {
			t.Fatal(d.Err())
		}
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		resp, err := (&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		g.Stop()
	}
	cycle() // warm: the HTTP client's and runtime's own goroutines
	before := runtime.NumGoroutine()
	for i := 0; i < 30; i++ {
		cycle()
	}
	err := testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
		if n := runtime.NumGoroutine(); n > before+3 {
			return fmt.Errorf("%d goroutines after 30 reloads, %d before", n, before)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSharedGlobals: with lua-load, script globals are one for every
// request, as in HAProxy's shared state: 60 concurrent requests through a
// counting action leave the counter at 60 (a per-state copy would not).
func TestSharedGlobals(t *testing.T) {
	dir := t.TempDir()
	be := echoBackend(t)
	port := testenv.FreePort(t)
	os.WriteFile(filepath.Join(dir, "s.lua"), []byte(`
hits = 0
core.register_action("count", {"http-req"}, function(txn) hits = hits + 1 end)
core.register_service("hits", "http", function(applet)
  applet:start_response()
  applet:send("hits=" .. hits)
end)
`), 0o644)
	cfg := filepath.Join(dir, "h.cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf("global\n    lua-load %s/s.lua\n    nbthread 2\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind 127.0.0.1:%d\n    http-request use-service lua.hits if { path /hits }\n    http-request lua.count\n    default_backend b\nbackend b\n    server s1 127.0.0.1:%d\n", dir, port, be)), 0o644)
	g, d := generation.Load([]string{cfg}, os.Getenv, generation.Options{Grace: time.Second})
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	get := func(path string) string {
		resp, err := (&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err != nil {
			t.Error(err)
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var wg sync.WaitGroup
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); get("/") }()
	}
	wg.Wait()
	if got := get("/hits"); got != "hits=60" {
		t.Fatalf("got %q, want hits=60", got)
	}
}
