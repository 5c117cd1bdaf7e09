package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// TestLuaLoadPolicies runs the ready-made lua-load scripts
// policies/rate-limit.lua and policies/maintenance.lua under HAProxy 2.6
// and under a varde process, with the same configuration, a real backend,
// and the admin socket switching them at run time: both must give the same
// answers. rate-limit answers 429 from a registered action once a client
// spent its burst while another client is still served; maintenance's
// service answers its 503 page while proc.maintenance is "on" and the site
// comes back once it is "off".
func TestLuaLoadPolicies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	for _, server := range []string{"haproxy", "varde"} {
		t.Run(server, func(t *testing.T) { luaLoadPolicies(t, server) })
	}
}

func luaLoadPolicies(t *testing.T, server string) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "site") }))
	t.Cleanup(be.Close)
	root, _ := testenv.ModuleRoot()
	dir := t.TempDir()
	port := testenv.FreePort(t)
	sock := filepath.Join(dir, "admin.sock")
	cfg := fmt.Sprintf(`global
    lua-load %[1]s/policies/rate-limit.lua
    lua-load %[1]s/policies/maintenance.lua
    stats socket %[2]s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind 127.0.0.1:%[3]d
    http-request use-service lua.maintenance if { var(proc.maintenance) -m str on }
    http-request lua.rate_limit
    default_backend app
backend app
    server s1 %[4]s
`, root, sock, port, strings.TrimPrefix(be.URL, "http://"))
	path := filepath.Join(dir, "h.cfg")
	os.WriteFile(path, []byte(cfg), 0o644)
	var log string
	if server == "haproxy" {
		_, log = testenv.Start(t, testenv.LookTool(t, "haproxy", "haproxy"), "-db", "-f", path)
	} else {
		_, log = testenv.Start(t, testenv.VardeBinary(t), "run", "-f", path)
	}
	testenv.WaitListening(t, server, log, port)
	cli := func(cmd string) string {
		t.Helper()
		var out string
		err := testenv.Until(5*time.Second, 20*time.Millisecond, func() error {
			c, err := net.Dial("unix", sock)
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "%s\n", cmd)
			b, err := io.ReadAll(c) // the answers of every command on the line
			out = strings.TrimSpace(string(b))
			return err
		})
		if err != nil {
			t.Fatalf("admin socket: %v\n%s", err, readLog(log))
		}
		return out
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	a, b := clientFrom("127.0.0.2"), clientFrom("127.0.0.3")
	t.Run("rate-limit", func(t *testing.T) { rateLimitAnswers(t, cli, url, a, b) })
	t.Run("maintenance", func(t *testing.T) { maintenanceAnswers(t, cli, url, b) })
	// refusals: both refuse, in their own words
	for _, c := range []string{"set var proc.x req.hdr(host)", "set var proc.x nosuch(1)", "set var txn.x str(a)"} {
		if out := cli("experimental-mode on; " + c); out == "" {
			t.Errorf("%s accepted", c)
		}
	}
	if out := cli("get var proc.x"); out != "Variable not found." {
		t.Errorf("get var of a refused set: %q", out)
	}
}

// rateLimitAnswers: a burst of 3 and a rate too slow to refill during the
// test, set through process-wide variables.
func rateLimitAnswers(t *testing.T, cli func(string) string, url string, a, b *http.Client) {
	if out := cli("set var proc.rate_limit_burst int(3)"); !strings.Contains(out, "experimental mode") {
		t.Fatalf("set var outside experimental mode answered %q", out)
	}
	for _, c := range []string{"set var proc.rate_limit_burst int(3)", "set var proc.rate_limit_rate str(0.01)"} {
		if out := cli("experimental-mode on; " + c); out != "" {
			t.Fatalf("%s: %q", c, out)
		}
	}
	if out := cli("get var proc.rate_limit_burst"); out != "proc.rate_limit_burst: type=sint value=<3>" {
		t.Fatalf("get var: %q", out)
	}
	for i := 1; i <= 3; i++ {
		if code, body := get(t, a, url); code != 200 || body != "site" {
			t.Fatalf("request %d of client a: %d %q", i, code, body)
		}
	}
	for i := 0; i < 2; i++ {
		if code, body := get(t, a, url); code != 429 || !strings.Contains(body, "Too many requests") {
			t.Fatalf("client a over its burst: %d %q", code, body)
		}
		if code, body := get(t, b, url); code != 200 || body != "site" {
			t.Fatalf("client b: %d %q", code, body)
		}
	}
	// a fast refill lets client a through again
	cli("experimental-mode on; set var proc.rate_limit_rate int(100000)")
	if code, _ := get(t, a, url); code != 200 {
		t.Fatalf("client a after the refill: %d", code)
	}
	cli("experimental-mode on; set var proc.rate_limit_burst int(1000)")
}

func maintenanceAnswers(t *testing.T, cli func(string) string, url string, c *http.Client) {
	if code, body := get(t, c, url); code != 200 || body != "site" {
		t.Fatalf("before maintenance: %d %q", code, body)
	}
	cli("experimental-mode on; set var proc.maintenance str(on)")
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	code, body := resp.StatusCode, string(b)
	if code != 503 || !strings.Contains(body, "Down for maintenance") || resp.Header.Get("Retry-After") != "300" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("in maintenance: %d %q %v", code, body, resp.Header)
	}
	cli("experimental-mode on; set var proc.maintenance str(off)")
	if code, body := get(t, c, url); code != 200 || body != "site" {
		t.Fatalf("after maintenance: %d %q", code, body)
	}
}
