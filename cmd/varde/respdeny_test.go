package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

// respDenyConfig exercises http-response deny and return in a frontend
// and a backend, with http-after-response on the replacement.
const respDenyConfig = `global
    stats socket {{SOCK}} level admin
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
    log stdout format raw local0
    log-format "LOG %ST %ts %b %s %HP"
frontend fe
    bind 127.0.0.1:{{PORT}}
    http-request set-var(txn.p) path
    http-after-response set-header X-After yes
    http-response deny if { status 404 }
    http-response deny deny_status 403 content-type text/plain string "no secrets" hdr X-Why "%[var(txn.p)]" if { res.hdr(x-secret) -m found }
    http-response return status 200 content-type text/plain lf-string "replaced %[status] %[var(txn.p)]" hdr X-Orig "%[var(txn.p)]" if { var(txn.p) -m str /ret }
    default_backend app
backend app
    http-response deny deny_status 503 if { var(txn.p) -m str /bedeny }
    http-response return status 204 if { var(txn.p) -m str /ret204 }
    http-response set-header X-Backend seen
    server s1 {{ADDR}}
`

var respDenyRequests = []string{
	"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /secret HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /ret HTTP/1.1\r\nHost: x\r\n\r\n",
	"HEAD /ret HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /bedeny HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /ret204 HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /big HTTP/1.1\r\nHost: x\r\n\r\n", // denied (404) with a body larger than the buffers
	"POST /secret HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
	"GET /missing HTTP/1.0\r\n\r\n",
	"GET /ret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
}

func respDenyBackend(t *testing.T) string {
	big := strings.Repeat("b", 1<<20)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/missing":
			w.WriteHeader(404)
			io.WriteString(w, "not here")
		case "/big":
			w.WriteHeader(404)
			io.WriteString(w, big)
		case "/secret":
			w.Header().Set("X-Secret", "s3")
			io.WriteString(w, "the secret")
		default:
			w.Header().Set("X-Orig", "orig")
			io.WriteString(w, "ok "+r.URL.Path)
		}
	}))
	t.Cleanup(app.Close)
	return strings.TrimPrefix(app.URL, "http://")
}

// respDenyExchange sends each request on its own connection and returns
// the response's bytes without the backend's Date line, and whether the
// connection stayed open.
func respDenyExchange(t *testing.T, addr string) []string {
	var out []string
	for _, raw := range respDenyRequests {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, raw)
		var got bytes.Buffer
		br := bufio.NewReader(io.TeeReader(c, &got))
		resp, err := http.ReadResponse(br, &http.Request{Method: strings.Fields(raw)[0]})
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, err = c.Read(make([]byte, 1))
		kept := err != nil && strings.Contains(err.Error(), "timeout")
		c.Close()
		// Header names compared in lower case: varde relays a server's
		// names as written, HAProxy lower-cases them (not what is tested).
		head, body, _ := strings.Cut(got.String(), "\r\n\r\n")
		var lines []string
		for _, l := range strings.Split(head, "\r\n") {
			if name, val, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, "HTTP/") {
				l = strings.ToLower(name) + ":" + val
			}
			if !strings.HasPrefix(l, "date:") {
				lines = append(lines, l)
			}
		}
		lines = append(lines, "", body)
		out = append(out, fmt.Sprintf("%s\n--- kept=%v", strings.Join(lines, "\r\n"), kept))
	}
	return out
}

// respDenyStats reads dresp and the response classes of the frontend,
// backend and server rows of `show stat`.
func respDenyStats(t *testing.T, sock string) map[string]string {
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "show stat\n")
	b, _ := io.ReadAll(c)
	lines := strings.Split(string(b), "\n")
	header := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	out := map[string]string{}
	for _, l := range lines[1:] {
		cells := strings.Split(l, ",")
		if len(cells) < len(header) {
			continue
		}
		for i, h := range header {
			switch h {
			case "dresp", "hrsp_2xx", "hrsp_4xx", "hrsp_5xx":
				out[cells[0]+"/"+cells[1]+" "+h] = cells[i]
			}
		}
	}
	return out
}

func respDenyLogs(logPath string, n int) []string {
	var lines []string
	for i := 0; i < 100; i++ {
		b, _ := os.ReadFile(logPath)
		lines = lines[:0]
		for _, l := range strings.Split(string(b), "\n") {
			// WaitListening's probe: HAProxy logs <BADREQ>, varde "-"
			if i := strings.Index(l, "LOG "); i >= 0 && !strings.Contains(l, "<NOSRV>") {
				lines = append(lines, l[i:])
			}
		}
		if len(lines) >= n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	sort.Strings(lines)
	return lines
}

// TestResponseDenyReturnAgainstHAProxy runs http-response deny/return in
// HAProxy 2.6 and a varde process on the same configuration and backend and
// compares what the client got, the logged status and termination state,
// and show stat's dresp and response classes.
func TestResponseDenyReturnAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	dir := t.TempDir()
	addr := respDenyBackend(t)
	type result struct {
		answers, logs []string
		stats         map[string]string
	}
	got := map[string]result{}
	for _, server := range []string{"haproxy", "varde"} {
		port := testenv.FreePort(t)
		sock := filepath.Join(dir, server+".sock")
		cfg := filepath.Join(dir, server+".cfg")
		r := strings.NewReplacer("{{SOCK}}", sock, "{{PORT}}", fmt.Sprint(port), "{{ADDR}}", addr)
		os.WriteFile(cfg, []byte(r.Replace(respDenyConfig)), 0o644)
		var log string
		if server == "haproxy" {
			_, log = testenv.Start(t, haproxy, "-db", "-f", cfg)
		} else {
			_, log = testenv.Start(t, testenv.VardeBinary(t), "run", "-f", cfg)
		}
		testenv.WaitListening(t, server, log, port)
		answers := respDenyExchange(t, fmt.Sprintf("127.0.0.1:%d", port))
		logs := respDenyLogs(log, len(respDenyRequests))
		time.Sleep(100 * time.Millisecond)
		got[server] = result{answers, logs, respDenyStats(t, sock)}
	}
	h, v := got["haproxy"], got["varde"]
	for i, raw := range respDenyRequests {
		if d := cmp.Diff(h.answers[i], v.answers[i]); d != "" {
			t.Errorf("%q: answers differ (-haproxy +varde)\n%s", raw, d)
		}
	}
	if d := cmp.Diff(h.logs, v.logs); d != "" {
		t.Errorf("log lines differ (-haproxy +varde)\n%s", d)
	}
	if d := cmp.Diff(h.stats, v.stats); d != "" {
		t.Errorf("show stat differs (-haproxy +varde)\n%s", d)
	}
	if h.stats["fe/FRONTEND dresp"] == "0" || len(h.logs) != len(respDenyRequests) {
		t.Fatalf("haproxy denied nothing or logged %d lines: the test compares little\n%v\n%v", len(h.logs), h.stats, h.logs)
	}
}
