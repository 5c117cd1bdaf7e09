package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

func TestTakeUpgradeFlags(t *testing.T) {
	for _, tc := range []struct {
		args, rest string
		socket     string
		pids       []int
		sig        syscall.Signal
		err        bool
	}{
		{args: "-f a.cfg -x /run/s.sock -sf 12 34 -p p", rest: "-f a.cfg -p p", socket: "/run/s.sock", pids: []int{12, 34}, sig: syscall.SIGUSR1},
		{args: "-st 7 -f a.cfg", rest: "-f a.cfg", pids: []int{7}, sig: syscall.SIGTERM},
		{args: "-sf -f a.cfg", rest: "-f a.cfg", sig: syscall.SIGUSR1}, // -sf $(cat missing.pid)
		{args: "-f a.cfg -- -x b.cfg", rest: "-f a.cfg -- -x b.cfg", sig: syscall.SIGUSR1},
		{args: "-sf 12 abc", err: true},
		{args: "-sf 0", err: true},
		{args: "-x", err: true},
		{args: "-x a -x b", err: true},
	} {
		u, rest, err := takeUpgradeFlags(strings.Fields(tc.args))
		if tc.err {
			if err == nil {
				t.Errorf("%q: no error", tc.args)
			}
			continue
		}
		if err != nil || strings.Join(rest, " ") != tc.rest || u.socket != tc.socket || fmt.Sprint(u.pids) != fmt.Sprint(tc.pids) || u.sig != tc.sig {
			t.Errorf("%q: got %+v rest %q err %v", tc.args, u, rest, err)
		}
		if back, _, _ := takeUpgradeFlags(u.args()); fmt.Sprint(back.pids) != fmt.Sprint(u.pids) || back.socket != u.socket {
			t.Errorf("%q: args() does not round-trip: %q", tc.args, u.args())
		}
	}
}

// load runs HTTP GETs against addr from several workers until ctx ends,
// half of them on a new connection each time (every connect must be
// accepted by someone), half on keep-alive connections.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       []string
}

func (l *load) run(ctx context.Context, addr string, workers int) *sync.WaitGroup {
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		tr := &http.Transport{DisableKeepAlives: i%2 == 0, MaxIdleConnsPerHost: 1}
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer tr.CloseIdleConnections()
			for ctx.Err() == nil {
				resp, err := c.Get("http://" + addr + "/")
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					l.failed.Add(1)
					l.mu.Lock()
					if len(l.errs) < 5 {
						l.errs = append(l.errs, err.Error())
					}
					l.mu.Unlock()
					continue
				}
				l.ok.Add(1)
			}
		}()
	}
	return &wg
}

func upgradeBackend(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(1500 * time.Millisecond)
			io.WriteString(w, "slow done")
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// upgradeCfg writes a configuration both varde and HAProxy run: a stats
// socket with expose-fd listeners, one frontend, one backend.
// With wildcard the bind is `*:PORT` (clients still use loopback).
func upgradeCfg(t *testing.T, extraGlobal string, wildcard bool) (cfg, sock, addr string) {
	dir := t.TempDir()
	sock = filepath.Join(dir, "admin.sock")
	addr = "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	bind := addr
	if wildcard {
		bind = "*:" + strconv.Itoa(portOf(addr))
	}
	cfg = filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`global
    stats socket %s mode 600 level admin expose-fd listeners
%s
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind %s
    default_backend app
backend app
    server one %s
`, sock, extraGlobal, bind, upgradeBackend(t))), 0o644)
	return cfg, sock, addr
}

