package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestResponseDenyReturnEngine: http-response deny/return in the engine
// (cmd/varde TestResponseDenyReturnAgainstHAProxy compares the same with
// HAProxy): the replacement's status and body, the connection kept, and
// dresp counted only for deny. Runs under -race.
func TestResponseDenyReturnEngine(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.WriteHeader(404)
		}
		io.WriteString(w, "server body")
	}))
	defer app.Close()
	text := `defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
frontend fe
    bind 127.0.0.1:1
    http-request set-var(txn.p) path
    http-response deny if { status 404 }
    http-response return status 201 content-type text/plain lf-string "ret %[var(txn.p)]" if { var(txn.p) -m str /ret }
    default_backend be
backend be
    server s ` + strings.TrimPrefix(app.URL, "http://") + "\n"
	pcfg := engineConfigText(t, "f.cfg", text)
	e, addr := startEngine(t, pcfg)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	for _, tc := range []struct {
		path   string
		status int
		body   string
		dresp  uint64
	}{
		{"/ok", 200, "server body", 0},
		{"/missing", 502, "The server returned an invalid or incomplete response", 1},
		{"/ret", 201, "ret /ret", 1},
		{"/ok", 200, "server body", 1}, // the same connection after both
	} {
		io.WriteString(conn, "GET "+tc.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.body) || resp.Close {
			t.Errorf("%s: %d close=%v %q, want %d %q kept", tc.path, resp.StatusCode, resp.Close, b, tc.status, tc.body)
		}
		if got := e.frontends[0].Meters.DeniedResp.Load(); got != tc.dresp {
			t.Errorf("%s: frontend dresp %d, want %d", tc.path, got, tc.dresp)
		}
	}
}
