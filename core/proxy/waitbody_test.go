package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

const waitBodyConfig = `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout http-request 5s
frontend fe
    bind 127.0.0.1:{{PORT}}
    http-request wait-for-body time 1s at-least 5 if { path /least }
    http-request wait-for-body time 1s if { path_beg /w }
    http-request set-header X-Len %[req.body_len]
    http-request set-header X-A %[req.body_param(a)]
    http-request set-header X-Body %[req.body]
    default_backend app
frontend fb
    bind 127.0.0.1:{{PORT2}}
    option http-buffer-request
    http-request set-header X-Len %[req.body_len]
    http-request set-header X-B %[req.body_param(b)]
    default_backend app
backend app
    server s1 {{BACKEND}}
`

// A client script: parts written with a pause before each but the first.
type bodyCase struct {
	name  string
	fb    bool // to the http-buffer-request frontend
	parts []string
}

var waitBodyCases = []bodyCase{
	{"content-length in two parts", false, []string{"POST /w HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\na=1", "&b=two"}},
	{"chunked in pieces", false, []string{"POST /w HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na=12\r\n", "5\r\n&b=xy\r\n", "0\r\n\r\n"}},
	{"at-least stops early", false, []string{"POST /least HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\na=5678", "&b=zzzz"}},
	{"timeout answers 408", false, []string{"POST /w HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"}},
	{"no wait: the rules see what came with the head", false, []string{"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n", "a=1&b=two"}},
	{"no body", false, []string{"GET /w HTTP/1.1\r\nHost: h\r\n\r\n"}},
	{"option http-buffer-request", true, []string{"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\na=1", "&b=two"}},
}

// TestWaitForBodyDifferentialHAProxy: what the rules after
// http-request wait-for-body (or with option http-buffer-request) see of
// the body, and the 408 of a body that does not come, in HAProxy 2.6 and
// varde.
func TestWaitForBodyDifferentialHAProxy(t *testing.T) {
	testenv.LookTool(t, "haproxy", "haproxy") // skip early without HAProxy
	b, _ := backend(t, "echo", echoXHeaders)
	render := func(ports []int) string {
		return strings.NewReplacer("{{PORT}}", fmt.Sprint(ports[0]), "{{PORT2}}", fmt.Sprint(ports[1]), "{{BACKEND}}", hostport(b)).Replace(waitBodyConfig)
	}
	run := func(ports []int) []string {
		var out []string
		for _, tc := range waitBodyCases {
			port := ports[0]
			if tc.fb {
				port = ports[1]
			}
			out = append(out, tc.name+": "+sendBodyCase(t, fmt.Sprintf("127.0.0.1:%d", port), tc.parts))
		}
		return out
	}
	hports := testenv.FreePorts(t, 2)
	startHAProxyText(t, render(hports))
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", hports[1]), 10*time.Second)
	hOut := run(hports)

	vports := testenv.FreePorts(t, 2)
	startVardeText(t, render(vports), vports[0])
	vOut := run(vports)
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("answers differ (-haproxy +varde)\n%s", d)
	}
	all := strings.Join(vOut, "\n")
	t.Logf("%s", all)
	for _, want := range []string{"X-A: 1\nX-Body: a=1&b=two\nX-Len: 9", "X-A: 12\nX-Body: a=12&b=xy\nX-Len: 9", "X-Len: 6", "408", "X-B: two\nX-Len: 9"} {
		if !strings.Contains(all, want) {
			t.Errorf("varde: missing %q in:\n%s", want, all)
		}
	}
}

// sendBodyCase writes the parts 200ms apart and returns the status and
// the X- headers the backend echoed (or how the connection ended).
func sendBodyCase(t *testing.T, addr string, parts []string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(4 * time.Second))
	go func() {
		for i, p := range parts {
			if i > 0 {
				time.Sleep(200 * time.Millisecond)
			}
			io.WriteString(c, p)
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "error " + err.Error()
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Sprint(resp.StatusCode)
	}
	return fmt.Sprintf("%d\n%s", resp.StatusCode, body)
}