// upgradeUnderLoad runs the load against addr, where A (already
// listening) serves, with a slow request in flight on A; then starts B
// with startB and waits for A to exit. It fails the test on any failed
// request, on A's exit status, and when the slow request did not
// complete; it returns B.
func upgradeUnderLoad(t *testing.T, addr string, a *exec.Cmd, aLog string, startB func() (*exec.Cmd, string)) (*exec.Cmd, string) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var l load
	wg := l.run(ctx, addr, 8)
	slow := make(chan string, 1)
	go func() { // lands on A: B does not exist yet
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	time.Sleep(500 * time.Millisecond)
	b, bLog := startB()
	aDone := make(chan error, 1)
	go func() { aDone <- a.Wait() }()
	select {
	case err := <-aDone:
		if err != nil {
			t.Errorf("A exited with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("A did not exit after -sf\n%s", readLog(aLog))
	}
	if got := <-slow; got != "slow done" {
		t.Errorf("the slow request in flight on A got %q", got)
	}
	time.Sleep(time.Second) // B alone
	stop()
	wg.Wait()
	t.Logf("requests: %d ok, %d failed", l.ok.Load(), l.failed.Load())
	if l.failed.Load() != 0 || l.ok.Load() < 100 {
		t.Fatalf("%d ok, %d failed %q\nA:\n%s\nB:\n%s", l.ok.Load(), l.failed.Load(), l.errs, readLog(aLog), readLog(bLog))
	}
	return b, bLog
}

// A binary upgrade under load: process A serves with `stats socket ...
// expose-fd listeners`; B starts with `-x SOCKET -sf PID_A`, takes A's
// listening socket and tells A to finish. No request fails, no connection
// is refused, A's slow request in flight completes, A exits 0 and B
// serves on, with the stats socket and pid file its own.
func TestBinaryUpgradeUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := testenv.VardeBinary(t)
	pidfile := filepath.Join(t.TempDir(), "varde.pid")
	cfg, sock, addr := upgradeCfg(t, "    pidfile "+pidfile, false)
	a, aLog := testenv.Start(t, bin, "-f", cfg)
	testenv.WaitListening(t, "varde A", aLog, portOf(addr))
	b, bLog := upgradeUnderLoad(t, addr, a, aLog, func() (*exec.Cmd, string) {
		return testenv.Start(t, bin, "-f", cfg, "-x", sock, "-sf", strconv.Itoa(a.Process.Pid))
	})
	if !strings.Contains(readLog(aLog), "handover=true") || !strings.Contains(readLog(bLog), "tcp=1") {
		t.Errorf("logs do not show the hand-over\nA:\n%s\nB:\n%s", readLog(aLog), readLog(bLog))
	}
	if pid, _ := os.ReadFile(pidfile); strings.TrimSpace(string(pid)) != strconv.Itoa(b.Process.Pid) {
		t.Errorf("pid file holds %q, want B's %d", pid, b.Process.Pid)
	}
	if out := upgradeAdminCmd(t, sock, "show info"); !strings.Contains(out, "Pid: "+strconv.Itoa(b.Process.Pid)) {
		t.Errorf("the stats socket is not B's after A exited: %q", out)
	}
}

// The same hand-over between varde and a real HAProxy 2.6 running the
// same haproxy.cfg, both ways: a HAProxy user migrates to varde (and back)
// without refusing a connection or failing a request.
func TestBinaryUpgradeWithHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	for _, tc := range []struct {
		name     string
		a, b     string
		bFlags   []string
		wildcard bool
	}{
		{"haproxy to varde", haproxy, bin, nil, false},
		{"varde to haproxy", bin, haproxy, []string{"-db"}, false},
		// HAProxy's *:PORT is IPv4-only 0.0.0.0, and so is varde's: the
		// socket passes over exactly, without the dual-stack fallback
		{"haproxy bind * to varde", haproxy, bin, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, sock, addr := upgradeCfg(t, "", tc.wildcard)
			aArgs := []string{"-f", cfg}
			if tc.a == haproxy {
				aArgs = append(aArgs, "-db")
			}
			a, aLog := testenv.Start(t, tc.a, aArgs...)
			testenv.WaitListening(t, "A", aLog, portOf(addr))
			b, bLog := upgradeUnderLoad(t, addr, a, aLog, func() (*exec.Cmd, string) {
				args := append([]string{"-f", cfg}, tc.bFlags...)
				return testenv.Start(t, tc.b, append(args, "-x", sock, "-sf", strconv.Itoa(a.Process.Pid))...)
			})
			if tc.wildcard && tc.b == bin && strings.Contains(readLog(bLog), "IPv6 clients are not served") {
				t.Errorf("varde's *:PORT is IPv4-only as HAProxy's: it must take the 0.0.0.0 socket as it is, not as a dual-stack fallback:\n%s", readLog(bLog))
			}
			// The stats socket path now answers for B: neither side
			// removed the other's socket.
			if out := upgradeAdminCmd(t, sock, "show info"); !strings.Contains(out, "Pid: "+strconv.Itoa(b.Process.Pid)) {
				t.Errorf("the stats socket is not B's after A exited: %q", out)
			}
		})
	}
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

func upgradeAdminCmd(t *testing.T, sock, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, cmd+"\n")
	b, _ := io.ReadAll(c)
	return string(b)
}

