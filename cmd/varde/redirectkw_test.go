package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

const redirectKwCfg = `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:%d
    acl ok path_beg /ok
    http-request allow if ok
    redirect prefix https://new.example code 301 if { path_beg /ok/old }
    redirect location /moved if { path /here }
    default_backend b
backend b
    redirect scheme https code 308 if { path /be }
    server s1 %s
`

// TestRedirectKeywordAgainstHAProxy runs the proxy keyword `redirect`
// through HAProxy 2.6 and varde: its rules run after the http-request
// rules, even after an `allow` ended them, and in a backend after the
// backend was chosen; requests they do not match reach the server.
func TestRedirectKeywordAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "server") }))
	t.Cleanup(be.Close)
	dir := t.TempDir()
	reqs := []string{"/ok/old/x?q=1", "/ok/fine", "/here", "/be", "/other"}
	results := map[string][]string{}
	for _, name := range []string{"haproxy", "varde"} {
		port := testenv.FreePort(t)
		path := filepath.Join(dir, name+".cfg")
		cfg := fmt.Sprintf(redirectKwCfg, port, strings.TrimPrefix(be.URL, "http://"))
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		if name == "haproxy" {
			testenv.Start(t, hap, "-db", "-f", path)
		} else {
			testenv.Start(t, bin, "run", "-f", path)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		testenv.WaitTCP(t, addr, 10*time.Second)
		client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, p := range reqs {
			req, _ := http.NewRequest("GET", "http://"+addr+p, nil)
			req.Host = "site.test"
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", name, p, err)
			}
			resp.Body.Close()
			results[name] = append(results[name], fmt.Sprintf("%s -> %d %s", p, resp.StatusCode, resp.Header.Get("Location")))
		}
	}
	want := []string{
		"/ok/old/x?q=1 -> 301 https://new.example/ok/old/x?q=1",
		"/ok/fine -> 200 ",
		"/here -> 302 /moved",
		"/be -> 308 https://site.test/be",
		"/other -> 200 ",
	}
	for i, w := range want {
		if results["haproxy"][i] != w || results["varde"][i] != w {
			t.Errorf("request %d: haproxy %q, varde %q, want %q", i, results["haproxy"][i], results["varde"][i], w)
		}
	}
}
