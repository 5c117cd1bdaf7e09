package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// TestDefaultPathAgainstHAProxy runs HAProxy 2.6 and varde on a
// configuration kept with its files in a directory of their own, started
// from another directory: with `default-path config` both read the error
// page, the return file, the ACL file and the map file from the
// configuration's directory. Status and body of each request are compared.
func TestDefaultPathAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	root := t.TempDir()
	conf := filepath.Join(root, "conf")
	elsewhere := filepath.Join(root, "elsewhere")
	files := map[string]string{
		"errors/503.http": "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nfrom the conf dir\n",
		"pages/ok.txt":    "ok page\n",
		"acl/block.acl":   "/blocked\n",
		"maps/hosts.map":  "a.example blue\nb.example green\n",
	}
	for name, body := range files {
		p := filepath.Join(conf, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(elsewhere, 0o755); err != nil {
		t.Fatal(err)
	}
	// The same relative names in the start directory hold other content:
	// reading from there would show.
	os.MkdirAll(filepath.Join(elsewhere, "pages"), 0o755)
	os.WriteFile(filepath.Join(elsewhere, "pages/ok.txt"), []byte("WRONG DIRECTORY\n"), 0o644)
	type run struct{ status, body []string }
	results := map[string]run{}
	for _, lb := range []string{"haproxy", "varde"} {
		port := testenv.FreePort(t)
		cfg := filepath.Join(conf, lb+".cfg")
		text := fmt.Sprintf(`global
    default-path config
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    errorfile 503 errors/503.http
frontend f
    bind 127.0.0.1:%d
    acl blocked path -f acl/block.acl
    http-request deny if blocked
    http-request return status 200 content-type text/plain file pages/ok.txt if { path /ok }
    http-request return status 200 content-type text/plain lf-string "%%[req.hdr(host),map(maps/hosts.map,none)]" if { path /map }
    default_backend b
backend b
    server s 127.0.0.1:1
`, port)
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"-db", "-f", cfg}
		name := hap
		if lb == "varde" {
			name, args = bin, []string{"run", "-f", cfg}
		}
		cmd := exec.Command(name, args...)
		cmd.Dir = elsewhere
		logf, _ := os.Create(filepath.Join(root, lb+".log"))
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			logf.Close()
		})
		testenv.WaitListening(t, lb, logf.Name(), port)
		var r run
		for _, req := range [][2]string{{"/ok", "h"}, {"/map", "a.example"}, {"/map", "c.example"}, {"/blocked", "h"}, {"/other", "h"}} {
			st, body := getHost(t, port, req[0], req[1])
			r.status, r.body = append(r.status, fmt.Sprint(st)), append(r.body, body)
		}
		results[lb] = r
	}
	h, v := results["haproxy"], results["varde"]
	for i := range h.status {
		t.Logf("request %d: haproxy %s %q | varde %s %q", i, h.status[i], h.body[i], v.status[i], v.body[i])
		if h.status[i] != v.status[i] || h.body[i] != v.body[i] {
			t.Errorf("request %d differs: haproxy %s %q, varde %s %q", i, h.status[i], h.body[i], v.status[i], v.body[i])
		}
	}
	if h.body[0] != "ok page\n" || h.body[1] != "blue" || h.status[3] != "403" || h.body[4] != "from the conf dir\n" {
		t.Errorf("haproxy did not read the conf directory's files (test premise): %v", h)
	}
}

func getHost(t *testing.T, port int, path, host string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
	req.Host = host
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
