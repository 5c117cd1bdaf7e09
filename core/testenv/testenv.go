// Package testenv holds helpers shared by varde's process-level tests: finding
// external tools (haproxy, keepalived, rsyslogd, chromium, ...), building the
// varde binary once, and bounded polling instead of bare sleeps.
package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// InCI reports whether the tests run under CI (CI=true). There, a missing
// tool is a failure, not a skip: `make test` installs everything it needs.
func InCI() bool { return os.Getenv("CI") == "true" }

// LookTool returns the path of an external tool. When it is missing, the test
// is skipped on a developer machine and fails under CI, naming the Debian
// package that provides it.
func LookTool(t testing.TB, name, debPackage string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not found (install Debian package %q; `make test` does this)", name, debPackage)
	if InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// NeedRoot skips (or fails under CI) when the test is not running as root,
// which network-namespace and raw-socket tests need.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if InCI() {
		t.Fatal("this test needs root (network namespaces / raw sockets)")
	}
	t.Skip("this test needs root (network namespaces / raw sockets)")
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// VardeBinary builds ./cmd/varde once per test binary and returns its path.
// Every test of a package shares one build, and every test process one
// file per distinct binary: builds are kept by content in
// $TMPDIR/varde-testbin, and ones unused for two hours are removed, so
// repeated runs do not fill the disk (a directory per process once did).
func VardeBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() { buildPath, buildErr = buildVarde() })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

func buildVarde() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	store := filepath.Join(os.TempDir(), "varde-testbin")
	if err := os.MkdirAll(store, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(store, ".build-")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", "build", "-o", tmp.Name(), "./cmd/varde")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/varde: %v\n%s", err, out)
	}
	sum, err := fileSum(tmp.Name())
	if err != nil {
		return "", err
	}
	path := filepath.Join(store, "varde-"+sum[:16])
	now := time.Now()
	if _, err := os.Stat(path); err != nil {
		if err := os.Rename(tmp.Name(), path); err != nil {
			return "", err
		}
	}
	os.Chtimes(path, now, now) // in use: not pruned for two hours
	pruneBuilds(store, path, now.Add(-2*time.Hour))
	return path, nil
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pruneBuilds removes the stored builds (and stray partial ones) last used
// before cutoff, but never keep.
func pruneBuilds(store, keep string, cutoff time.Time) {
	entries, err := os.ReadDir(store)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(store, e.Name())
		if info, err := e.Info(); err == nil && p != keep && info.ModTime().Before(cutoff) {
			os.Remove(p)
		}
	}
}

// ModuleRoot finds the directory holding go.mod, walking up from this file.
func ModuleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("testenv: cannot locate source file")
	}
	dir := filepath.Dir(file)
	for i := 0; i < 10; i++ {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		dir = filepath.Dir(dir)
	}
	return "", fmt.Errorf("testenv: go.mod not found above %s", file)
}

// Until polls cond every interval until it returns nil or the timeout
// elapses; it returns the last error. Loops in tests are bounded in time
// and in count (timeout/interval).
func Until(timeout, interval time.Duration, cond func() error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		if last = cond(); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up after %v: %w", timeout, last)
		case <-time.After(interval):
		}
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitTCP waits until addr accepts TCP connections.
func WaitTCP(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	err := Until(timeout, 20*time.Millisecond, func() error {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return err
		}
		c.Close()
		return nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", addr, err)
	}
}

// Start runs a command in the background, in a process group of its own,
// and stops that group when the test ends: SIGTERM, then SIGKILL after 3 s.
// The group takes the processes the command forked too (nginx's workers),
// which a kill of its PID alone would leave running. Its stdout and stderr
// go to files in t.TempDir() whose paths are returned so failures can print
// them.
func Start(t testing.TB, name string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), filepath.Base(name)+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		stopGroup(cmd)
		f.Close()
	})
	return cmd, logPath
}

// stopGroup ends the process group Start created for cmd: SIGTERM, a wait
// of at most 3 s for cmd itself, then SIGKILL to whatever of the group is
// left.
func stopGroup(cmd *exec.Cmd) {
	pgid := cmd.Process.Pid // Setpgid: the group is named after its leader
	if cmd.ProcessState == nil {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _, _ = cmd.Process.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // forked children still in the group
}

// FreePorts returns n distinct loopback TCP ports that were free a moment
// ago. All listeners are held open together, so no port comes back twice.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	out := make([]int, n)
	ls := make([]net.Listener, n)
	for i := range ls {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls[i], out[i] = l, l.Addr().(*net.TCPAddr).Port
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

// WaitListening waits (30 s at most per port) until a process listens on
// every loopback port, and fails with the process's log when it does not.
func WaitListening(t testing.TB, what, logPath string, ports ...int) {
	t.Helper()
	for _, p := range ports {
		err := Until(30*time.Second, 20*time.Millisecond, func() error {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p), 200*time.Millisecond)
			if err == nil {
				c.Close()
			}
			return err
		})
		if err != nil {
			logs, _ := os.ReadFile(logPath)
			t.Fatalf("%s not listening on %d: %v\n%s", what, p, err, logs)
		}
	}
}
