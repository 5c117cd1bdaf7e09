package main

import (
	"bytes"
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
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

func TestRunServesAndStopsGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := testenv.VardeBinary(t)
	var names []string
	for _, n := range []string{"one", "two"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s xff=%s", n, r.Header.Get("X-Forwarded-For"))
		}))
		defer srv.Close()
		names = append(names, strings.TrimPrefix(srv.URL, "http://"))
	}
	port := testenv.FreePort(t)
	dir := t.TempDir()
	pid := filepath.Join(dir, "varde.pid")
	cfg := fmt.Sprintf(`global
    pidfile %s
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:%d
    option forwardfor
    default_backend app
backend app
    balance roundrobin
    server one %s
    server two %s
`, pid, port, names[0], names[1])
	path := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(path, []byte(cfg), 0o644)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "run", "-f", path, "--grace", "2s")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	testenv.WaitTCP(t, addr, 10*time.Second)
	var got []string
	for i := 0; i < 2; i++ {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = append(got, string(b))
	}
	if got[0] != "one xff=127.0.0.1" || got[1] != "two xff=127.0.0.1" {
		t.Fatalf("responses %q", got)
	}
	if b, err := os.ReadFile(pid); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("pidfile %q %v", b, err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("varde did not stop on SIGTERM")
	}
	if _, err := os.Stat(pid); !os.IsNotExist(err) {
		t.Fatal("pidfile left behind")
	}
}

func TestRunRefusesInvalidConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.cfg")
	os.WriteFile(path, []byte("frontend web\n    bind 127.0.0.1:1\n    default_backend missing\n"), 0o644)
	var out, errb bytes.Buffer
	code := dispatch([]string{"run", "-f", path}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "missing") || !strings.Contains(errb.String(), "error") {
		t.Fatalf("the error is not named:\n%s", errb.String())
	}
}

// TestRunBindFailureExits checks that a start error (the port is taken)
// stops the already started subsystems and exits 1 instead of hanging.
func TestRunBindFailureExits(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := testenv.VardeBinary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(path, []byte(fmt.Sprintf(`global
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind %s
    default_backend app
backend app
    server one 127.0.0.1:1
`, l.Addr())), 0o644)
	cmd := exec.Command(bin, "run", "-f", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("exit %v, want 1\n%s", err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "address already in use") {
			t.Fatalf("the bind error is not reported:\n%s", stderr.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("varde hung after a start error\n%s", stderr.String())
	}
}
