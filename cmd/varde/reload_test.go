package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
	"github.com/varde-lb/varde/core/tlsx/tlstest"
)

// reloadVarde is a varde process started for a reload test, with its
// configuration file (rewritten between reloads) and admin socket.
type reloadVarde struct {
	t      *testing.T
	bin    string
	cmd    *exec.Cmd
	cfg    string
	sock   string
	stderr *syncBuffer
}

func startReloadVarde(t *testing.T, cfg string, env ...string) *reloadVarde {
	t.Helper()
	return startReloadVardeArgs(t, cfg, nil, env...)
}

// startReloadVardeArgs is startReloadVarde with more `varde run` flags.
func startReloadVardeArgs(t *testing.T, cfg string, args []string, env ...string) *reloadVarde {
	t.Helper()
	dir := t.TempDir()
	v := &reloadVarde{t: t, bin: testenv.VardeBinary(t), cfg: filepath.Join(dir, "haproxy.cfg"),
		sock: filepath.Join(dir, "admin.sock"), stderr: &syncBuffer{}}
	v.write(cfg)
	v.cmd = exec.Command(v.bin, append([]string{"run", "-f", v.cfg, "--grace", "3s"}, args...)...)
	v.cmd.Stderr = v.stderr
	v.cmd.Env = append(os.Environ(), env...)
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if v.cmd.ProcessState == nil {
			v.cmd.Process.Kill()
			v.cmd.Wait()
		}
	})
	if err := testenv.Until(10*time.Second, 20*time.Millisecond, func() error {
		c, err := net.Dial("unix", v.sock)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		t.Fatalf("admin socket: %v\n%s", err, v.stderr)
	}
	return v
}

// write replaces the configuration file; %SOCK% is the admin socket.
func (v *reloadVarde) write(cfg string) {
	cfg = strings.ReplaceAll(cfg, "%SOCK%", v.sock)
	if err := os.WriteFile(v.cfg, []byte(cfg), 0o644); err != nil {
		v.t.Fatal(err)
	}
}

// cli sends one admin command and returns the answer.
func (v *reloadVarde) cli(line string) string {
	v.t.Helper()
	c, err := net.Dial("unix", v.sock)
	if err != nil {
		v.t.Fatalf("admin socket: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, line+"\n")
	b, err := io.ReadAll(c)
	if err != nil {
		// A hang is a bug: the goroutine dump (SIGABRT) says where.
		v.cmd.Process.Signal(syscall.SIGABRT)
		time.Sleep(time.Second)
		log := v.stderr.String()
		v.t.Fatalf("admin %q: %v\nvarde's log ends with:\n%s", line, err, log[max(0, len(log)-60000):])
	}
	return string(b)
}

// reloadBySignal sends SIGHUP and waits until the process logged the
// reload number n as done.
func (v *reloadVarde) reloadBySignal(n int) {
	v.t.Helper()
	v.cmd.Process.Signal(syscall.SIGHUP)
	if err := testenv.Until(10*time.Second, 2*time.Millisecond, func() error {
		if strings.Count(v.stderr.String(), `msg="reload done"`) >= n {
			return nil
		}
		return fmt.Errorf("reload %d not done", n)
	}); err != nil {
		v.t.Fatalf("%v\n%s", err, v.stderr)
	}
}

// info reads one `show info` value.
func (v *reloadVarde) info(key string) int {
	v.t.Helper()
	m := regexp.MustCompile(`(?m)^` + key + `: (\d+)`).FindStringSubmatch(v.cli("show info"))
	if m == nil {
		v.t.Fatalf("show info has no %s", key)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func (v *reloadVarde) fds() int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", v.cmd.Process.Pid))
	if err != nil {
		v.t.Skip("no /proc")
	}
	return len(ents)
}

func (v *reloadVarde) rssKB() int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", v.cmd.Process.Pid))
	m := regexp.MustCompile(`VmRSS:\s+(\d+)`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// stat returns one column of `show stat` for proxy/server.
func (v *reloadVarde) stat(proxy, server, col string) string {
	v.t.Helper()
	lines := strings.Split(v.cli("show stat"), "\n")
	head := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	idx := -1
	for i, h := range head {
		if h == col {
			idx = i
		}
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) > idx && idx >= 0 && f[0] == proxy && f[1] == server {
			return f[idx]
		}
	}
	v.t.Fatalf("show stat: no %s/%s %s", proxy, server, col)
	return ""
}

func namedBackend(t *testing.T, name string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// echoBackend serves raw TCP echo; upgrade first answers an HTTP Upgrade
// request with 101, as a WebSocket server does, then echoes.
func echoBackend(t *testing.T, upgrade bool) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				if upgrade {
					if _, err := http.ReadRequest(r); err != nil {
						return
					}
					io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
				}
				io.Copy(c, r)
			}()
		}
	}()
	return l.Addr().String()
}

