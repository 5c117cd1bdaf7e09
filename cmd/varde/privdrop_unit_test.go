package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

// TestWantedIdentity: what the global lines resolve to (Debian's fixed
// accounts: daemon 1:1, sync 4:65534, nobody 65534:65534, nogroup 65534).
func TestWantedIdentity(t *testing.T) {
	tests := []struct {
		name string
		g    config.Global
		ok   bool
		want string // "uid gid groups"
	}{
		{"nothing", config.Global{}, false, ""},
		{"user only takes the primary group", config.Global{User: "sync"}, true, "4 65534 [65534]"},
		{"group wins over the primary group", config.Global{User: "daemon", Group: "nogroup"}, true, "1 65534 [65534]"},
		{"gid number", config.Global{User: "daemon", GID: 7}, true, "1 7 [7]"},
		{"uid with a passwd entry", config.Global{UID: 65534}, true, "65534 65534 [65534]"},
		{"uid without a passwd entry", config.Global{UID: 54321}, true, "54321 0 [0]"},
		{"uid without entry, gid given", config.Global{UID: 54321, GID: 54321}, true, "54321 54321 [54321]"},
		{"name wins over uid", config.Global{User: "nobody", UID: 4}, true, "65534 65534 [65534]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok, err := wantedIdentity(&tt.g)
			if err != nil || ok != tt.ok {
				t.Fatalf("ok %v err %v", ok, err)
			}
			if got := fmt.Sprint(id.UID, " ", id.GID, " ", id.Groups); ok && got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestPrivilegeDropRefusedWithCgo: a cgo build cannot change every
// thread's capabilities, so started as root with `user nobody` it stops
// instead of running on as root.
func TestPrivilegeDropRefusedWithCgo(t *testing.T) {
	testenv.NeedRoot(t)
	bin := testenv.VardeBinary(t)
	if out, _ := exec.Command("go", "version", "-m", bin).Output(); !strings.Contains(string(out), "CGO_ENABLED=1") {
		t.Skip("the test binary is built without cgo")
	}
	cfg := filepath.Join(t.TempDir(), "h.cfg")
	if err := os.WriteFile(cfg, []byte(privdropConfig("", testenv.FreePort(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, logPath := testenv.Start(t, bin, "run", "-f", cfg)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		logs, _ := os.ReadFile(logPath)
		if err == nil || !asExit(err, &ee) || ee.Sys().(syscall.WaitStatus).ExitStatus() != 1 {
			t.Fatalf("want exit status 1, got %v\n%s", err, logs)
		}
		if !strings.Contains(string(logs), "built with cgo") {
			t.Fatalf("no cgo explanation in:\n%s", logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("varde kept running as root")
	}
}

func asExit(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}
