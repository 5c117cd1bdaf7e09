package vip

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config/keepalived"
)

// TestProcessMatch is keepalived's comparison (track_process.c): comm
// exactly without parameters; argv[0] exactly and the parameters exactly,
// as a prefix (partial) or with the last one a prefix (initial) with them.
func TestProcessMatch(t *testing.T) {
	cmd := func(args ...string) []byte {
		var b []byte
		for _, a := range args {
			b = append(append(b, a...), 0)
		}
		return b
	}
	p := proc{comm: "haproxy", cmdline: cmd("/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg", "-Ws")}
	tests := []struct {
		name string
		tp   keepalived.Process
		want bool
	}{
		{"comm", keepalived.Process{Path: "haproxy"}, true},
		{"comm is exact, not a regexp", keepalived.Process{Path: "hap"}, false},
		{"comm does not match the path", keepalived.Process{Path: "/usr/sbin/haproxy"}, false},
		{"full_command: argv[0]", keepalived.Process{Path: "/usr/sbin/haproxy", FullCommand: true}, true},
		{"exact params", keepalived.Process{Path: "/usr/sbin/haproxy", FullCommand: true, ParamMatch: "exact", Params: []string{"-f", "/etc/haproxy/haproxy.cfg", "-Ws"}}, true},
		{"exact params, one missing", keepalived.Process{Path: "/usr/sbin/haproxy", FullCommand: true, ParamMatch: "exact", Params: []string{"-f", "/etc/haproxy/haproxy.cfg"}}, false},
		{"param_match alone: no params allowed", keepalived.Process{Path: "/usr/sbin/haproxy", FullCommand: true, ParamMatch: "exact"}, false},
		{"partial", keepalived.Process{Path: "/usr/sbin/haproxy", FullCommand: true, ParamMatch: "partial", Params: []string{"-f"}}, true},
		{"partial is whole words", keepalived.Process{Path: "/usr/sbin/haproxy", FullCommand: true, ParamMatch: "partial", Params: []string{"-f", "/etc/haproxy"}}, false},
		{"initial", keepalived.Process{Path: "/usr/sbin/haproxy", FullCommand: true, ParamMatch: "initial", Params: []string{"-f", "/etc/haproxy"}}, true},
		{"initial, earlier word differs", keepalived.Process{Path: "/usr/sbin/haproxy", FullCommand: true, ParamMatch: "initial", Params: []string{"-x", "/etc/haproxy"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matches(&tt.tp, p); got != tt.want {
				t.Errorf("matches = %v, want %v", got, tt.want)
			}
		})
	}
	if matches(&keepalived.Process{Path: "x", FullCommand: true}, proc{comm: "x"}) {
		t.Errorf("a process without cmdline (kernel thread, zombie) matched a full_command")
	}
}

// TestProcessDelays: a change of verdict counts once it lasted
// terminate_delay (down) or fork_delay (up); the first scan decides at once.
func TestProcessDelays(t *testing.T) {
	tp := &keepalived.Process{ForkDelay: 2 * time.Second, TermDelay: time.Second}
	t0 := time.Unix(1000, 0)
	var s procState
	steps := []struct {
		at   time.Duration
		raw  bool
		want bool
	}{
		{0, true, true}, {100 * time.Millisecond, false, true}, {900 * time.Millisecond, false, true},
		{1100 * time.Millisecond, false, false}, {1200 * time.Millisecond, true, false},
		{2 * time.Second, false, false}, {2100 * time.Millisecond, true, false},
		{4 * time.Second, true, false}, {4100 * time.Millisecond, true, true},
	}
	for _, st := range steps {
		s.observe(st.raw, t0.Add(st.at), tp)
		if s.up != st.want {
			t.Fatalf("at %v raw %v: up %v, want %v", st.at, st.raw, s.up, st.want)
		}
	}
}

// TestScanProcs finds a process the test owns by its command line and
// by its name, and no longer once it is killed and reaped.
func TestScanProcs(t *testing.T) {
	arg := fmt.Sprintf("%d.%d", 900000+os.Getpid()%10000, time.Now().UnixNano()%1000)
	c := exec.Command("sleep", arg)
	if err := c.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	byCmd := &keepalived.Process{Path: "sleep", Params: []string{arg}, FullCommand: true, ParamMatch: "exact"}
	if n := countProcs(byCmd, scanProcs(true)); n != 1 {
		t.Fatalf("found %d processes `sleep %s`, want 1", n, arg)
	}
	if n := countProcs(&keepalived.Process{Path: "sleep"}, scanProcs(false)); n < 1 {
		t.Fatalf("found no process named sleep")
	}
	c.Process.Kill()
	c.Wait()
	if n := countProcs(byCmd, scanProcs(true)); n != 0 {
		t.Fatalf("found %d after kill", n)
	}
}
