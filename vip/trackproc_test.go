package vip

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/testenv"
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

// TestWarnHAProxyProcesses: a vrrp_track_process on haproxy (by name or
// by path) warns at its process line with the effect and the track_varde
// replacement; one on another process does not.
func TestWarnHAProxyProcesses(t *testing.T) {
	const inst = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        198.18.0.10\n    }\n    track_process {\n        chk %s\n    }\n}\n"
	tests := []struct {
		name, block, ref string
		wantLine         int
		want             []string
	}{
		{"by name, default weight", "vrrp_track_process chk {\n    process haproxy\n}\n", "", 2, []string{"puts VI_1 in FAULT", "track_varde { listeners }", "named varde"}},
		{"by path, weighted", "vrrp_track_process chk {\n    weight -30\n    process /usr/sbin/haproxy -f /etc/haproxy/haproxy.cfg\n}\n", "", 3, []string{"lowers VI_1's priority by 30", "track_varde { listeners weight -30 }"}},
		{"instance weight", "vrrp_track_process chk {\n    process haproxy\n}\n", "weight 10", 2, []string{"VI_1 never gets its +10", "listeners weight 10"}},
		{"other process", "vrrp_track_process chk {\n    process nginx\n}\n", "", 0, nil},
		{"haproxy-exp", "vrrp_track_process chk {\n    process haproxy-exp\n}\n", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d diag.List
			kc := keepalived.Parse("k.conf", []byte(tt.block+fmt.Sprintf(inst, tt.ref)), &d)
			kc.Validate(&d)
			if d.HasErrors() {
				t.Fatalf("parse: %v", d.Err())
			}
			d.Reset()
			warnHAProxyProcesses(kc, &d)
			items := d.Items()
			if tt.wantLine == 0 {
				if len(items) != 0 {
					t.Fatalf("unexpected: %v", items)
				}
				return
			}
			if len(items) != 1 || items[0].Severity != diag.Warning || items[0].Pos.Line != tt.wantLine {
				t.Fatalf("got %v, want one warning at line %d", items, tt.wantLine)
			}
			for _, w := range tt.want {
				if !strings.Contains(items[0].String(), w) {
					t.Errorf("%s\nlacks %q", items[0].String(), w)
				}
			}
		})
	}
}

// TestProcScannerRegistration: the scanner runs while an instance tracks
// a process (a scan is there at once), stops with the last one, and a
// reload's swap (register the new, release the old) keeps it running.
func TestProcScannerRegistration(t *testing.T) {
	in := &keepalived.Instance{TrackProcesses: []keepalived.TrackProcessRef{{Name: "p", Process: &keepalived.Process{Path: "x", FullCommand: true}}}}
	a := registerProcs(in)
	if procScan.last.Load() == nil {
		t.Fatal("no scan after the first registration")
	}
	b := registerProcs(in) // the reloaded instance
	a.release()
	if procScan.last.Load() == nil {
		t.Fatal("scanner stopped while an instance still tracks a process")
	}
	b.release()
	procScan.mu.Lock()
	users, cmd := procScan.users, procScan.cmdline
	procScan.mu.Unlock()
	if users != 0 || cmd != 0 || procScan.last.Load() != nil {
		t.Fatalf("after the last release: users %d, cmdline users %d, scan kept %v", users, cmd, procScan.last.Load() != nil)
	}
	if reg := registerProcs(&keepalived.Instance{}); reg.on {
		t.Fatal("an instance without track_process registered")
	}
}

// TestRouteLost: a master whose tracked virtual route was deleted steps
// down with a priority-0 advert and removes its VIPs (and routes), as
// keepalived 2.2.7; a backup ignores the event.
func TestRouteLost(t *testing.T) {
	now := time.Unix(1000, 0)
	m := NewMachine(Params{Version: 2, Priority: 255, Interval: 100, Preempt: true})
	m.Handle(now, Event{Kind: EvStartup})
	if m.State() != Master {
		t.Fatalf("state %v, want MASTER", m.State())
	}
	acts := m.Handle(now, Event{Kind: EvRouteLost})
	var zero, del bool
	for _, a := range acts {
		zero = zero || (a.Kind == ActSendAdvert && a.Priority == 0)
		del = del || (a.Kind == ActDelVIPs && zero)
	}
	if m.State() != Backup || !zero || !del {
		t.Fatalf("state %v, priority-0 advert %v, VIPs removed after it %v: %+v", m.State(), zero, del, acts)
	}
	if acts := m.Handle(now, Event{Kind: EvRouteLost}); len(acts) != 0 {
		t.Fatalf("a backup acted on a lost route: %+v", acts)
	}
}

