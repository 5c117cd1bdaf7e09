package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const serverRedirConfig = `%sdefaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    http-after-response set-header X-After yes
    use_backend keep if { path_beg /keep }
    default_backend be
backend be
    http-request set-path /moved%%[path] if { path_beg /rw }
    server s1 %s redir http://static.example.com
backend keep
    server s2 %s redir /
`

// redirExchange sends raw on a new connection and returns the status
// line, the headers compared, the body and whether the connection was
// closed after the response.
func redirExchange(t *testing.T, addr, raw string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, raw)
	br := bufio.NewReader(c)
	req := &http.Request{Method: strings.Fields(raw)[0]}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, rerr := br.ReadByte()
	closed := rerr == io.EOF
	h := resp.Header
	return fmt.Sprintf("%s loc=%q cc=%q conn=%q cl=%q after=%q body=%q closed=%v", resp.Status, h.Get("Location"), h.Get("Cache-Control"),
		h.Get("Connection"), h.Get("Content-Length"), h.Get("X-After"), b, closed)
}

// TestServerRedirDifferential: `server ... redir PREFIX` answers GET and
// HEAD with HAProxy's 302 (prefix + path and query, rewritten path
// included, "/" keeping the path) and closes; other methods reach the
// server.
func TestServerRedirDifferential(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "from server "+r.Method+" "+r.URL.RequestURI())
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	reqs := []string{
		"GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: h\r\n\r\n",
		"HEAD /head HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /old HTTP/1.0\r\n\r\n",
		"GET http://other.example/abs?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n",
		"GET /rw/x HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /keep/it?z HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
		"PUT /keep/up HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"get /lower HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	}
	run := func(a string) ([]string, int32) {
		before := hits.Load()
		var out []string
		for _, r := range reqs {
			out = append(out, redirExchange(t, a, r))
		}
		return out, hits.Load() - before
	}
	haddr, _ := startHAProxyStick(t, func(port int, sock string) string {
		return fmt.Sprintf(serverRedirConfig, "", port, addr, addr)
	})
	h, hHits := run(haddr)
	cfg := loadProxyConfig(t, fmt.Sprintf(serverRedirConfig, "", 1, addr, addr))
	cfg.Frontends[0].Binds = nil
	_, vaddr := startEngine(t, cfg)
	v, vHits := run(vaddr)
	for i := range reqs {
		if h[i] != v[i] {
			t.Errorf("%q:\nhaproxy %s\nvarde   %s", strings.SplitN(reqs[i], "\r\n", 2)[0], h[i], v[i])
		}
	}
	t.Logf("haproxy: %q", h)
	if hHits != vHits || vHits != 3 {
		t.Errorf("requests reaching the server: haproxy %d, varde %d, want 3", hHits, vHits)
	}
	if !strings.Contains(v[0], `loc="http://static.example.com/a/b?x=1&y=2"`) {
		t.Errorf("varde first answer %s", v[0])
	}
}
