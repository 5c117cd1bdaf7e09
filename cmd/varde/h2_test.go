package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/varde-lb/varde/core/testenv"
)

// h2specPath finds h2spec (`.ci/install-deps` installs it with go install).
func h2specPath(t *testing.T) string {
	t.Helper()
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "h2spec")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return testenv.LookTool(t, "h2spec", "go install github.com/summerwind/h2spec/cmd/h2spec (not a Debian package)")
}

// startH2Varde runs a real varde with `bind ... proto h2` in front of a
// backend, its httplog on stdout. It returns the address and the log path.
func startH2Varde(t *testing.T) (string, string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if n, err := strconv.Atoi(r.URL.Query().Get("size")); err == nil {
			w.Write(bytes.Repeat([]byte("z"), n))
			return
		}
		fmt.Fprintf(w, "%s %s %s len=%d", r.Method, r.URL.RequestURI(), r.Proto, len(b))
	}))
	t.Cleanup(srv.Close)
	port := testenv.FreePort(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:%d proto h2
    http-request deny if { path_beg /deny }
    default_backend app
backend app
    server one %s
`, port, strings.TrimPrefix(srv.URL, "http://"))
	path := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(path, []byte(cfg), 0o644)
	_, logPath := testenv.Start(t, testenv.VardeBinary(t), "run", "-f", path)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	testenv.WaitTCP(t, addr, 10*time.Second)
	return addr, logPath
}

// TestH2Spec runs h2spec (every generic, HTTP/2 and HPACK case, strict
// mode included) against a real varde process: all must pass. No case is
// excluded.
func TestH2Spec(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := h2specPath(t)
	addr, logPath := startH2Varde(t)
	host, port, _ := strings.Cut(addr, ":")
	out, err := exec.Command(bin, "--strict", "-h", host, "-p", port, "-o", "3").CombinedOutput()
	summary := ""
	if i := bytes.LastIndex(out, []byte("tests, ")); i >= 0 {
		summary = strings.TrimSpace(string(out[bytes.LastIndexByte(out[:i], '\n')+1:]))
	}
	if err != nil || !strings.HasSuffix(summary, "0 skipped, 0 failed") {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("h2spec: %v, %q\n%s\nvarde:\n%s", err, summary, out, log)
	}
	t.Log(summary)
}

// TestH2Curl: curl --http2-prior-knowledge against a real varde: GET, POST
// with a body, a 1 MiB response, 100 streams at once on one
// connection (h2load), a deny rule, and the httplog lines saying HTTP/2.0.
func TestH2Curl(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	curl := testenv.LookTool(t, "curl", "curl")
	addr, logPath := startH2Varde(t)
	base := "http://" + addr
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(curl, append([]string{"-sS", "--http2-prior-knowledge", "--max-time", "20"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		return string(out)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"get", []string{base + "/a?b=1"}, "GET /a?b=1 HTTP/1.1 len=0"},
		{"post", []string{"-d", "hello", base + "/p"}, "POST /p HTTP/1.1 len=5"},
		{"1 MiB", []string{"-o", "/dev/null", "-w", "%{http_version} %{http_code} %{size_download}", base + "/?size=1048576"}, "2 200 1048576"},
		{"deny", []string{"-o", "/dev/null", "-w", "%{http_code}", base + "/deny"}, "403"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args...); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("100 streams at once", func(t *testing.T) {
		// curl 7.88's --parallel over prior knowledge fails against
		// HAProxy 2.6 too ("Error in the HTTP2 framing layer"): h2load
		// multiplexes instead.
		h2load := testenv.LookTool(t, "h2load", "nghttp2-client")
		out, err := exec.Command(h2load, "-n", "100", "-c", "1", "-m", "100", base+"/par/99").CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("100 succeeded, 0 failed, 0 errored")) {
			t.Fatalf("h2load: %v\n%s", err, out)
		}
	})
	err := testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
		b, _ := os.ReadFile(logPath)
		// As HAProxy 2.6: HTTP/2.0, and the absolute URI built from
		// :scheme and :authority.
		for _, want := range []string{`"GET ` + base + `/a?b=1 HTTP/2.0"`, ` 403 `, `"GET ` + base + `/deny HTTP/2.0"`, `"GET ` + base + `/par/99 HTTP/2.0"`} {
			if !bytes.Contains(b, []byte(want)) {
				return fmt.Errorf("log lacks %s:\n%s", want, b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestH2AcceptProxy: on a `proto h2 accept-proxy` bind the PROXY header
// comes before the connection preface, and its client is the one
// X-Forwarded-For carries (curl --haproxy-protocol sends curl's own
// address, so the header is written by hand over a raw connection).
func TestH2AcceptProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s xff=%s", r.Proto, r.Header.Get("X-Forwarded-For"))
	}))
	t.Cleanup(srv.Close)
	port := testenv.FreePort(t)
	cfg := fmt.Sprintf("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"+
		"frontend web\n    bind 127.0.0.1:%d proto h2 accept-proxy\n    option forwardfor\n    default_backend app\n"+
		"backend app\n    server one %s\n", port, strings.TrimPrefix(srv.URL, "http://"))
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(path, []byte(cfg), 0o644)
	testenv.Start(t, testenv.VardeBinary(t), "run", "-f", path)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	testenv.WaitTCP(t, addr, 10*time.Second)

	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, a string, _ *tls.Config) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, a)
		if err == nil {
			_, err = io.WriteString(c, "PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\n")
		}
		return c, err
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := string(b); got != "HTTP/1.1 xff=203.0.113.9" || resp.ProtoMajor != 2 {
		t.Errorf("got %q over HTTP/%d, want the PROXY header's client over HTTP/2", got, resp.ProtoMajor)
	}
	// Without the header the preface is not a PROXY line: closed.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, http2.ClientPreface)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 64)); err == nil {
		t.Errorf("a client without the PROXY header got %d bytes, want the connection closed", n)
	}
}
