package generation

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/testenv"
)

// TestRaiseFDLimit: what each limit situation gives, with the system
// calls replaced: nothing when the limit suffices or can be raised; an
// error (run) or a warning (check) by default; a warning with `no
// strict-limits`.
func TestRaiseFDLimit(t *testing.T) {
	saved := rlimits
	defer func() { rlimits = saved }()
	cases := []struct {
		name          string
		global        string
		cur, max      uint64
		canRaise      bool
		check         bool
		wantSev       diag.Severity
		wantDiag, set bool
	}{
		{"enough", "maxconn 100", 100000, 100000, false, false, 0, false, false},
		{"no maxconn", "", 10, 10, false, false, 0, false, false},
		{"raised", "maxconn 100", 10, 10, true, false, 0, false, true},
		{"strict by default: run refuses", "maxconn 100", 10, 50, false, false, diag.Error, true, false},
		{"strict by default: check warns", "maxconn 100", 10, 50, false, true, diag.Warning, true, false},
		{"explicit strict-limits", "maxconn 100\n    strict-limits", 10, 50, false, false, diag.Error, true, false},
		{"no strict-limits warns", "maxconn 100\n    no strict-limits", 10, 50, false, false, diag.Warning, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var setTo []uint64
			rlimits.get = func() (uint64, uint64, error) { return c.cur, c.max, nil }
			rlimits.set = func(cur, max uint64) error {
				if max > c.max && !c.canRaise {
					return fmt.Errorf("EPERM")
				}
				setTo = append(setTo, cur)
				return nil
			}
			d := &diag.List{}
			cfg := config.Parse("h.cfg", []byte("global\n    "+c.global+"\nfrontend f\n    bind 127.0.0.1:1\n"), nil, d)
			d.Reset()
			raiseFDLimit(&config.Set{HAProxy: cfg}, d, c.check)
			items := d.Items()
			if c.wantDiag != (len(items) == 1) || (c.wantDiag && items[0].Severity != c.wantSev) {
				t.Fatalf("diagnostics %v, want one of severity %v: %v", items, c.wantSev, c.wantDiag)
			}
			if c.wantDiag && !strings.Contains(items[0].Message, "Cannot raise FD limit to") {
				t.Errorf("message %q, want HAProxy's", items[0].Message)
			}
			if c.set != (len(setTo) > 0 && setTo[0] == uint64(fdNeed(cfg))) {
				t.Errorf("set %v, want a raise to %d: %v", setTo, fdNeed(cfg), c.set)
			}
			if c.wantDiag && (len(setTo) != 1 || setTo[0] != c.max) {
				t.Errorf("set %v, want the soft limit raised to the hard one (%d) as HAProxy", setTo, c.max)
			}
		})
	}
}

// TestStrictLimitsAgainstHAProxy starts HAProxy and varde as an
// unprivileged user under a hard descriptor limit of 100 with maxconn
// 1000: both refuse to start by default, both run with `no strict-limits`.
func TestStrictLimitsAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	testenv.NeedRoot(t)
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	prlimit := testenv.LookTool(t, "prlimit", "util-linux")
	setpriv := testenv.LookTool(t, "setpriv", "util-linux")
	bin := testenv.VardeBinary(t)
	dir, err := os.MkdirTemp("", "strictlimits")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, strict := range []string{"", "    no strict-limits\n"} {
		port := testenv.FreePort(t)
		cfg := filepath.Join(dir, fmt.Sprintf("h%d.cfg", port))
		text := fmt.Sprintf("global\n    maxconn 1000\n%sdefaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend f\n    bind 127.0.0.1:%d\n    default_backend b\nbackend b\n    server s 127.0.0.1:1\n", strict, port)
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, lb := range [][]string{{hap, "-db", "-f", cfg}, {bin, "run", "-f", cfg}} {
			args := append([]string{"--nofile=100:100", setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"}, lb...)
			cmd := exec.Command(prlimit, args...)
			out, _ := os.Create(filepath.Join(dir, "out"))
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var exited bool
			var werr error
			select {
			case werr = <-done:
				exited = true
			case <-time.After(2 * time.Second):
				cmd.Process.Kill()
				<-done
			}
			out.Close()
			log, _ := os.ReadFile(out.Name())
			name := filepath.Base(lb[0])
			if strict == "" {
				if !exited || werr == nil || !strings.Contains(string(log), "Cannot raise FD limit to") {
					t.Errorf("%s with strict-limits: exited %v (%v), want a refusal:\n%s", name, exited, werr, log)
				}
			} else if exited {
				t.Errorf("%s with no strict-limits exited (%v), want it running:\n%s", name, werr, log)
			}
		}
	}
}