// stream is a long-lived client connection that must keep echoing.
type stream struct {
	c net.Conn
	r *bufio.Reader
}

func dialStream(t *testing.T, addr string, upgrade bool) *stream {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s := &stream{c: c, r: bufio.NewReader(c)}
	if upgrade {
		io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		c.SetDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(s.r, nil)
		if err != nil || resp.StatusCode != 101 {
			t.Fatalf("upgrade: %v %v", resp, err)
		}
	}
	return s
}

func (s *stream) echo(t *testing.T, msg string) {
	t.Helper()
	s.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(s.c, msg+"\n"); err != nil {
		t.Fatalf("stream write %q: %v", msg, err)
	}
	got, err := s.r.ReadString('\n')
	if err != nil || got != msg+"\n" {
		t.Fatalf("stream echo %q: got %q, %v", msg, got, err)
	}
}

const reloadCfgHead = `global
    stats socket %%SOCK%% level admin
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout tunnel 5m
frontend web
    bind 127.0.0.1:%d
    default_backend app
frontend wsf
    bind 127.0.0.1:%d
    default_backend ws
backend ws
    server w1 %s
listen tcpecho
    mode tcp
    bind 127.0.0.1:%d
    server e1 %s
backend app
    balance roundrobin
`

// TestReloadUnderLoad reloads 100 times under wrk load, alternating two
// configurations (a server added and removed, a weight changed), half by
// SIGHUP and half by the admin socket's reload: no request may fail and
// no socket error may occur; a WebSocket-style tunnel and a mode tcp
// stream opened before the first reload still echo after the last. Then
// 100 more reloads: descriptors, goroutines and RSS stay flat.
func TestReloadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	wrk := testenv.LookTool(t, "wrk", "wrk")
	ports := testenv.FreePorts(t, 3)
	s1, s2, s3 := namedBackend(t, "s1"), namedBackend(t, "s2"), namedBackend(t, "s3")
	head := fmt.Sprintf(reloadCfgHead, ports[0], ports[1], echoBackend(t, true), ports[2], echoBackend(t, false))
	cfgA := head + fmt.Sprintf("    server s1 %s weight 1\n    server s2 %s\n", s1, s2)
	cfgB := head + fmt.Sprintf("    server s1 %s weight 3\n    server s2 %s\n    server s3 %s\n", s1, s2, s3)
	v := startReloadVarde(t, cfgA)
	web := fmt.Sprintf("127.0.0.1:%d", ports[0])
	ws := dialStream(t, fmt.Sprintf("127.0.0.1:%d", ports[1]), true)
	tcp := dialStream(t, fmt.Sprintf("127.0.0.1:%d", ports[2]), false)
	ws.echo(t, "ws before")
	tcp.echo(t, "tcp before")

	load := exec.Command(wrk, "-t1", "-c16", "-d60s", "http://"+web+"/")
	var out syncBuffer
	load.Stdout = &out
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	defer load.Process.Kill()
	time.Sleep(300 * time.Millisecond)
	reloads := func(from, to int) {
		for i := from; i <= to; i++ {
			cfg := cfgA
			if i%2 == 1 {
				cfg = cfgB
			}
			v.write(cfg)
			if i%2 == 0 {
				v.reloadBySignal(i)
			} else if got := v.cli("reload"); !strings.HasPrefix(got, "Success=1") {
				t.Fatalf("reload %d: %s", i, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The admin socket is handed over too: a client asking all along
	// never finds it missing or mute.
	stopCLI, cliDone := make(chan struct{}), make(chan [2]int)
	go func() {
		ok, failed := 0, 0
		for {
			select {
			case <-stopCLI:
				cliDone <- [2]int{ok, failed}
				return
			default:
			}
			c, err := net.Dial("unix", v.sock)
			if err == nil {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.WriteString(c, "show info\n")
				b, _ := io.ReadAll(c)
				c.Close()
				if !strings.Contains(string(b), "Uptime_sec") {
					err = fmt.Errorf("answer %q", b)
				}
			}
			if err != nil {
				failed++
			} else {
				ok++
			}
		}
	}()
	reloads(1, 100)
	close(stopCLI)
	n := <-cliDone
	t.Logf("admin socket during 100 reloads: %d answers, %d failures", n[0], n[1])
	if n[1] > 0 || n[0] == 0 {
		t.Errorf("admin socket during 100 reloads: %d answers, %d failures", n[0], n[1])
	}
	time.Sleep(200 * time.Millisecond)
	load.Process.Signal(os.Interrupt)
	load.Wait()
	report := out.String()
	t.Logf("wrk across 100 reloads:\n%s", report)
	m := regexp.MustCompile(`(\d+) requests in`).FindStringSubmatch(report)
	if m == nil || m[1] == "0" {
		t.Fatalf("wrk ran no requests:\n%s", report)
	}
	if strings.Contains(report, "Socket errors") || strings.Contains(report, "Non-2xx") {
		t.Errorf("requests failed across reloads:\n%s", report)
	}
	// Counters carried over, including what each old generation counted
	// while it drained: the frontend saw every request wrk completed (and
	// at most one more per connection, cut by wrk's stop).
	time.Sleep(1500 * time.Millisecond) // every drain over
	done, _ := strconv.Atoi(m[1])
	if n, _ := strconv.Atoi(v.stat("web", "FRONTEND", "req_tot")); n < done || n > done+16 {
		t.Errorf("frontend req_tot after 100 reloads = %d, wrk completed %d", n, done)
	}
	ws.echo(t, "ws after 100 reloads")
	tcp.echo(t, "tcp after 100 reloads")
	if got := v.stat("app", "s1", "weight"); got != "1" {
		t.Errorf("s1 weight after the last reload (configuration A) = %q, want 1", got)
	}
	if strings.Contains(v.cli("show stat"), "app,s3,") {
		t.Errorf("s3, removed by the last reload, still in show stat")
	}

	// Flatness: the first generation is held by the two streams; later
	// ones must leave nothing behind.
	reloads(101, 110)
	time.Sleep(1500 * time.Millisecond) // the last drains' linger
	fds0, gor0, rss0 := v.fds(), v.info("process_goroutines"), v.rssKB()
	t0 := time.Now()
	reloads(111, 200)
	t.Logf("90 reloads without load took %v", time.Since(t0))
	time.Sleep(1500 * time.Millisecond)
	fds1, gor1, rss1 := v.fds(), v.info("process_goroutines"), v.rssKB()
	t.Logf("after 110 reloads: %d fds, %d goroutines, %d kB RSS; after 200: %d, %d, %d", fds0, gor0, rss0, fds1, gor1, rss1)
	if fds1 > fds0+4 {
		t.Errorf("descriptors grew from %d to %d over 90 reloads", fds0, fds1)
	}
	if gor1 > gor0+20 {
		t.Errorf("goroutines grew from %d to %d over 90 reloads", gor0, gor1)
	}
	if rss1 > rss0*3/2+8192 {
		t.Errorf("RSS grew from %d kB to %d kB over 90 reloads", rss0, rss1)
	}
	ws.echo(t, "ws after 200 reloads")
	tcp.echo(t, "tcp after 200 reloads")
	if n := v.info("process_reloads_total"); n != 200 {
		t.Errorf("process_reloads_total = %d, want 200", n)
	}
	t0 = time.Now()
	v.cmd.Process.Signal(syscall.SIGTERM)
	if err := v.cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, v.stderr)
	}
	if _, err := os.Stat(v.sock); !os.IsNotExist(err) {
		t.Errorf("admin socket file left after the stop (the last generation's copy removes it): %v", err)
	}
	// The first generation still holds the two streams: the stop cuts
	// them after the grace period (3s), not at timeout tunnel (5m).
	if d := time.Since(t0); d > 8*time.Second {
		t.Errorf("stop took %v with tunnels open (grace 3s)", d)
	}
}

func simpleReloadCfg(web int, extra string, servers ...string) string {
	cfg := fmt.Sprintf(`global
    stats socket %%SOCK%% level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:%d
    default_backend app
backend app
%s`, web, extra)
	for _, s := range servers {
		cfg += "    " + s + "\n"
	}
	return cfg
}

func reloadGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestReloadBrokenConfig: a configuration that does not load leaves the
// running generation serving; `varde ctl reload` exits non-zero with the
// file:line of the error, and a SIGHUP logs it without killing varde.
func TestReloadBrokenConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	web := testenv.FreePort(t)
	v := startReloadVarde(t, simpleReloadCfg(web, "", "server old "+namedBackend(t, "old")))
	url := fmt.Sprintf("http://127.0.0.1:%d/", web)
	if got := reloadGet(t, url); got != "old" {
		t.Fatalf("before reload: %q", got)
	}
	v.write(simpleReloadCfg(web, "    balance no-such-algorithm\n", "server new "+namedBackend(t, "new")))
	cases := []struct {
		name string
		run  func() (int, string)
	}{
		{"varde ctl reload", func() (int, string) {
			out, err := exec.Command(v.bin, "ctl", "-s", v.sock, "reload").CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			return code, string(out)
		}},
		{"SIGHUP", func() (int, string) {
			before := strings.Count(v.stderr.String(), "reload failed")
			v.cmd.Process.Signal(syscall.SIGHUP)
			testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
				if strings.Count(v.stderr.String(), "reload failed") > before {
					return nil
				}
				return fmt.Errorf("not yet")
			})
			return 1, v.stderr.String()
		}},
	}
	for _, c := range cases {
		code, out := c.run()
		if code == 0 {
			t.Errorf("%s: exit 0 on a broken configuration:\n%s", c.name, out)
		}
		if !regexp.MustCompile(`haproxy\.cfg:12: error: .*no-such-algorithm`).MatchString(out) {
			t.Errorf("%s: no file:line error in:\n%s", c.name, out)
		}
		if got := reloadGet(t, url); got != "old" {
			t.Errorf("%s: after a failed reload the old configuration must serve, got %q", c.name, got)
		}
	}
	if v.cmd.ProcessState != nil {
		t.Fatalf("varde exited: %v", v.cmd.ProcessState)
	}
}

