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

// set-log-level raises a line to a level a target limited to notice
// admits (with that severity in the syslog header), silent drops it, and
// info lines stay out of that target, as in HAProxy 2.6.
func TestSetLogLevelMatchesHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/resp" {
			w.Header().Set("X-Lvl", "warn")
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	paths := []string{"/info", "/err", "/silent", "/resp", "/silent-then-err"}
	run := func(bin string, args ...string) []string {
		port := testenv.FreePort(t)
		cfg := filepath.Join(dir, fmt.Sprintf("%d.cfg", port))
		os.WriteFile(cfg, []byte(fmt.Sprintf(`global
    log stdout format short local0 notice
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    log-format "MARK|%%HP|%%ST|"
    http-request set-log-level err if { path /err }
    http-request set-log-level silent if { path_beg /silent }
    http-request set-log-level crit if { path /silent-then-err }
    http-response set-log-level warning if { res.hdr(x-lvl) -m found }
    default_backend app
backend app
    server s1 %s
`, port, ln.Addr())), 0o644)
		_, out := testenv.Start(t, bin, append(args, "-f", cfg)...)
		testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
		for _, p := range paths {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, p))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		var lines []string
		testenv.Until(5*time.Second, 20*time.Millisecond, func() error {
			b, _ := os.ReadFile(out)
			lines = nil
			for _, l := range strings.Split(string(b), "\n") {
				if strings.Contains(l, "MARK|") {
					lines = append(lines, strings.TrimSpace(l))
				}
			}
			if len(lines) < 3 {
				return fmt.Errorf("%d lines", len(lines))
			}
			return nil
		})
		time.Sleep(200 * time.Millisecond) // a line that should not come
		return lines
	}
	want := run(haproxy, "-db")
	got := run(varde, "run")
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(want) != 3 || want[1] != "<4>MARK|/resp|200|" || want[0] != "<3>MARK|/err|200|" {
		t.Errorf("varde:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
