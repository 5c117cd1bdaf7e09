package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/testenv"
	"github.com/varde-lb/varde/scripting"
)

// The policies of the end-to-end test. route.lua and pick.lua fail in
// every way item 5 of the policy issue lists when a header asks them to.
const e2eRoute = `
function choose_backend(req)
  local m = req:header("x-route")
  if m == "other" then return "other" end
  if m == "loop" then while true do end end
  if m == "alloc" then local t = {} local i = 0 while true do i = i + 1 t[i] = tostring(i) .. "xxxxxxxxxxxxxxxxxxxxxxxx" end end
  if m == "error" then error("route failed on purpose") end
  if m == "nil" then return nil end
  if m == "unknown" then return "nosuch" end
  if m == "type" then return {} end
  return shared.get("live")
end
`

const e2ePick = `
function choose_server(req, servers)
  local m = req:header("x-pick")
  if m == nil then return nil end
  if m == "loop" then while true do end end
  if m == "alloc" then local s = "x" while true do s = s .. s end end
  if m == "error" then local x = nil return x.field end
  if m == "nil" then return nil end
  if m == "unknown" then return "nosuch" end
  if m == "down" then return "web3" end
  if m == "type" then return true end
  return m
end
`

const e2eSticky = `function sticky_key(req) return req:header("x-user") end`

type e2eVarde struct {
	addr, sock, log string
}

func (v *e2eVarde) get(t *testing.T, hdrs ...string) (int, string, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+v.addr+"/", nil)
	for i := 0; i+1 < len(hdrs); i += 2 {
		req.Header.Set(hdrs[i], hdrs[i+1])
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %v: %v\n%s", hdrs, err, readLog(v.log))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

func (v *e2eVarde) fetch(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + v.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (v *e2eVarde) cli(t *testing.T, cmd string) string {
	t.Helper()
	c, err := net.Dial("unix", v.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "%s\n", cmd)
	b, _ := io.ReadAll(bufio.NewReader(c))
	return string(b)
}

func readLog(p string) string { b, _ := os.ReadFile(p); return string(b) }

// startPolicyVarde runs varde with the three test policies and the
// ready-made degraded-health.lua in front of real HTTP servers.
func startPolicyVarde(t *testing.T, healthBody *atomic.Value) *e2eVarde {
	names := []string{"web1", "web2", "web3", "other", "h1"}
	addrs := map[string]string{}
	for _, n := range names {
		n := n
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/health" {
				fmt.Fprint(w, healthBody.Load().(string))
				return
			}
			fmt.Fprint(w, n)
		}))
		t.Cleanup(srv.Close)
		addrs[n] = strings.TrimPrefix(srv.URL, "http://")
	}
	dir := t.TempDir()
	for name, src := range map[string]string{"route.lua": e2eRoute, "pick.lua": e2ePick, "sticky.lua": e2eSticky} {
		os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644)
	}
	root, _ := testenv.ModuleRoot()
	port := testenv.FreePort(t)
	v := &e2eVarde{addr: "127.0.0.1:" + strconv.Itoa(port), sock: filepath.Join(dir, "admin.sock")}
	cfg := fmt.Sprintf(`global
    stats socket %s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind %s
    policy route.lua timeout 20ms
    stats enable
    stats uri /stats
    http-request use-service prometheus-exporter if { path /metrics }
    use_backend hc if { path_beg /hc }
    default_backend app
backend app
    policy pick.lua timeout 20ms fallback roundrobin
    policy sticky.lua
    server web1 %s
    server web2 %s
    server web3 %s disabled
backend other
    server other %s
backend hc
    policy %s/policies/degraded-health.lua
    option httpchk GET /health
    server h1 %s check inter 100ms fall 1 rise 1
`, v.sock, v.addr, addrs["web1"], addrs["web2"], addrs["web3"], addrs["other"], root, addrs["h1"])
	path := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(path, []byte(cfg), 0o644)
	bin := testenv.VardeBinary(t)
	var out strings.Builder
	if code := dispatch([]string{"check", "-f", path}, &out, &out); code != 0 {
		t.Fatalf("check: %d\n%s", code, out.String())
	}
	_, v.log = testenv.Start(t, bin, "run", "-f", path, "--grace", "1s")
	testenv.WaitListening(t, "varde", v.log, port)
	if err := testenv.Until(10*time.Second, 20*time.Millisecond, func() error {
		c, err := net.Dial("unix", v.sock)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		t.Fatalf("admin socket: %v\n%s", err, readLog(v.log))
	}
	return v
}