// TestReloadKeepsState: a server drained and a weight set on the admin
// socket, a server the checks marked DOWN and the counters all survive a
// reload (the new generation would otherwise start every server UP,
// ready, at its configured weight, with zero counters).
func TestReloadKeepsState(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	web := testenv.FreePort(t)
	dead := testenv.FreePort(t) // nothing listens there
	cfg := simpleReloadCfg(web, "", "server s1 "+namedBackend(t, "s1")+" check inter 2s",
		"server s2 "+namedBackend(t, "s2")+" check inter 2s",
		fmt.Sprintf("server dead 127.0.0.1:%d check inter 900ms", dead))
	v := startReloadVarde(t, cfg)
	url := fmt.Sprintf("http://127.0.0.1:%d/", web)
	if err := testenv.Until(5*time.Second, 20*time.Millisecond, func() error {
		if st := v.stat("app", "dead", "status"); !strings.HasPrefix(st, "DOWN") {
			return fmt.Errorf("dead is %s", st)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		reloadGet(t, url)
	}
	for _, cmd := range []string{"set server app/s1 state drain", "set server app/s2 weight 7"} {
		if out := v.cli(cmd); strings.TrimSpace(out) != "" {
			t.Fatalf("%s: %s", cmd, out)
		}
	}
	if got := v.cli("reload"); !strings.HasPrefix(got, "Success=1") {
		t.Fatalf("reload: %s", got)
	}
	// At once: the new generation's first check of dead is 600ms away.
	checks := []struct{ server, col, want string }{
		{"s1", "status", "DRAIN"},
		{"s2", "weight", "7"},
		{"dead", "status", "DOWN"},
		{"BACKEND", "stot", ""},
	}
	for _, c := range checks {
		got := v.stat("app", c.server, c.col)
		if c.want != "" && !strings.HasPrefix(got, c.want) {
			t.Errorf("after reload: app/%s %s = %q, want %q", c.server, c.col, got, c.want)
		}
	}
	if n, _ := strconv.Atoi(v.stat("web", "FRONTEND", "req_tot")); n < 10 {
		t.Errorf("frontend req_tot after reload = %d, want >= 10 (counters reset)", n)
	}
	if n, _ := strconv.Atoi(v.stat("app", "BACKEND", "stot")); n < 10 {
		t.Errorf("backend stot after reload = %d, want >= 10 (counters reset)", n)
	}
	if got := reloadGet(t, url); got != "s2" {
		t.Errorf("with s1 drained and dead down, s2 must answer, got %q", got)
	}
}

// TestReloadNotify reads the sd_notify messages from the socket the test
// names in NOTIFY_SOCKET: READY=1 once listening, RELOADING=1 with
// MONOTONIC_USEC then READY=1 around a reload, the failure in STATUS= for a
// reload that fails, STOPPING=1 at the end.
func TestReloadNotify(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make(chan string, 32)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	next := func(want string) string {
		t.Helper()
		select {
		case m := <-msgs:
			if !strings.Contains(m, want) {
				t.Fatalf("notify: got %q, want %q in it", m, want)
			}
			return m
		case <-time.After(10 * time.Second):
			t.Fatalf("notify: no message (want %q)", want)
		}
		return ""
	}
	web := testenv.FreePort(t)
	cfg := simpleReloadCfg(web, "", "server s1 "+namedBackend(t, "s1"))
	v := startReloadVarde(t, cfg, "NOTIFY_SOCKET="+path)
	next("READY=1")
	v.cmd.Process.Signal(syscall.SIGHUP)
	m := next("RELOADING=1")
	usec := regexp.MustCompile(`MONOTONIC_USEC=(\d+)`).FindStringSubmatch(m)
	if usec == nil {
		t.Fatalf("RELOADING=1 without MONOTONIC_USEC: %q", m)
	}
	if got, now := mustAtoi(usec[1]), monotonicUsec(); got > now || now-got > 10_000_000 {
		t.Errorf("MONOTONIC_USEC=%d, CLOCK_MONOTONIC is %d µs", got, now)
	}
	next("READY=1")
	v.write(cfg + "bogus-keyword\n")
	v.cmd.Process.Signal(syscall.SIGUSR2)
	next("RELOADING=1")
	if m := next("READY=1"); !regexp.MustCompile(`STATUS=reload failed.*haproxy\.cfg:\d+`).MatchString(m) {
		t.Errorf("failed reload: STATUS= lacks the error: %q", m)
	}
	v.cmd.Process.Signal(syscall.SIGTERM)
	next("STOPPING=1")
	if err := v.cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
}

func mustAtoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// TestStopSignals: every terminating signal stops varde through the
// generation's stop, letting an in-flight request finish, and exits 0;
// SIGUSR1 is HAProxy's soft-stop (-sf), the others a clean stop.
func TestStopSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(600 * time.Millisecond)
		io.WriteString(w, "slow")
	}))
	t.Cleanup(slow.Close)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1} {
		t.Run(sig.String(), func(t *testing.T) {
			web := testenv.FreePort(t)
			v := startReloadVarde(t, simpleReloadCfg(web, "", "server s "+strings.TrimPrefix(slow.URL, "http://")))
			got := make(chan string, 1)
			go func() {
				resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", web))
				if err != nil {
					got <- err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				got <- string(b)
			}()
			time.Sleep(200 * time.Millisecond)
			v.cmd.Process.Signal(sig)
			if b := <-got; b != "slow" {
				t.Errorf("in-flight request across %v: %q", sig, b)
			}
			if err := v.cmd.Wait(); err != nil {
				t.Errorf("exit after %v: %v\n%s", sig, err, v.stderr)
			}
			if !strings.Contains(v.stderr.String(), `msg=stopping signal=`) {
				t.Errorf("no stop logged:\n%s", v.stderr)
			}
		})
	}
}

