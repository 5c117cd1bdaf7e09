package logpipe_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// varsFormat holds the variables and flags added for HAProxy 2.6 parity
// whose value does not depend on timing; each field ends with '|'.
const varsFormat = `MARK|%HPO|%HQ|%ID|%{+Q}ID|%{+X}ci|%{+E}HQ|%lc|%{+X}lc|%{+E,+Q}HU|%{+X}fp|`

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
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Resp", "one")
		w.Header().Add("X-Resp", "two")
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
		cfg := filepath.Join(dir, fmt.Sprintf("%d.cfg", port))
		os.WriteFile(cfg, []byte(fmt.Sprintf(`global
    log stdout format raw local0
defaults
    mode http
    log global
    option dontlognull
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    log-format "%s"
%s    default_backend app
backend app
    server web1 %s
`, port, format, extra, ln.Addr())), 0o644)
		_, out := testenv.Start(t, bin, append(args, "-f", cfg)...)
		testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
		for _, p := range paths {
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, p), nil)
			for k, v := range hdr {
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
			if len(lines) < len(paths) {
				return fmt.Errorf("%d of %d lines", len(lines), len(paths))
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
