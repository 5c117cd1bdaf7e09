package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

const verdictRoute = `
function choose_backend(req)
  local m = req:header("x-route")
  if m == "loop" then while true do end end
  if m == "type" then return {} end
  if m == "unknown" then return "nosuch" end
  return m
end
`

const verdictPick = `function choose_server(req, servers) return req:header("x-pick") end`

// TestPolicyVerdictInLog: a varde process whose log-format has
// %[policy.verdict]: each request's line says what the transaction's last
// policy call decided (a backend, a server, declined, a fallback with its
// reason), and "-" where no policy ran.
func TestPolicyVerdictInLog(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	addrs := map[string]string{}
	for _, n := range []string{"p1", "o1", "o2"} {
		n := n
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, n) }))
		t.Cleanup(srv.Close)
		addrs[n] = strings.TrimPrefix(srv.URL, "http://")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "route.lua"), []byte(verdictRoute), 0o644)
	os.WriteFile(filepath.Join(dir, "pick.lua"), []byte(verdictPick), 0o644)
	ports := testenv.FreePorts(t, 2)
	cfg := fmt.Sprintf(`global
    log stdout format raw local0
defaults
    mode http
    log global
    log-format "id=%%[req.hdr(x-id)] v=%%[policy.verdict] b=%%b s=%%s"
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    policy route.lua timeout 20ms
    default_backend plain
frontend nopolicy
    bind 127.0.0.1:%d
    default_backend plain
backend plain
    server p1 %s
backend other
    policy pick.lua
    server o1 %s
    server o2 %s
`, ports[0], ports[1], addrs["p1"], addrs["o1"], addrs["o2"])
	path := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(path, []byte(cfg), 0o644)
	_, logPath := testenv.Start(t, testenv.VardeBinary(t), "run", "-f", path)
	testenv.WaitListening(t, "varde", logPath, ports...)
	for _, tc := range []struct {
		id, port, route, pick, body, want string
	}{
		{"1", "0", "", "", "p1", "v=declined b=plain s=p1"},
		{"2", "0", "other", "o2", "o2", "v=o2 b=other s=o2"},
		{"3", "0", "other", "", "", "v=declined b=other"},
		{"4", "0", "other", "nosuch", "", "v=fallback:unknown b=other"},
		{"5", "0", "type", "", "p1", "v=fallback:type b=plain s=p1"},
		{"6", "0", "unknown", "", "p1", "v=fallback:unknown b=plain s=p1"},
		{"7", "0", "loop", "", "p1", "v=fallback:timeout b=plain s=p1"},
		{"8", "1", "other", "", "p1", "v=- b=plain s=p1"},
	} {
		port := ports[0]
		if tc.port == "1" {
			port = ports[1]
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
		req.Header.Set("x-id", tc.id)
		if tc.route != "" {
			req.Header.Set("x-route", tc.route)
		}
		if tc.pick != "" {
			req.Header.Set("x-pick", tc.pick)
		}
		code, body := do(t, req)
		if code != 200 || (tc.body != "" && body != tc.body) {
			t.Errorf("request %s: %d %q, want 200 %q", tc.id, code, body, tc.body)
		}
		line := ""
		testenv.Until(5*time.Second, 20*time.Millisecond, func() error {
			for _, l := range strings.Split(readLog(logPath), "\n") {
				if strings.Contains(l, "id="+tc.id+" ") {
					line = l
					return nil
				}
			}
			return fmt.Errorf("no line")
		})
		t.Log(line)
		if !strings.Contains(line, "id="+tc.id+" "+tc.want) {
			t.Errorf("request %s: log line %q, want %q", tc.id, line, tc.want)
		}
	}
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