// TestReloadStartFailure: a configuration that loads but cannot start (a
// new bind on a port another process holds) is released; the running
// generation keeps serving on its sockets, and the next good reload works.
func TestReloadStartFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	web := testenv.FreePort(t)
	good := simpleReloadCfg(web, "", "server s1 "+namedBackend(t, "s1"))
	v := startReloadVarde(t, good)
	url := fmt.Sprintf("http://127.0.0.1:%d/", web)
	v.write(good + fmt.Sprintf("frontend extra\n    bind %s\n    default_backend app\n", busy.Addr()))
	if got := v.cli("reload"); !strings.HasPrefix(got, "Success=0") || !strings.Contains(got, "address already in use") {
		t.Errorf("reload onto a busy port: %q", got)
	}
	if got := reloadGet(t, url); got != "s1" {
		t.Errorf("after a failed start: %q", got)
	}
	v.write(good)
	if got := v.cli("reload"); !strings.HasPrefix(got, "Success=1") {
		t.Errorf("good reload after a failed one: %q", got)
	}
	if got := reloadGet(t, url); got != "s1" {
		t.Errorf("after the good reload: %q", got)
	}
}

// TestReloadIdleKeepAlive: a keep-alive connection idle long enough to be
// parked when a reload happens still gets its next request answered
// (with Connection: close) if it arrives within the drain's linger; a
// client cannot know the server was about to close it.
func TestReloadIdleKeepAlive(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	web := testenv.FreePort(t)
	cfg := simpleReloadCfg(web, "", "server s1 "+namedBackend(t, "s1"))
	v := startReloadVarde(t, cfg)
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", web))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	ask := func(what string) *http.Response {
		t.Helper()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp
	}
	ask("first request")
	time.Sleep(300 * time.Millisecond) // idle: parked
	if got := v.cli("reload"); !strings.HasPrefix(got, "Success=1") {
		t.Fatalf("reload: %s", got)
	}
	time.Sleep(100 * time.Millisecond) // the old generation drains
	if resp := ask("request on the idle connection during the drain"); !resp.Close {
		t.Errorf("the draining generation must answer with Connection: close")
	}
}

