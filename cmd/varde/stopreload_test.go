package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/listen"
)

// stopGateVersion marks the generations of TestReloadDuringStop: only they
// get a stopGate part (every other generation of this test binary gets
// none).
const stopGateVersion = "test-stop-gate"

// stopGate is a part that stops after the VIPs' turn and before the admin
// socket's (parts stop in reverse order), and holds the stop until the
// test releases it: the window in which a reload can arrive while the
// process stops but its admin socket still answers.
type stopGate struct {
	entered, release chan struct{}
	once             sync.Once
}

var gates = struct {
	sync.Mutex
	cur *stopGate
}{}

func init() {
	generation.Register(generation.Subsystem{Name: "test-stop-gate", Order: 35, Prepare: func(g *generation.Generation, _ *diag.List) generation.Part {
		if g.Opts.Version != stopGateVersion {
			return nil
		}
		gates.Lock()
		defer gates.Unlock()
		return gates.cur
	}})
}

func (s *stopGate) Start(context.Context) error { return nil }

func (s *stopGate) Stop(ctx context.Context) error {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return nil
}

// TestReloadDuringStop: a `reload` on the admin socket that arrives while
// varde stops fails at once ("varde is stopping"); it must not wait for
// the stop, which waits for the admin sessions to end (a deadlock).
func TestReloadDuringStop(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "admin.sock")
	cfg := filepath.Join(dir, "h.cfg")
	web := freeLoopbackPortMain(t)
	text := fmt.Sprintf("global\n    stats socket %s level admin\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend web\n    bind 127.0.0.1:%d\n    default_backend app\nbackend app\n    server s1 127.0.0.1:1\n", sock, web)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// The first generation's gate lets its stop through at once: the
	// reload retires it. The generation the reload builds gets the gate
	// the test holds, so only the SIGTERM's stop can enter it.
	first := &stopGate{entered: make(chan struct{}), release: make(chan struct{})}
	close(first.release)
	gate := &stopGate{entered: make(chan struct{}), release: make(chan struct{})}
	gates.Lock()
	gates.cur = first
	gates.Unlock()
	defer func() { gates.Lock(); gates.cur = nil; gates.Unlock() }()

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := generation.Options{Logger: log, Stdout: io.Discard, Stderr: io.Discard, Version: stopGateVersion,
		Grace: 2 * time.Second, Sockets: &listen.Inventory{}}
	p := newProcess([]string{cfg}, log, io.Discard, opts)
	p.up = &upgrade{}
	g, d := generation.Load([]string{cfg}, os.Getenv, p.opts)
	if d.HasErrors() {
		p.close()
		g.Close()
		t.Fatal(d.Err())
	}
	done := make(chan error, 1)
	go func() { done <- p.run(g, "") }()
	gates.Lock()
	gates.cur = gate
	gates.Unlock()
	if got := adminAsk(t, sock, "reload"); !strings.HasPrefix(got, "Success=1") {
		t.Fatalf("reload while running: %q", got)
	}

	p.sigs <- syscall.SIGTERM
	select {
	case <-gate.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the stop did not begin")
	}
	got := adminAsk(t, sock, "reload")
	close(gate.release)
	if !strings.HasPrefix(got, "Success=0") || !strings.Contains(got, "stopping") {
		t.Errorf("reload during the stop: %q, want Success=0 and \"varde is stopping\"", got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("stop: %v", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("varde did not stop: the stop waits for the admin session, the session for the stop")
	}
}

// adminAsk sends one command on the unix admin socket and returns the
// answer ("" when none came within 3 s).
func adminAsk(t *testing.T, sock, line string) string {
	t.Helper()
	var c net.Conn
	var err error
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if c, err = net.Dial("unix", sock); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("admin socket: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, line+"\n")
	b, _ := io.ReadAll(c)
	return string(b)
}

func freeLoopbackPortMain(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
