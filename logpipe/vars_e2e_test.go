package logpipe_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// varsFormat holds the variables and flags added for HAProxy 2.6 parity
// whose value does not depend on timing; each field ends with '|'.
const varsFormat = `MARK|%HPO|%HQ|%ID|%{+Q}ID|%{+X}ci|%{+E}HQ|%lc|%{+X}lc|%{+E,+Q}HU|%{+X}fp|%rt|%{+X}rt|`

func TestLogFormatVariablesMatchHAProxy(t *testing.T) {
	got, want := formatBoth(t, varsFormat, "", []string{"/a/b.html?x=1&y=%5B2%5D%5C", "/plain", "/q?only"}, nil)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("varde:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A header sent twice is captured with its last value, in both directions.
func TestRepeatedHeaderCapturesLastValue(t *testing.T) {
	hdr := http.Header{}
	hdr.Add("X-Test", "first")
	hdr.Add("X-Test", "second")
	got, want := formatBoth(t, "MARK|%hr|%hs|", "    capture request header X-Test len 32\n    capture response header X-Resp len 32\n",
		[]string{"/"}, hdr)
	if len(want) != 1 || want[0] != "MARK|{second}|{two}|" || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("varde %q, haproxy %q", got, want)
	}
}

// formatBoth runs HAProxy and varde with one log-format (fields split by
// '|', the 11th, when present, being the frontend port), sends the paths
// with the extra request headers, and returns the lines each logged.
func formatBoth(t *testing.T, format, extra string, paths []string, hdr http.Header) (got, want []string) {
	var reqs []logReq
	for _, p := range paths {
		reqs = append(reqs, logReq{path: p, hdr: hdr})
	}
	return logBoth(t, func(port int, srv string) string {
		return fmt.Sprintf(`frontend fe
    bind 127.0.0.1:%d
    log-format "%s"
%s    default_backend app
backend app
    server web1 %s
`, port, format, extra, srv)
	}, reqs)
}

type logReq struct {
	path string
	hdr  http.Header
}

// logBoth runs HAProxy and varde on the same proxies (cfg gets the
// frontend port and the address of a test server, which answers with two
// X-Resp lines, and sets the cookie SRV under /setck), logging to stdout
// with dontlognull, sends reqs in order, and returns the lines holding
// "MARK|" each logged.
func logBoth(t *testing.T, cfg func(port int, srv string) string, reqs []logReq) (got, want []string) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Resp", "one")
		w.Header().Add("X-Resp", "two")
		if strings.Contains(r.URL.Path, "/setck") {
			w.Header().Add("Set-Cookie", "SRV=fromserver; path=/")
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	ports := testenv.FreePorts(t, 2)
	dir := t.TempDir()
	run := func(bin string, port int, args ...string) []string {
		path := filepath.Join(dir, fmt.Sprintf("%d.cfg", port))
		os.WriteFile(path, []byte(`global
    log stdout format raw local0
defaults
    mode http
    log global
    option dontlognull
    timeout connect 1s
    timeout client 5s
    timeout server 5s
`+cfg(port, ln.Addr().String())), 0o644)
		_, out := testenv.Start(t, bin, append(args, "-f", path)...)
		testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
		time.Sleep(300 * time.Millisecond) // first health checks
		for _, rq := range reqs {
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, rq.path), nil)
			for k, v := range rq.hdr {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		var lines []string
		err := testenv.Until(10*time.Second, 20*time.Millisecond, func() error {
			b, _ := os.ReadFile(out)
			lines = nil
			for _, l := range strings.Split(string(b), "\n") {
				if i := strings.Index(l, "MARK|"); i >= 0 {
					// The frontend port differs between the two runs.
					f := strings.Split(l[i:], "|")
					if len(f) > 10 {
						f[10] = "PORT"
					}
					lines = append(lines, strings.Join(f, "|"))
				}
			}
			if len(lines) < len(reqs) {
				return fmt.Errorf("%d of %d lines", len(lines), len(reqs))
			}
			return nil
		})
		if err != nil {
			b, _ := os.ReadFile(out)
			t.Fatalf("%s: %v\n%s", bin, err, b)
		}
		return lines
	}
	want = run(haproxy, ports[0], "-db")
	got = run(varde, ports[1], "run")
	return got, want
}

// The cookie characters of the termination state, for insert, rewrite
// and passive persistence, valid, unknown and down servers' cookies.
func TestCookieTerminationStateMatchesHAProxy(t *testing.T) {
	dead := testenv.FreePorts(t, 1)[0]
	ck := func(v string) http.Header { return http.Header{"Cookie": {"SRV=" + v}} }
	reqs := []logReq{
		{"/a", nil}, {"/b", ck("s1")}, {"/c", ck("nosuch")}, {"/d", ck("s3")}, {"/setck", nil}, {"/setck", ck("s1")},
		{"/rw/setck", nil}, {"/rw/x", ck("r1")}, {"/ps/setck", nil}, {"/ps/x", ck("p1")}, {"/none", ck("s1")},
		{"/px/setck", nil}, {"/px/x", ck("x1~abc")}, {"/px/y", ck("x1")},
	}
	got, want := logBoth(t, func(port int, srv string) string {
		return fmt.Sprintf(`frontend fe
    bind 127.0.0.1:%[1]d
    log-format "MARK|%%tsc|%%HP|%%b|%%ST|"
    use_backend rw if { path_beg /rw }
    use_backend ps if { path_beg /ps }
    use_backend none if { path_beg /none }
    use_backend px if { path_beg /px }
    default_backend ins
backend ins
    cookie SRV insert indirect nocache
    server s1 %[2]s cookie s1
    server s3 127.0.0.1:%[3]d cookie s3 check inter 100
backend rw
    cookie SRV rewrite
    server r1 %[2]s cookie r1
backend ps
    cookie SRV
    server p1 %[2]s cookie p1
backend none
    server n1 %[2]s
backend px
    cookie SRV prefix
    server x1 %[2]s cookie x1
`, port, srv, dead)
	}, reqs)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("varde:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// (%ST: with only early variables HAProxy 2.6 logs a request twice,
	// once before the backend is known; varde does not copy that.)
	for _, w := range []string{"MARK|--NI|/a|ins|200|", "MARK|--VN|/b|ins|200|", "MARK|--II|/c|ins|200|", "MARK|--DI|/d|ins|200|",
		"MARK|--NR|/rw/setck|rw|200|", "MARK|----|/none|none|200|"} {
		if !strings.Contains(strings.Join(want, "\n"), w) {
			t.Errorf("HAProxy did not log %s:\n%s", w, strings.Join(want, "\n"))
		}
	}
}

// A client that connects and leaves, with nothing sent or half a request:
// without dontlognull both proxies log a CR-- <BADREQ> with status 400;
// with it, the silent connection is left out.
func TestAbandonedRequestsMatchHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	dir := t.TempDir()
	run := func(bin string, dontlognull bool, args ...string) []string {
		port := testenv.FreePort(t)
		opt := ""
		if dontlognull {
			opt = "    option dontlognull\n"
		}
		cfg := filepath.Join(dir, fmt.Sprintf("%d.cfg", port))
		os.WriteFile(cfg, []byte(fmt.Sprintf(`global
    log stdout format raw local0
defaults
    mode http
    log global
%s    log-format "MARK|%%ST|%%B|%%tsc|%%r|%%s|%%rt|"
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    default_backend app
backend app
    server web1 127.0.0.1:9
`, opt, port)), 0o644)
		_, out := testenv.Start(t, bin, append(args, "-f", cfg)...)
		testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second) // itself a silent connection
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET / HT"))
		c.Close()
		time.Sleep(100 * time.Millisecond)
		if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/after", port)); err == nil {
			resp.Body.Close()
		}
		time.Sleep(400 * time.Millisecond)
		b, _ := os.ReadFile(out)
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if i := strings.Index(l, "MARK|"); i >= 0 {
				lines = append(lines, l[i:])
			}
		}
		return lines
	}
	for _, dln := range []bool{false, true} {
		want := run(haproxy, dln, "-db")
		got := run(varde, dln, "run")
		// The two abandoned connections end at nearly the same moment, and
		// %rt numbers transactions as they start in HAProxy, as they end in
		// varde (docs/logging.md): the lines are compared as a set.
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(want, "\n") || len(want) == 0 {
			t.Errorf("dontlognull %v:\nvarde:\n%s\nhaproxy:\n%s", dln, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
