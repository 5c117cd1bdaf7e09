package admin_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

func showConfig(ports []int, web string) string {
	return fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend www
    bind 127.0.0.1:%d
    default_backend app
backend app
    cookie SRV insert
    server a1 %s cookie c1
listen st
    bind 127.0.0.1:%d
    stats enable
    stats uri /st
    stats show-node lb1
    stats show-desc primary load balancer
    stats show-legends
    stats show-modules
`, ports[0], web, ports[1])
}

// showTexts are the parts of a stats page that `stats show-*` add, in a
// form both pages share once HTML entities are decoded.
var showTexts = []*regexp.Regexp{
	regexp.MustCompile(`Statistics Report for pid [0-9]+ on lb1: primary load balancer`),
	regexp.MustCompile(`cap: [a-z]+, mode: [a-z]+, id: [0-9]+`),
	regexp.MustCompile(`balancing: [a-z]+(, cookie: '[A-Z]+')?`),
	regexp.MustCompile(`IPv4: [0-9.:]+, id: [0-9]+, cookie: '[a-z0-9]+'`),
	regexp.MustCompile(`Extra modules`),
	regexp.MustCompile(`<th>ssl</th>`),
	regexp.MustCompile(`Total number of ssl sessions established`),
}

func getBody(t *testing.T, url string) (int, string, string) {
	t.Helper()
	var code int
	var ctype, body string
	err := testenv.Until(10*time.Second, 20*time.Millisecond, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		code, ctype, body = resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return code, ctype, body
}

// TestStatsShowDifferential: HAProxy 2.6 and varde show the same node and
// description line, the same legends and the ssl module on a page with
// every `stats show-*` option.
func TestStatsShowDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	web := newBackend(t, "web")
	dir := t.TempDir()
	got := map[string][]string{}
	for _, name := range []string{"haproxy", "varde"} {
		ports := testenv.FreePorts(t, 2)
		cfg := filepath.Join(dir, name+".cfg")
		if err := os.WriteFile(cfg, []byte(showConfig(ports, web.addr())), 0o644); err != nil {
			t.Fatal(err)
		}
		if name == "haproxy" {
			testenv.Start(t, hap, "-db", "-f", cfg)
		} else {
			testenv.Start(t, bin, "run", "-f", cfg)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", ports[1])
		testenv.WaitTCP(t, addr, 10*time.Second)
		_, _, body := getBody(t, "http://"+addr+"/st")
		body = html.UnescapeString(body)
		for _, re := range showTexts {
			all := re.FindAllString(body, -1)
			if len(all) == 0 {
				t.Errorf("%s: page lacks %s", name, re)
			}
			sort.Strings(all) // every occurrence: the counts must agree too
			got[name] = append(got[name], strings.Join(all, "|"))
		}
	}
	t.Logf("haproxy %q\nvarde %q", got["haproxy"], got["varde"])
	for i, re := range showTexts {
		if i == 0 { // the pids differ
			continue
		}
		if h, v := got["haproxy"][i], got["varde"][i]; h != v {
			t.Errorf("%s: haproxy %q, varde %q", re, h, v)
		}
	}
}