// TestPolicyEndToEnd drives every entry point through a real varde
// process and checks each failure mode falls back to the built-in with
// the request answered and the error counted by reason.
func TestPolicyEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a varde process")
	}
	var body atomic.Value
	body.Store("status: ok")
	v := startPolicyVarde(t, &body)

	t.Run("choose_backend", func(t *testing.T) {
		if code, b, _ := v.get(t, "X-Route", "other"); code != 200 || b != "other" {
			t.Fatalf("X-Route other: %d %q", code, b)
		}
		// set policy var switches the live backend without a reload
		if out := v.cli(t, "set policy var route.lua live other"); strings.TrimSpace(out) != "" {
			t.Fatalf("set policy var: %q", out)
		}
		if code, b, _ := v.get(t); code != 200 || b != "other" {
			t.Fatalf("live other: %d %q", code, b)
		}
		if out := v.cli(t, "show policy var route.lua"); !strings.Contains(out, "live=other") {
			t.Fatalf("show policy var: %q", out)
		}
		v.cli(t, "del policy var route.lua live")
		if code, b, _ := v.get(t, "X-Pick", "web1"); code != 200 || b != "web1" {
			t.Fatalf("after del: %d %q", code, b)
		}
	})
	t.Run("choose_server and sticky_key", func(t *testing.T) {
		for _, want := range []string{"web2", "web1", "web2"} {
			if code, b, _ := v.get(t, "X-Pick", want); code != 200 || b != want {
				t.Fatalf("X-Pick %s: %d %q", want, code, b)
			}
		}
		_, first, _ := v.get(t, "X-User", "alice")
		for i := 0; i < 5; i++ {
			if _, b, _ := v.get(t, "X-User", "alice"); b != first {
				t.Fatalf("sticky_key: alice went to %s then %s", first, b)
			}
		}
	})
	t.Run("failures fall back", func(t *testing.T) {
		for _, tc := range []struct{ hdr, mode, reason string }{
			{"X-Route", "loop", "timeout"}, {"X-Route", "alloc", "timeout"}, {"X-Route", "error", "error"},
			{"X-Route", "unknown", "unknown"}, {"X-Route", "type", "type"},
			{"X-Pick", "loop", "timeout"}, {"X-Pick", "alloc", ""}, {"X-Pick", "error", "error"},
			{"X-Pick", "unknown", "unknown"}, {"X-Pick", "down", "unusable"}, {"X-Pick", "type", "type"},
		} {
			code, b, d := v.get(t, tc.hdr, tc.mode)
			if code != 200 || (b != "web1" && b != "web2") {
				t.Errorf("%s %s: %d %q, want an answer from the built-in", tc.hdr, tc.mode, code, b)
			}
			if d > time.Second {
				t.Errorf("%s %s: took %v", tc.hdr, tc.mode, d)
			}
		}
		for _, mode := range []string{"nil"} {
			if code, _, _ := v.get(t, "X-Route", mode, "X-Pick", mode); code != 200 {
				t.Errorf("nil: %d", code)
			}
		}
		out := v.cli(t, "show policies")
		for _, want := range []string{
			"route.lua fe lua choose_backend ", "error=1", "timeout=", "type=1", "unknown=1",
			"pick.lua app lua choose_server ", "unusable=1", "sticky.lua app lua sticky_key ",
			"degraded-health.lua hc lua health ",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("show policies lacks %q:\n%s", want, out)
			}
		}
		if !strings.Contains(readLog(v.log), "policy failed, built-in decided") {
			t.Errorf("no error log line:\n%s", readLog(v.log))
		}
		metrics := v.fetch(t, "/metrics")
		for _, want := range []string{
			`varde_policy_errors_total{entry="choose_backend",policy="route.lua",proxy="fe",reason="timeout"} `, // >= 2: a loaded machine may cut more
			`varde_policy_errors_total{entry="choose_server",policy="pick.lua",proxy="app",reason="unusable"} 1`,
			`varde_policy_calls_total{entry="choose_backend",policy="route.lua",proxy="fe"}`,
			`varde_policy_call_p99_seconds{entry="choose_server",policy="pick.lua",proxy="app"}`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if page := v.fetch(t, "/stats"); !strings.Contains(page, "route.lua choose_backend errors") {
			t.Errorf("stats page lacks the policy values")
		}
	})
	t.Run("health", func(t *testing.T) {
		if code, b, _ := v.get(t, "X-Route", "nil"); code != 200 || b == "" {
			t.Fatalf("%d %q", code, b)
		}
		waitHC := func(want int) {
			t.Helper()
			err := testenv.Until(10*time.Second, 50*time.Millisecond, func() error {
				req, _ := http.NewRequest("GET", "http://"+v.addr+"/hc", nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("/hc never answered %d: %v", want, err)
			}
		}
		waitHC(200)
		body.Store("status: degraded")
		waitHC(503) // the policy took h1 out although the probe saw 200
		body.Store("status: ok")
		waitHC(200)
	})
}

// TestPolicyGenerationCycles loads and closes 200 generations holding
// policies, half of them started and stopped with traffic: goroutines stay
// flat and every shared table is released.
func TestPolicyGenerationCycles(t *testing.T) {
	if testing.Short() {
		t.Skip("200 generations")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "route.lua"), []byte(e2eRoute), 0o644)
	os.WriteFile(filepath.Join(dir, "pick.lua"), []byte(e2ePick), 0o644)
	port := testenv.FreePort(t)
	cfg := fmt.Sprintf(authorityDefaults+`frontend fe
    bind 127.0.0.1:%d
    policy route.lua
    default_backend app
backend app
    policy pick.lua
    server s1 %s
`, port, strings.TrimPrefix(srv.URL, "http://"))
	path := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(path, []byte(cfg), 0o644)
	cycle := func(i int) {
		g, d := generation.Load([]string{path}, os.Getenv, generation.Options{Stdout: io.Discard, Stderr: io.Discard, Grace: time.Second})
		if d.HasErrors() {
			var b strings.Builder
			d.Write(&b, true)
			t.Fatalf("cycle %d: %s", i, b.String())
		}
		if i%2 == 1 {
			if err := g.Start(t.Context()); err != nil {
				t.Fatalf("cycle %d: start: %v", i, err)
			}
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
			if err != nil {
				t.Fatalf("cycle %d: %v", i, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			http.DefaultClient.CloseIdleConnections()
			g.Stop()
			return
		}
		g.Close()
	}
	cycle(0)
	cycle(1)
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	for i := 2; i < 200; i++ {
		cycle(i)
	}
	var after int
	testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
		runtime.GC()
		if after = runtime.NumGoroutine(); after > before+3 {
			return fmt.Errorf("goroutines %d -> %d", before, after)
		}
		return nil
	})
	if after > before+3 {
		t.Errorf("goroutines %d before the cycles, %d after", before, after)
	}
	for _, f := range []string{"route.lua", "pick.lua"} {
		if scripting.SharedTables.Lookup(filepath.Join(dir, f)) != nil {
			t.Errorf("%s: shared table still held", f)
		}
	}
}
