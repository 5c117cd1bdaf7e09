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
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/testenv"
	_ "github.com/varde-lb/varde/plugins/all"
)

// diffConfig is the haproxy.cfg both proxies run: ACL routing, roundrobin,
// leastconn, uri and source hashing, forwardfor, header rules, deny,
// redirect and a dead backend (503 after retries).
const diffConfig = `global
    maxconn 1000

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    option forwardfor

frontend web
    bind 127.0.0.1:{{PORT}}
    acl is_api path_beg /api
    acl is_static hdr(host) -i static.example
    acl is_admin path_beg /admin
    acl old path /old
    acl is_dead path_beg /dead
    acl is_lc path_beg /lc
    http-request deny deny_status 403 if is_admin
    http-request redirect location /new code 301 if old
    http-request set-header X-Test routed
    http-request del-header X-Remove
    http-response set-header X-Proxy yes
    use_backend api if is_api
    use_backend static if is_static
    use_backend dead if is_dead
    use_backend lc if is_lc
    default_backend app

backend app
    balance roundrobin
    server a1 {{A1}}
    server a2 {{A2}}
    server a3 {{A3}}

backend api
    balance uri
    http-request add-header X-Api 1
    server p1 {{P1}}
    server p2 {{P2}}

backend static
    balance source
    option forwardfor header X-Client
    server s1 {{S1}}
    server s2 {{S2}}

backend lc
    balance leastconn
    server l1 {{L1}}
    server l2 {{L2}}
    server l3 {{L3}}

backend dead
    retries 1
    server d1 {{DEAD}}
`

// hit is what one backend server saw.
type hit struct {
	Server  string
	URI     string
	Headers map[string]string
}

type diffRecorder struct {
	mu   sync.Mutex
	hits []hit
}

func (d *diffRecorder) take() []hit {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.hits
	d.hits = nil
	return h
}

// diffHeaders are compared between the two proxies. X-Drop (named in
// Connection) is not: RFC 9110 7.6.1 makes it hop-by-hop and varde removes
// it, while HAProxy 2.6 forwards it; TestRoundRobinKeepAliveAndHeaders
// covers varde's side.
var diffHeaders = []string{"X-Forwarded-For", "X-Client", "X-Test", "X-Api", "X-Remove", "Keep-Alive", "Host"}

func startDiffBackends(t *testing.T, rec *diffRecorder) map[string]string {
	addrs := map[string]string{}
	for _, name := range []string{"A1", "A2", "A3", "P1", "P2", "S1", "S2", "L1", "L2", "L3"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := hit{Server: name, URI: r.RequestURI, Headers: map[string]string{}}
			for _, k := range diffHeaders {
				if v := r.Header.Values(k); len(v) > 0 {
					h.Headers[k] = strings.Join(v, ",")
				}
			}
			if r.Host != "" {
				h.Headers["Host"] = r.Host
			}
			rec.mu.Lock()
			rec.hits = append(rec.hits, h)
			rec.mu.Unlock()
			io.Copy(io.Discard, r.Body)
			w.Header().Set("X-Backend", name)
			io.WriteString(w, name)
		}))
		t.Cleanup(srv.Close)
		addrs[name] = strings.TrimPrefix(srv.URL, "http://")
	}
	addrs["DEAD"] = closedPort(t)
	return addrs
}

