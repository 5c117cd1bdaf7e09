package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// clientFrom is an HTTP client whose connections come from a loopback
// address other than 127.0.0.1, so that the "original client" differs from
// the address the next hop (HAProxy, varde) connects from.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// startVarde writes cfg (with DIR replaced) and runs varde on it.
func startVarde(t *testing.T, dir, cfg string, ports ...int) {
	t.Helper()
	path := filepath.Join(dir, "varde.cfg")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(cfg, "DIR", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, log := testenv.Start(t, testenv.VardeBinary(t), "run", "-f", path)
	testenv.WaitListening(t, "varde", log, ports...)
}

// TestHAProxySendsProxyToVarde: HAProxy 2.6 with send-proxy and
// send-proxy-v2 in front of a varde accept-proxy bind: the backend's
// X-Forwarded-For and varde's %ci:%cp/%fi:%fp are the original client's
// and HAProxy's frontend address, not HAProxy's own; curl's
// --haproxy-protocol is accepted too, and a client without a header is
// closed without an answer.
func TestHAProxySendsProxyToVarde(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde and haproxy")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	curl := testenv.LookTool(t, "curl", "curl")
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "xff=%s", r.Header.Get("X-Forwarded-For"))
	}))
	defer app.Close()
	p := testenv.FreePorts(t, 4)
	vp, h1, h2, mp := p[0], p[1], p[2], p[3]
	dir := t.TempDir()
	startVarde(t, dir, fmt.Sprintf(`global
    log file@DIR/access.log format raw anonymize none local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 2s
    timeout server 5s
frontend pp
    bind 127.0.0.1:%d accept-proxy
    option forwardfor
    log-format "ci=%%ci:%%cp fi=%%fi:%%fp st=%%ST"
    default_backend app
frontend metrics
    bind 127.0.0.1:%d
    http-request use-service prometheus-exporter
backend app
    server s1 %s
`, vp, mp, app.Listener.Addr()), vp, mp)
	hcfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hcfg, []byte(fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f1
    bind 127.0.0.1:%d
    default_backend v1
backend v1
    server v 127.0.0.1:%d send-proxy
frontend f2
    bind 127.0.0.1:%d
    default_backend v2
backend v2
    server v 127.0.0.1:%d send-proxy-v2
`, h1, vp, h2, vp)), 0o644)
	_, hlog := testenv.Start(t, haproxy, "-db", "-f", hcfg)
	testenv.WaitListening(t, "haproxy", hlog, h1, h2)

	c := clientFrom("127.0.0.2")
	for _, hp := range []int{h1, h2} {
		code, b := get(t, c, fmt.Sprintf("http://127.0.0.1:%d/", hp))
		if code != 200 || b != "xff=127.0.0.2" {
			t.Errorf("through haproxy :%d: %d %q, want 200 xff=127.0.0.2", hp, code, b)
		}
		waitLog(t, filepath.Join(dir, "access.log"), fmt.Sprintf(`ci=127\.0\.0\.2:\d+ fi=127\.0\.0\.1:%d st=200`, hp))
	}
	// curl's own PROXY v1 line, from 127.0.0.3.
	out, err := exec.Command(curl, "-s", "--max-time", "5", "--haproxy-protocol", "--interface", "127.0.0.3",
		fmt.Sprintf("http://127.0.0.1:%d/", vp)).CombinedOutput()
	if err != nil || string(out) != "xff=127.0.0.3" {
		t.Errorf("curl --haproxy-protocol: %q %v", out, err)
	}
	// Without a header: closed, nothing answered, nothing forwarded.
	if _, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", vp)); err == nil {
		t.Errorf("a request without a PROXY header was answered")
	}
	// ... and counted, the valid headers not
	if _, m := get(t, http.DefaultClient, fmt.Sprintf("http://127.0.0.1:%d/metrics", mp)); !strings.Contains(m, `varde_frontend_proxy_protocol_errors_total{proxy="pp"} 1`+"\n") {
		t.Errorf("metrics lack 1 PROXY error on pp:\n%s", grepLines(m, "proxy_protocol"))
	}
}

// TestVardeSendsProxyToNginx: nginx with `listen ... proxy_protocol` as
// varde's server with send-proxy and send-proxy-v2 (and health checks,
// which send UNKNOWN/LOCAL headers nginx must accept for the server to
// stay up): nginx's $proxy_protocol_addr is the original client.
func TestVardeSendsProxyToNginx(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde and nginx")
	}
	nginx := testenv.LookTool(t, "nginx", "nginx")
	p := testenv.FreePorts(t, 3)
	np, v1, v2 := p[0], p[1], p[2]
	dir := t.TempDir()
	ncfg := filepath.Join(dir, "nginx.conf")
	os.WriteFile(ncfg, []byte(fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/cb; proxy_temp_path %[1]s/pt; fastcgi_temp_path %[1]s/ft;
    uwsgi_temp_path %[1]s/ut; scgi_temp_path %[1]s/st;
    server {
        listen 127.0.0.1:%[2]d proxy_protocol;
        location / { return 200 "pp=$proxy_protocol_addr"; }
    }
}
`, dir, np)), 0o644)
	_, nlog := testenv.Start(t, nginx, "-p", dir, "-c", ncfg, "-e", filepath.Join(dir, "error.log"))
	testenv.WaitListening(t, "nginx", nlog, np)
	startVarde(t, dir, fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f1
    bind 127.0.0.1:%d
    default_backend n1
frontend f2
    bind 127.0.0.1:%d
    default_backend n2
backend n1
    option httpchk GET /
    server n 127.0.0.1:%d send-proxy check inter 100ms fall 1 rise 1
backend n2
    option httpchk GET /
    default-server send-proxy-v2
    server n 127.0.0.1:%d check inter 100ms fall 1 rise 1
`, v1, v2, np, np), v1, v2)
	time.Sleep(500 * time.Millisecond) // several checks: a refused one would mark the server down
	c := clientFrom("127.0.0.2")
	for _, vp := range []int{v1, v2} {
		for i := 0; i < 3; i++ {
			code, b := get(t, c, fmt.Sprintf("http://127.0.0.1:%d/", vp))
			if code != 200 || b != "pp=127.0.0.2" {
				t.Errorf("varde :%d request %d: %d %q, want 200 pp=127.0.0.2", vp, i, code, b)
			}
		}
	}
	if errs, _ := os.ReadFile(filepath.Join(dir, "error.log")); strings.Contains(string(errs), "broken header") {
		t.Errorf("nginx refused a PROXY header:\n%s", errs)
	}
}

// waitLog waits until a line of the log file matches re.
func waitLog(t *testing.T, path, re string) {
	t.Helper()
	rx := regexp.MustCompile(re)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if f, err := os.Open(path); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if rx.MatchString(sc.Text()) {
					f.Close()
					return
				}
			}
			f.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(path)
	t.Fatalf("no log line matches %s:\n%s", re, b)
}
