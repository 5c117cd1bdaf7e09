package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/testenv"
)

// Differential tests of the ways of reaching a server (dial_via.go):
// Unix-domain servers, `source` and `socks4`, each run through HAProxy 2.6
// and the varde binary (on an event loop and on the goroutine lane) with
// the same backends, comparing what clients, servers and log receivers see.

// dialRun starts bin ("haproxy" or the varde binary) on the config render
// gives for nports fresh loopback ports, calls fn with those ports once
// they all listen, then stops the process before returning, so the
// next run's checks and connections are its own.
func dialRun(t *testing.T, bin string, nports int, render func(ports []int) string, fn func(t *testing.T, ports []int) []string) []string {
	t.Helper()
	ports := testenv.FreePorts(t, nports)
	cfg := filepath.Join(t.TempDir(), "proxy.cfg")
	if err := os.WriteFile(cfg, []byte(render(ports)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "-f", cfg}
	if strings.HasSuffix(bin, "haproxy") {
		args = []string{"-db", "-f", cfg}
	}
	cmd, logPath := testenv.Start(t, bin, args...)
	testenv.WaitListening(t, filepath.Base(bin), logPath, ports...)
	out := fn(t, ports)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	return out
}

// dialDiff runs the same scenario through HAProxy and varde (both lanes)
// and fails on any difference.
func dialDiff(t *testing.T, nports int, render func(ports []int) string, fn func(t *testing.T, ports []int) []string) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	want := dialRun(t, haproxy, nports, render, fn)
	lanes(t, func(t *testing.T) {
		got := dialRun(t, varde, nports, render, fn)
		for i := range want {
			t.Logf("haproxy %q", want[i])
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("differs (-haproxy +varde)\n%s", d)
		}
	})
}

// connCounter serves HTTP on l, answering its name, the path and the
// number of the request on its connection, so reuse of a pooled server
// connection shows (health checks only connect, they add no request).
func connCounter(t *testing.T, l net.Listener, name string) {
	type key struct{}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := r.Context().Value(key{}).(*atomic.Int32).Add(1)
			fmt.Fprintf(w, "%s %s req#%d", name, r.URL.Path, n)
		}),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, key{}, new(atomic.Int32))
		},
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// echoOn answers every line of every connection on l with "echo LINE".
func echoOn(t *testing.T, l net.Listener) {
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintf(c, "echo %s\n", sc.Text())
				}
			}()
		}
	}()
}

func listenUnix(t *testing.T, path string) net.Listener {
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// getKeepAlive sends the paths as requests on one client connection and
// returns "path status body" for each.
func getKeepAlive(t *testing.T, addr string, paths ...string) []string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	var out []string
	for _, p := range paths {
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", p)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			out = append(out, p+" error")
			return out
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, fmt.Sprintf("%s %d %s", p, resp.StatusCode, b))
	}
	return out
}

// serverStatsRows returns "proxy/server status check_status" for the servers
// of the stats CSV at url, sorted.
func serverStatsRows(t *testing.T, url string) []string {
	var out []string
	for _, r := range statsCSV(t, url) {
		if r["svname"] != "FRONTEND" && r["svname"] != "BACKEND" {
			out = append(out, fmt.Sprintf("%s/%s %s %s", r["pxname"], r["svname"], r["status"], r["check_status"]))
		}
	}
	sort.Strings(out)
	return out
}

const unixServerConfig = `defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    mode http
    bind 127.0.0.1:{{P0}}
    log 127.0.0.1:{{SYSLOG}} local0
    log-format "%b/%s %si:%sp %ST %HP"
    use_backend abns if { path_beg /abns }
    use_backend bare if { path_beg /bare }
    default_backend unix

backend unix
    mode http
    server u unix@{{SOCK}} check inter 100ms rise 1 fall 1
    server dead unix@{{DEAD}} check inter 100ms rise 1 fall 1

backend bare
    mode http
    server p {{SOCK}}

backend abns
    mode http
    server a abns@{{ABNS}} check inter 100ms

listen tcp
    mode tcp
    bind 127.0.0.1:{{P1}}
    log 127.0.0.1:{{SYSLOG}} local0
    log-format "%b/%s %si:%sp tcp"
    server e unix@{{ECHO}} check inter 100ms

listen stats
    mode http
    bind 127.0.0.1:{{P2}}
    stats enable
    stats uri /stats
`

// TestUnixServerDifferential: servers at unix@/path, /path and abns@name
// in http and tcp mode, with checks (a live and a missing socket), the
// idle pool (three requests of one client over one server connection),
// the stats status and the logged %si:%sp ("unix:0" in HAProxy).
func TestUnixServerDifferential(t *testing.T) {
	dir, err := os.MkdirTemp("", "vdunix")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock, echo := filepath.Join(dir, "http.sock"), filepath.Join(dir, "echo.sock")
	abns := fmt.Sprintf("vd-dial-%d", os.Getpid())
	connCounter(t, listenUnix(t, sock), "path")
	connCounter(t, listenUnix(t, abnsName(abns)), "abns")
	echoOn(t, listenUnix(t, echo))
	logRE := regexp.MustCompile(`: (\S+/\S+ \S+ [^\n]*)`)
	var logs *udpSyslog
	var logPort int
	render := func(p []int) string {
		logPort, logs = startUDPSyslog(t, logRE)
		return strings.NewReplacer("{{P0}}", fmt.Sprint(p[0]), "{{P1}}", fmt.Sprint(p[1]), "{{P2}}", fmt.Sprint(p[2]),
			"{{SYSLOG}}", fmt.Sprint(logPort), "{{SOCK}}", sock, "{{DEAD}}", filepath.Join(dir, "none.sock"),
			"{{ABNS}}", abns, "{{ECHO}}", echo).Replace(unixServerConfig)
	}
	dialDiff(t, 3, render, func(t *testing.T, p []int) []string {
		statsURL := fmt.Sprintf("http://127.0.0.1:%d/stats;csv", p[2])
		var rows []string
		testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
			rows = serverStatsRows(t, statsURL)
			if all := strings.Join(rows, ","); !strings.Contains(all, "unix/dead DOWN") || strings.Contains(all, "INI") {
				return fmt.Errorf("checks not settled yet: %q", rows)
			}
			return nil
		})
		out := append([]string(nil), rows...)
		fe := fmt.Sprintf("127.0.0.1:%d", p[0])
		out = append(out, getKeepAlive(t, fe, "/one", "/two", "/bare/1", "/abns/1", "/abns/2")...)
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p[1]))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "ping\n")
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		out = append(out, "tcp "+strings.TrimSpace(line))
		time.Sleep(200 * time.Millisecond) // the tcp session's log line first
		getKeepAlive(t, fe, "/zz-sentinel")
		for _, l := range logs.column(t, 1, "unix/u unix:0 200 /zz-sentinel", 1) {
			// The readiness probe's empty connection: HAProxy logs
			// <BADREQ> for %HP, varde "-" (not about servers).
			if !strings.Contains(l, "<NOSRV>") {
				out = append(out, "log "+l)
			}
		}
		return out
	})
}