func renderDiffConfig(port int, addrs map[string]string) string {
	s := strings.ReplaceAll(diffConfig, "{{PORT}}", fmt.Sprint(port))
	for k, v := range addrs {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s
}

// outcome is what the client saw for one request.
type outcome struct {
	Status   int
	Backend  string
	Location string
	XProxy   string
	Closed   bool
	Body     string // for answers the proxy generated itself
}

// diffRequests are sent in order on one keep-alive connection (a new one
// after each response that closes).
var diffRequests = []string{
	"GET / HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /a HTTP/1.1\r\nHost: www.example\r\nX-Remove: 1\r\n\r\n",
	"GET /b HTTP/1.1\r\nHost: www.example\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n",
	"GET /c HTTP/1.1\r\nHost: www.example\r\nConnection: X-Drop\r\nX-Drop: 1\r\n\r\n",
	"GET /api/users HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /api/orders?id=7 HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /api/users HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /api/items/42 HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /img.png HTTP/1.1\r\nHost: STATIC.example\r\n\r\n",
	"GET /css.css HTTP/1.1\r\nHost: static.example\r\n\r\n",
	"POST /form HTTP/1.1\r\nHost: www.example\r\nContent-Length: 5\r\n\r\nhello",
	"GET /d HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /old HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /admin/panel HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /lc/1 HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /lc/2 HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /lc/3 HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /lc/4 HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /dead HTTP/1.1\r\nHost: www.example\r\n\r\n",
	// Absolute-form targets (RFC 9112 3.2.2): the same Host, the default
	// port (removed from the target by both), userinfo, and an authority
	// that differs from Host (400 from both, before any ACL).
	"GET http://www.example/f HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET http://WWW.example:80/g?q=1 HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET http://www.example/h HTTP/1.1\r\nHost: www.example:80\r\n\r\n",
	"GET https://www.example:443/i HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET http://user@static.example/j HTTP/1.1\r\nHost: static.example\r\n\r\n",
	"GET http://static.example/k HTTP/1.1\r\nHost: www.example\r\n\r\n",
	"GET /e HTTP/1.0\r\n\r\n",
}

func runDiffRequests(t *testing.T, addr string, reqs []string) []outcome {
	var out []outcome
	var c net.Conn
	var br *bufio.Reader
	for _, raw := range reqs {
		if c == nil {
			var err error
			c, err = net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			br = bufio.NewReader(c)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, raw)
		method := strings.Fields(raw)[0]
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		o := outcome{Status: resp.StatusCode, Backend: resp.Header.Get("X-Backend"), Location: resp.Header.Get("Location"),
			XProxy: resp.Header.Get("X-Proxy"), Closed: resp.Close}
		if o.Backend == "" {
			o.Body = string(b)
		}
		out = append(out, o)
		if resp.Close {
			c.Close()
			c = nil
		}
	}
	if c != nil {
		c.Close()
	}
	return out
}

// TestDifferentialHAProxy sends the same requests through HAProxy and
// through varde running the same haproxy.cfg, and compares which server
// received each request, the headers it saw and what the client got.
func TestDifferentialHAProxy(t *testing.T) {
	testenv.LookTool(t, "haproxy", "haproxy") // skip early without HAProxy
	rec := &diffRecorder{}
	addrs := startDiffBackends(t, rec)

	// HAProxy.
	hport := testenv.FreePort(t)
	startHAProxyText(t, renderDiffConfig(hport, addrs))
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := runDiffRequests(t, haddr, diffRequests)
	hHits := rec.take()

	// varde, in process, from the same text.
	vport := testenv.FreePort(t)
	// startEngine also listens on an extra port; we use the configured bind.
	vaddr := startVardeText(t, renderDiffConfig(vport, addrs), vport)
	vOut := runDiffRequests(t, vaddr, diffRequests)
	vHits := rec.take()

	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("client-side outcomes differ (-haproxy +varde)\n%s", d)
	}
	// Hashing by source depends only on the client address; both see
	// 127.0.0.1, so even the chosen static server must agree.
	if d := cmp.Diff(hHits, vHits); d != "" {
		t.Errorf("what the backends received differs (-haproxy +varde)\n%s", d)
	}
	perServer := func(hs []hit) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.Server)
		}
		sort.Strings(out)
		return out
	}
	t.Logf("servers reached: %v", perServer(vHits))
}

// TestDifferentialBadInput replays the bad-input table against HAProxy
// and varde and reports where the two answer differently. varde is the
// stricter one by design (it rejects duplicate Content-Length and CL+TE
// that HAProxy normalises); the test fails only when varde accepts
// something HAProxy rejects.
func TestDifferentialBadInput(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	rec := &diffRecorder{}
	addrs := startDiffBackends(t, rec)
	dir := t.TempDir()
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hcfg, []byte(renderDiffConfig(hport, addrs)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	set, d := config.LoadFiles([]string{hcfg}, nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	pcfg.Frontends[0].Binds = nil
	_, vaddr := startEngine(t, pcfg)
	status := func(addr, raw string) int {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		io.WriteString(c, raw)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0 // closed without an answer
		}
		return resp.StatusCode
	}
	for _, tc := range httpx.BadRequests {
		h, v := status(haddr, tc.Raw), status(vaddr, tc.Raw)
		if h != v {
			t.Logf("%-28s haproxy %d, varde %d", tc.Name, h, v)
		}
		if h >= 400 && v < 400 {
			t.Errorf("%s: HAProxy rejects with %d but varde answered %d", tc.Name, h, v)
		}
	}
}
