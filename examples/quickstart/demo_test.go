package quickstart

import (
	"bufio"
	"fmt"
	"io"
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

// TestDemo runs the script behind `make demo` the way a terminal does (its
// own process group), checks that answers alternate between the two demo
// backends and that the ACL routes /static, then sends Ctrl-C (SIGINT to the
// group) and checks that every process the demo started is gone.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, pkg := range []string{"varde", "demo-backend"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, pkg), "./cmd/"+pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
	for _, addr := range []string{"127.0.0.1:8080", "127.0.0.1:9001", "127.0.0.1:9002"} {
		if c, err := (&http.Client{Timeout: 200 * time.Millisecond}).Get("http://" + addr + "/"); err == nil {
			c.Body.Close()
			t.Skipf("%s is already in use on this machine; the demo needs it", addr)
		}
	}

	cmd := exec.Command(filepath.Join(root, "examples/quickstart/demo.sh"), bin)
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := os.Create(filepath.Join(t.TempDir(), "demo.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("demo output:\n%s", b)
		}
	})

	client := &http.Client{Timeout: 2 * time.Second}
	get := func(path string) (string, error) {
		resp, err := client.Get("http://127.0.0.1:8080" + path)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
		}
		return string(b), err
	}
	if err := testenv.Until(30*time.Second, 100*time.Millisecond, func() error { _, err := get("/"); return err }); err != nil {
		t.Fatalf("demo never answered: %v", err)
	}
	var seen []string
	for i := 0; i < 6; i++ {
		body, err := get("/")
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, strings.Fields(body)[2]) // "hello from app1: ..."
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] == seen[i-1] {
			t.Fatalf("answers do not alternate between the backends: %v", seen)
		}
	}
	if body, err := get("/static/x"); err != nil || !strings.HasPrefix(body, "hello from app1:") {
		t.Fatalf("/static/x = %q, %v; want backend static (app1)", body, err)
	}

	// Ctrl-C: the terminal signals the whole foreground process group.
	children := groupMembers(t, pgid)
	if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop within 20s of Ctrl-C")
	}
	if err := testenv.Until(10*time.Second, 100*time.Millisecond, func() error {
		for _, pid := range children {
			if syscall.Kill(pid, 0) == nil && !isZombie(pid) {
				return fmt.Errorf("process %d still running", pid)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out.Name())
	if !strings.Contains(string(b), "demo: stopped varde and the demo backends") {
		t.Fatalf("demo did not report its cleanup:\n%s", b)
	}
}

// groupMembers lists the PIDs in a process group, read from /proc.
func groupMembers(t *testing.T, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		if pg, err := syscall.Getpgid(pid); err == nil && pg == pgid {
			pids = append(pids, pid)
		}
	}
	if len(pids) < 4 { // demo.sh, two backends, varde
		t.Fatalf("process group %d has %d members, want demo.sh + 2 backends + varde", pgid, len(pids))
	}
	return pids
}

func isZombie(pid int) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return true
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "State:") {
			return strings.Contains(sc.Text(), "Z")
		}
	}
	return false
}
