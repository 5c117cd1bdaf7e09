package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// privdropConfig serves "ok" on every port given; sock, when set, is a
// stats socket made by root before the switch.
func privdropConfig(sock string, ports ...int) string {
	s := "global\n    user nobody\n    group nogroup\n"
	if sock != "" {
		s += "    stats socket " + sock + " mode 600 level admin\n"
	}
	s += authorityDefaults + "frontend f\n"
	for _, p := range ports {
		s += fmt.Sprintf("    bind 127.0.0.1:%d\n", p)
	}
	return s + "    http-request return status 200 content-type text/plain string ok\n"
}

// cgoFreeVarde builds varde as packaging/mkdeb does (CGO_ENABLED=0): the
// privilege drop changes every thread's capabilities, which cgo forbids.
func cgoFreeVarde(t *testing.T) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "varde")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/varde")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// lowPort finds a free loopback port below 1024 (the test runs as root).
func lowPort(t *testing.T) int {
	for p := 1000; p > 900; p-- {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			l.Close()
			return p
		}
	}
	t.Skip("no free port between 901 and 1000")
	return 0
}

// threadCreds reads the Uid, Gid and CapEff lines of every thread of pid.
func threadCreds(t *testing.T, pid int) []string {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no threads of %d: %v", pid, err)
	}
	var out []string
	for _, path := range tasks {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the thread ended
		}
		var keep []string
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) > 0 && (f[0] == "Uid:" || f[0] == "Gid:" || f[0] == "CapEff:" || f[0] == "CapPrm:" || f[0] == "CapInh:" || f[0] == "CapAmb:") {
				keep = append(keep, strings.Join(f, " "))
			}
		}
		out = append(out, strings.Join(keep, "; "))
	}
	return out
}

func getOK(t *testing.T, port int) {
	t.Helper()
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatalf("GET on %d: %v", port, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("GET on %d: %d %q", port, resp.StatusCode, body)
	}
}

// TestPrivilegeDrop: varde started as root with `user nobody` / `group
// nogroup` runs every thread as nobody with exactly CAP_NET_BIND_SERVICE,
// CAP_NET_ADMIN and CAP_NET_RAW, serves, binds a port below 1024 on reload,
// keeps the old generation when a reload cannot read the configuration,
// and stops cleanly.
func TestPrivilegeDrop(t *testing.T) {
	testenv.NeedRoot(t)
	bin := cgoFreeVarde(t)
	dir := t.TempDir()
	// nobody must read the configuration again on reload.
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "h.cfg")
	high, low := testenv.FreePort(t), lowPort(t)
	// The stats socket's directory must be the user's: reloads check it.
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(run, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(run, "admin.sock")
	if err := os.WriteFile(cfg, []byte(privdropConfig(sock, high)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, logPath := testenv.Start(t, bin, "run", "-f", cfg)
	testenv.WaitListening(t, "varde", logPath, high)
	pid := cmd.Process.Pid
	const want = "Uid: 65534 65534 65534 65534; Gid: 65534 65534 65534 65534; CapInh: 0000000000003400; CapPrm: 0000000000003400; CapEff: 0000000000003400; CapAmb: 0000000000003400"
	waitCreds(t, pid, want, logPath)
	getOK(t, high)

	// Reload adding a port below 1024: CAP_NET_BIND_SERVICE survived.
	if err := os.WriteFile(cfg, []byte(privdropConfig(sock, high, low)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testenv.WaitListening(t, "varde after reload", logPath, low)
	getOK(t, low)
	// The stats socket root made (mode 600, root's) was handed over.
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stats socket after reload: %v %v", fi, err)
	}
	showInfo(t, sock)

	// A configuration nobody cannot read: the reload fails, both ports serve on.
	if err := os.Chmod(cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	privWaitLog(t, logPath, "permission denied")
	getOK(t, low)
	getOK(t, high)
	waitCreds(t, pid, want, logPath)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			logs, _ := os.ReadFile(logPath)
			t.Fatalf("varde exited with %v\n%s", err, logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("varde did not stop within 15 s of SIGTERM")
	}
}

// waitCreds waits (5 s at most) until every thread of pid shows want.
func waitCreds(t *testing.T, pid int, want, logPath string) {
	t.Helper()
	var got []string
	err := testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
		got = threadCreds(t, pid)
		for _, g := range got {
			if g != want {
				return fmt.Errorf("thread: %s", g)
			}
		}
		return nil
	})
	if err != nil {
		logs, _ := os.ReadFile(logPath)
		t.Fatalf("credentials: %v\nwant every thread: %s\ngot: %q\n%s", err, want, got, logs)
	}
}

// privWaitLog waits (10 s at most) until the log holds s.
func privWaitLog(t *testing.T, logPath, s string) {
	t.Helper()
	err := testenv.Until(10*time.Second, 50*time.Millisecond, func() error {
		b, _ := os.ReadFile(logPath)
		if !strings.Contains(string(b), s) {
			return fmt.Errorf("no %q in the log", s)
		}
		return nil
	})
	if err != nil {
		logs, _ := os.ReadFile(logPath)
		t.Fatalf("%v\n%s", err, logs)
	}
}

// showInfo asks the stats socket for `show info` and wants its Pid line.
func showInfo(t *testing.T, sock string) {
	t.Helper()
	c, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		t.Fatalf("stats socket: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, "show info\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	if !strings.Contains(string(b), "Pid:") {
		t.Fatalf("show info: %q", b)
	}
}
