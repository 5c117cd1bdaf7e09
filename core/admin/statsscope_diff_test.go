package admin_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// scopeConfig has three stats pages with different `stats scope` lists
// ("." = the page's own proxy, names, one in defaults) over two backends.
func scopeConfig(ports []int, web string) string {
	return fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend www
    bind 127.0.0.1:%d
    default_backend app
backend app
    server a1 %s
backend other
    server o1 %s
listen selfonly
    bind 127.0.0.1:%d
    stats enable
    stats uri /st
    stats scope .
listen named
    bind 127.0.0.1:%d
    stats enable
    stats uri /st
    stats scope app
    stats scope www
listen all
    bind 127.0.0.1:%d
    stats enable
    stats uri /st
`, ports[0], web, web, ports[1], ports[2], ports[3])
}

// csvRows returns the sorted "pxname,svname" of a stats page's ;csv.
func csvRows(t *testing.T, url string) []string {
	t.Helper()
	var body string
	err := testenv.Until(10*time.Second, 20*time.Millisecond, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: %d", url, resp.StatusCode)
		}
		body = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		f := strings.SplitN(l, ",", 3)
		rows = append(rows, f[0]+","+f[1])
	}
	sort.Strings(rows)
	return rows
}

func TestStatsScopeDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	web := newBackend(t, "web")
	dir := t.TempDir()
	got := map[string]map[string][]string{}
	for _, name := range []string{"haproxy", "varde"} {
		ports := testenv.FreePorts(t, 4)
		cfg := filepath.Join(dir, name+".cfg")
		if err := os.WriteFile(cfg, []byte(scopeConfig(ports, web.addr())), 0o644); err != nil {
			t.Fatal(err)
		}
		if name == "haproxy" {
			testenv.Start(t, hap, "-db", "-f", cfg)
		} else {
			testenv.Start(t, bin, "run", "-f", cfg)
		}
		got[name] = map[string][]string{}
		for i, page := range []string{"selfonly", "named", "all"} {
			url := fmt.Sprintf("http://127.0.0.1:%d/st;csv", ports[i+1])
			testenv.WaitTCP(t, strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/st;csv"), 10*time.Second)
			got[name][page] = csvRows(t, url)
		}
	}
	want := map[string]string{ // what HAProxy 2.6 shows, pinned too
		"selfonly": "selfonly,BACKEND selfonly,FRONTEND",
		"named":    "app,BACKEND app,a1 www,FRONTEND",
	}
	for _, page := range []string{"selfonly", "named", "all"} {
		h, v := strings.Join(got["haproxy"][page], " "), strings.Join(got["varde"][page], " ")
		if h != v {
			t.Errorf("page %s: haproxy %q, varde %q", page, h, v)
		}
		if w, ok := want[page]; ok && v != w {
			t.Errorf("page %s: varde %q, want %q", page, v, w)
		}
	}
	if len(got["varde"]["all"]) <= len(got["varde"]["named"]) {
		t.Errorf("unscoped page shows %v", got["varde"]["all"])
	}
}
