package proxy

import (
	"bufio"
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

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

const tcpHTTPConfig = `defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:{{PORT}}
    tcp-request inspect-delay 2s
    tcp-request content reject if !HTTP
    tcp-request content accept if HTTP
    use_backend hp if { path_beg /p }
    default_backend hb
backend hb
    mode http
    server s1 {{S1}}
backend hp
    mode http
    http-request set-path /routed
    server s1 {{S1}}
`

// TestTCPContentHTTPDifferential: HTTP fetches in a mode tcp frontend's
// content rules (`accept if HTTP`, the usual idiom before an http
// backend) read the client's bytes as an HTTP/1 head and wait within the
// inspect-delay for a whole one, as in HAProxy 2.6: a request sent in two
// parts passes, bytes that are not HTTP are rejected.
func TestTCPContentHTTPDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	}))
	t.Cleanup(origin.Close)
	cases := [][]string{
		{"GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"GE", "T /p HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"hello there\r\n\r\n"},
	}
	run := func(bin string, args ...string) []string {
		port := testenv.FreePort(t)
		cfg := filepath.Join(t.TempDir(), "p.cfg")
		text := strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{S1}}", strings.TrimPrefix(origin.URL, "http://")).Replace(tcpHTTPConfig)
		os.WriteFile(cfg, []byte(text), 0o644)
		_, out := testenv.Start(t, bin, append(args, "-f", cfg)...)
		testenv.WaitListening(t, bin, out, port)
		var got []string
		for _, parts := range cases {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			for i, p := range parts {
				if i > 0 {
					time.Sleep(200 * time.Millisecond) // the rules wait for the rest
				}
				io.WriteString(c, p)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				got = append(got, "closed")
			} else {
				b, _ := io.ReadAll(resp.Body)
				got = append(got, fmt.Sprintf("%d %s", resp.StatusCode, b))
			}
			c.Close()
		}
		return got
	}
	hOut := run(haproxy, "-db")
	vOut := run(testenv.VardeBinary(t), "run")
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Fatalf("clients saw different answers (-haproxy +varde)\n%s", d)
	}
	if d := cmp.Diff([]string{"200 /a", "200 /routed", "closed"}, vOut); d != "" {
		t.Fatalf("varde (-want +got)\n%s", d)
	}
}