// Without `expose-fd listeners` the old process hands nothing over and
// the new one does not start (it would fail on the ports, or worse): A
// keeps serving.
func TestUpgradeRefusedWithoutExposeFd(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := testenv.VardeBinary(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "admin.sock")
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	cfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`global
    stats socket %s mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind %s
    default_backend app
backend app
    server one %s
`, sock, addr, upgradeBackend(t))), 0o644)
	a, aLog := testenv.Start(t, bin, "-f", cfg)
	testenv.WaitListening(t, "varde A", aLog, portOf(addr))
	out, err := exec.Command(bin, "-f", cfg, "-x", sock, "-sf", strconv.Itoa(a.Process.Pid)).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "expose-fd listeners") {
		t.Fatalf("B: %v\n%s", err, out)
	}
	if err := a.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("A was stopped although B did not start: %v", err)
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// listenerFile opens a loopback listener and returns its address and a
// file for a child's ExtraFiles; the test's own copies are closed, so only
// the child holds the socket.
func listenerFile(t *testing.T) (string, *os.File) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	t.Cleanup(func() { f.Close() })
	return l.Addr().String(), f
}

func simpleCfg(t *testing.T, bind string) string {
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(path, []byte(fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind %s
    default_backend app
backend app
    server one %s
`, bind, upgradeBackend(t))), 0o644)
	return path
}

// startWith starts a varde command with extra descriptors from fd 3 on and
// waits until it answers on addr.
func startWith(t *testing.T, args []string, files []*os.File, addr string) *exec.Cmd {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.ExtraFiles = files
	logf, _ := os.Create(filepath.Join(t.TempDir(), "varde.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait(); logf.Close() })
	for _, f := range files {
		f.Close() // only the child holds the socket now
	}
	err := testenv.Until(15*time.Second, 50*time.Millisecond, func() error {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("not serving on %s: %v\n%s", addr, err, readLog(logf.Name()))
	}
	return cmd
}

// bind fd@3: varde serves on the listening socket it inherited as
// descriptor 3 (nobody else holds it: the port could not be bound anew
// by address either, it is not in the configuration).
func TestBindInheritedFD(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := testenv.VardeBinary(t)
	addr, f := listenerFile(t)
	startWith(t, []string{bin, "run", "-f", simpleCfg(t, "fd@3")}, []*os.File{f}, addr)
}

// A bind of a descriptor the process was not given fails the start with
// the reason.
func TestBindFDNotInherited(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	out, err := exec.Command(testenv.VardeBinary(t), "run", "-f", simpleCfg(t, "fd@7")).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "bind fd@7") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// systemd socket activation: the socket passed as fd 3 with LISTEN_PID
// set to varde's pid is taken by the bind of the same address, which
// could not bind anew (the socket holds the port).
func TestSystemdSocketActivation(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := testenv.VardeBinary(t)
	addr, f := listenerFile(t)
	sh := `export LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=web; exec "$0" "$@"`
	startWith(t, []string{"/bin/sh", "-c", sh, bin, "run", "-f", simpleCfg(t, addr)}, []*os.File{f}, addr)
}

// The figure: a binary upgrade under wrk (50 keep-alive
// connections): no socket error, no non-2xx answer.
func TestBinaryUpgradeUnderWrk(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	wrk := testenv.LookTool(t, "wrk", "wrk")
	bin := testenv.VardeBinary(t)
	cfg, sock, addr := upgradeCfg(t, "", false)
	a, aLog := testenv.Start(t, bin, "-f", cfg)
	testenv.WaitListening(t, "varde A", aLog, portOf(addr))
	out := make(chan string, 1)
	go func() {
		b, _ := exec.Command(wrk, "-t2", "-c50", "-d5s", "--timeout", "10s", "http://"+addr+"/").CombinedOutput()
		out <- string(b)
	}()
	time.Sleep(2 * time.Second)
	_, bLog := testenv.Start(t, bin, "-f", cfg, "-x", sock, "-sf", strconv.Itoa(a.Process.Pid))
	if err := a.Wait(); err != nil {
		t.Errorf("A exited with %v", err)
	}
	res := <-out
	t.Log(res)
	if !strings.Contains(res, "requests in") || strings.Contains(res, "Socket errors") || strings.Contains(res, "Non-2xx") {
		t.Fatalf("wrk:\n%s\nA:\n%s\nB:\n%s", res, readLog(aLog), readLog(bLog))
	}
}

// A new HAProxy started with -sf but without -x that cannot bind sends
// SIGTTOU then SIGTTIN to the old process: varde must not be suspended
// by them (their default action), it keeps serving.
func TestJobControlSignalsDoNotSuspend(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := testenv.VardeBinary(t)
	addr, f := listenerFile(t)
	f.Close()
	cfg := simpleCfg(t, addr)
	cmd := startWith(t, []string{bin, "run", "-f", cfg}, nil, addr)
	for _, sig := range []syscall.Signal{syscall.SIGTTOU, syscall.SIGTTIN} {
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if strings.Contains(string(st), "State:\tT") {
		syscall.Kill(cmd.Process.Pid, syscall.SIGCONT)
		t.Fatal("varde was suspended by SIGTTOU/SIGTTIN")
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