// TestProcScannerStaleScan: a scan finished by a loop that was
// unregistered meanwhile (even if a new registration started a new loop)
// is never published, and concurrent register/release (run with -race)
// ends with no scan kept.
func TestProcScannerStaleScan(t *testing.T) {
	procScan.register(false)
	procScan.mu.Lock()
	old := procScan.stop
	procScan.mu.Unlock()
	procScan.unregister(false)
	stale := []proc{{comm: "stale"}}
	if procScan.publish(old, stale) || procScan.last.Load() != nil {
		t.Fatal("a stopped loop's scan was published")
	}
	procScan.register(false)
	if procScan.publish(old, stale) {
		t.Fatal("the old loop's scan replaced the new loop's")
	}
	if l := procScan.last.Load(); l == nil || (len(*l) == 1 && (*l)[0].comm == "stale") {
		t.Fatal("the new loop's scan is missing or stale")
	}
	procScan.unregister(false)

	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				procScan.register(false)
				time.Sleep(ProcScanInterval / 4)
				procScan.unregister(false)
			}
		}()
	}
	wg.Wait()
	time.Sleep(ProcScanInterval * 3 / 2) // any loop still scanning finishes
	if procScan.last.Load() != nil {
		t.Fatal("a scan was left behind after the last release")
	}
}

// TestScanProcsSeesExec: the scan caches a process's command line, but a
// process that execs another command line under the same PID and comm
// (sh exec'ing sh) is read again: the old one no longer matches and the
// new one does.
func TestScanProcsSeesExec(t *testing.T) {
	mark := fmt.Sprintf("m%d", time.Now().UnixNano()%1000000)
	dir := t.TempDir()
	gate := filepath.Join(dir, "gate")
	c := exec.Command("sh", "-c", "while [ ! -e "+gate+" ]; do sleep 0.02; done; exec sh -c 'sleep 1000; :' "+mark, "first"+mark)
	if err := c.Start(); err != nil {
		t.Skip("no sh:", err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	before := &keepalived.Process{Path: "sh", Params: []string{"-c", "while [ ! -e " + gate + " ]; do sleep 0.02; done; exec sh -c 'sleep 1000; :' " + mark, "first" + mark}, FullCommand: true, ParamMatch: "exact"}
	after := &keepalived.Process{Path: "sh", Params: []string{"-c", "sleep 1000; :", mark}, FullCommand: true, ParamMatch: "exact"}
	err := testenv.Until(2*time.Second, 20*time.Millisecond, func() error {
		if n := countProcs(before, scanProcs(true)); n != 1 {
			return fmt.Errorf("found %d before the exec", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err = testenv.Until(2*time.Second, 20*time.Millisecond, func() error {
		list := scanProcs(true)
		if n, m := countProcs(before, list), countProcs(after, list); n != 0 || m != 1 {
			return fmt.Errorf("after the exec: old command line found %d times, new %d", n, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestProcEffect: keepalived 2.2.7's table (vrrp_track.c) for a tracked
// process, reverse changing the priority the opposite way.
func TestProcEffect(t *testing.T) {
	tests := []struct {
		up, reverse bool
		w, delta    int
		fault       bool
	}{
		{true, false, 10, 10, false},
		{false, false, 10, 0, false},
		{true, true, 10, -10, false},
		{false, true, 10, 0, false},
		{false, false, -10, -10, false},
		{true, false, -10, 0, false},
		{false, true, -10, 10, false},
		{true, true, -10, 0, false},
		{false, false, 0, 0, true},
		{true, false, 0, 0, false},
		{true, true, 0, 0, true},
		{false, true, 0, 0, false},
	}
	for _, tt := range tests {
		d, f := procEffect(tt.up, tt.w, tt.reverse)
		if d != tt.delta || f != tt.fault {
			t.Errorf("up=%v weight %d reverse=%v: delta %d fault %v, want %d %v", tt.up, tt.w, tt.reverse, d, f, tt.delta, tt.fault)
		}
	}
}
