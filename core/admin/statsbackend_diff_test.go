package admin_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// backendStatsConfig declares stats pages in backends, reached through a
// frontend's use_backend (the shape of real configurations: an ACL on the
// path), one guarded by a backend http-request deny.
func backendStatsConfig(port int, web string) string {
	return fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend http
    bind 127.0.0.1:%d
    acl stats_path path_beg /stats
    acl guarded_path path_beg /guarded
    use_backend stats if stats_path
    use_backend guarded if guarded_path
    default_backend application
backend application
    server a1 %s
backend stats
    stats enable
    stats uri /stats
backend guarded
    http-request deny
    stats enable
    stats uri /guarded
`, port, web)
}

// TestBackendStatsDifferential: a stats page declared in a backend is
// served when a request reaches that backend, as HAProxy 2.6 serves it:
// same status and content type, the page and ;csv list every proxy, the
// backend's http-request rules run first, and other paths reach servers.
func TestBackendStatsDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	web := newBackend(t, "web")
	dir := t.TempDir()
	type answer struct {
		code  int
		ctype string
		body  string
	}
	paths := []string{"/stats", "/stats;csv", "/guarded", "/other", "PUT /stats"}
	got := map[string][]answer{}
	for _, name := range []string{"haproxy", "varde"} {
		port := testenv.FreePorts(t, 1)[0]
		cfg := filepath.Join(dir, name+".cfg")
		if err := os.WriteFile(cfg, []byte(backendStatsConfig(port, web.addr())), 0o644); err != nil {
			t.Fatal(err)
		}
		if name == "haproxy" {
			testenv.Start(t, hap, "-db", "-f", cfg)
		} else {
			testenv.Start(t, bin, "run", "-f", cfg)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		testenv.WaitTCP(t, addr, 10*time.Second)
		for _, p := range paths {
			method, path, ok := strings.Cut(p, " ")
			if !ok {
				method, path = "GET", p
			}
			code, ctype, body := doBody(t, method, "http://"+addr+path)
			ctype, _, _ = strings.Cut(ctype, ";")
			got[name] = append(got[name], answer{code, ctype, body})
		}
	}
	for i, p := range paths {
		h, v := got["haproxy"][i], got["varde"][i]
		if h.code != v.code || h.ctype != v.ctype {
			t.Errorf("%s: haproxy %d %q, varde %d %q", p, h.code, h.ctype, v.code, v.ctype)
		}
	}
	// A PUT is not a stats request (HAProxy: GET, HEAD and POST only): it
	// goes to the backend, which has no server.
	want := []answer{{200, "text/html", ""}, {200, "text/plain", ""}, {403, "text/html", ""}, {200, "text/plain", "web"}, {503, "text/html", ""}}
	for i, p := range paths {
		if v := got["varde"][i]; v.code != want[i].code || v.ctype != want[i].ctype || !strings.Contains(v.body, want[i].body) {
			t.Errorf("%s: varde %d %q %.80q, want %d %q %q", p, v.code, v.ctype, v.body, want[i].code, want[i].ctype, want[i].body)
		}
	}
	for _, name := range []string{"haproxy", "varde"} {
		page, csv := got[name][0].body, got[name][1].body
		for _, px := range []string{"http", "application", "stats", "guarded"} {
			if !strings.Contains(page, px) {
				t.Errorf("%s: page does not list %s", name, px)
			}
			if !strings.Contains(csv, "\n"+px+",") {
				t.Errorf("%s: ;csv has no row of %s", name, px)
			}
		}
	}
	if h, v := csvRowsOf(got["haproxy"][1].body), csvRowsOf(got["varde"][1].body); h != v {
		t.Errorf(";csv rows: haproxy %q, varde %q", h, v)
	}
}

// doBody sends one request and returns the status, content type and body.
func doBody(t *testing.T, method, url string) (int, string, string) {
	t.Helper()
	if method == "GET" {
		return getBody(t, url)
	}
	req, err := http.NewRequest(method, url, strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// csvRowsOf is the "pxname,svname" of each row of a ;csv body.
func csvRowsOf(body string) string {
	var rows []string
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.SplitN(l, ",", 3)
		if len(f) >= 2 {
			rows = append(rows, f[0]+","+f[1])
		}
	}
	return strings.Join(rows, " ")
}