// TestReloadTLS: TLS contexts belong to their generation. A reload after
// the certificate file changed serves new handshakes with the new
// certificate on the same (handed-over) listening socket, while a TLS
// keep-alive connection of the old generation still gets its next request
// answered during the drain, with Connection: close.
func TestReloadTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Reload CA")
	ca.Issue(t, tlstest.Opts{Subject: pkix.Name{CommonName: "before"}, DNS: []string{"before.test"}}).Write(t, dir, "site.pem")
	web := testenv.FreePort(t)
	cfg := fmt.Sprintf(`global
    stats socket %%SOCK%% level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout http-keep-alive 5s
frontend web
    bind 127.0.0.1:%d ssl crt %s
    default_backend app
backend app
    server s1 %s
`, web, filepath.Join(dir, "site.pem"), namedBackend(t, "s1"))
	v := startReloadVarde(t, cfg)
	dial := func() (*tls.Conn, *bufio.Reader) {
		c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", web), &tls.Config{InsecureSkipVerify: true}) // the test reads the CN
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	ask := func(c *tls.Conn, r *bufio.Reader) *http.Response {
		t.Helper()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp
	}
	cn := func(c *tls.Conn) string { return c.ConnectionState().PeerCertificates[0].Subject.CommonName }
	old, oldR := dial()
	ask(old, oldR)
	if got := cn(old); got != "before" {
		t.Fatalf("certificate before the reload: %s", got)
	}
	ca.Issue(t, tlstest.Opts{Subject: pkix.Name{CommonName: "after"}, DNS: []string{"after.test"}}).Write(t, dir, "site.pem")
	if got := v.cli("reload"); !strings.HasPrefix(got, "Success=1") {
		t.Fatalf("reload: %s", got)
	}
	fresh, freshR := dial()
	if got := cn(fresh); got != "after" {
		t.Errorf("certificate after the reload: %s, want the new file's", got)
	}
	ask(fresh, freshR)
	if resp := ask(old, oldR); !resp.Close {
		t.Errorf("old generation's TLS connection: want its next request answered with Connection: close")
	}
}

// TestReloadKeepsStickTables: a table whose definition did not change keeps
// its entries and counters across a reload, so a reload never resets a
// rate limit.
func TestReloadKeepsStickTables(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	web := testenv.FreePort(t)
	extra := "    stick-table type ip size 1k expire 1m store http_req_cnt\n    http-request track-sc0 src\n"
	v := startReloadVarde(t, simpleReloadCfg(web, extra, "server s1 "+namedBackend(t, "s1")))
	url := fmt.Sprintf("http://127.0.0.1:%d/", web)
	for range 5 {
		reloadGet(t, url)
	}
	if got := v.cli("show table app"); !strings.Contains(got, "http_req_cnt=5") {
		t.Fatalf("before reload: %q", got)
	}
	if got := v.cli("reload"); !strings.HasPrefix(got, "Success=1") {
		t.Fatalf("reload: %s", got)
	}
	reloadGet(t, url)
	if got := v.cli("show table app"); !strings.Contains(got, "key=127.0.0.1") || !strings.Contains(got, "http_req_cnt=6") {
		t.Fatalf("after reload and one more request: %q (the table was reset)", got)
	}
}
