package packaging

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// The unit runs varde as an unprivileged user with only the capabilities
// of its AmbientCapabilities= line. These tests run the packaged binary
// that way (setpriv: another uid, no groups, those capabilities as
// ambient, inheritable and bounding set, no_new_privs) in a network
// namespace of their own, with a configuration that needs all three: a
// frontend on port 80 and a VRRP instance holding a VIP on the
// namespace's loopback.

const unprivilegedUID = "64123" // no user on a Debian system has it

const privHAProxy = `global
    maxconn 100
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    retries 0
frontend web
    bind :80
    default_backend app
backend app
    server s1 127.0.0.1:1
`

const privVIP = "198.18.0.100"

const privKeepalived = `vrrp_instance VI_1 {
    state MASTER
    interface lo
    virtual_router_id 51
    priority 200
    advert_int 1
    virtual_ipaddress {
        ` + privVIP + `/32
    }
}
`

// unitCapabilities returns the unit's ambient capabilities, lower case
// without CAP_ (setpriv's spelling), and checks the bounding set is the same.
func unitCapabilities(t *testing.T, tree string) []string {
	t.Helper()
	var ambient, bounding string
	for _, l := range strings.Split(readFile(t, filepath.Join(tree, "lib/systemd/system/varde.service")), "\n") {
		if v, ok := strings.CutPrefix(l, "AmbientCapabilities="); ok {
			ambient = v
		}
		if v, ok := strings.CutPrefix(l, "CapabilityBoundingSet="); ok {
			bounding = v
		}
	}
	if ambient == "" || ambient != bounding {
		t.Fatalf("unit: AmbientCapabilities=%q, CapabilityBoundingSet=%q; want the same non-empty list", ambient, bounding)
	}
	var caps []string
	for _, c := range strings.Fields(ambient) {
		caps = append(caps, strings.ToLower(strings.TrimPrefix(c, "CAP_")))
	}
	return caps
}

var nsSeq atomic.Int32

// privNamespace makes a network namespace with loopback up.
func privNamespace(t *testing.T) string {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.LookTool(t, "ip", "iproute2")
	ns := fmt.Sprintf("vdeb%d-%d", os.Getpid()%100000, nsSeq.Add(1))
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	return ns
}

// asUnit returns the command line that runs argv in ns as the unit would:
// another uid and exactly caps.
func asUnit(ns string, caps []string, argv ...string) *exec.Cmd {
	set := "-all"
	for _, c := range caps {
		set += ",+" + c
	}
	args := []string{"netns", "exec", ns, "setpriv", "--reuid=" + unprivilegedUID, "--regid=" + unprivilegedUID,
		"--clear-groups", "--inh-caps=" + set, "--ambient-caps=" + set, "--bounding-set=" + set, "--no-new-privs"}
	return exec.Command("ip", append(args, argv...)...)
}

// privFiles writes both configurations where the unprivileged uid can
// read them, and makes the packaged binary reachable for it.
func privFiles(t *testing.T, tree string) (haproxyCfg, keepalivedConf string) {
	t.Helper()
	testenv.LookTool(t, "setpriv", "util-linux")
	for d := tree; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // TempDir's parent is 0700 too
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	haproxyCfg, keepalivedConf = filepath.Join(dir, "haproxy.cfg"), filepath.Join(dir, "keepalived.conf")
	for path, body := range map[string]string{haproxyCfg: privHAProxy, keepalivedConf: privKeepalived} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return haproxyCfg, keepalivedConf
}

func without(caps []string, drop string) []string {
	var out []string
	for _, c := range caps {
		if c != drop {
			out = append(out, c)
		}
	}
	return out
}

// TestUnitCapabilitiesSuffice: with exactly the unit's capabilities, as
// another user, `varde check` (ExecStartPre) passes and `varde run` binds
// port 80, holds the VIP, answers, and on SIGTERM releases the VIP and
// exits 0. Without any one of them, check or run fails and names it.
func TestUnitCapabilitiesSuffice(t *testing.T) {
	_, tree := builtDeb(t)
	caps := unitCapabilities(t, tree)
	if got := strings.Join(caps, " "); got != "net_bind_service net_raw net_admin" {
		t.Errorf("unit capabilities %q", got)
	}
	bin := filepath.Join(tree, "usr/sbin/varde")
	cfg, ka := privFiles(t, tree)

	t.Run("the unit's", func(t *testing.T) {
		ns := privNamespace(t)
		if out, err := asUnit(ns, caps, bin, "check", "-f", cfg, "-f", ka).CombinedOutput(); err != nil {
			t.Fatalf("check with the unit's capabilities: %v\n%s", err, out)
		}
		runHoldingVIP(t, ns, asUnit(ns, caps, bin, "run", "-f", cfg, "-f", ka), nil)
	})
	for _, tc := range []struct{ drop, want string }{
		{"net_raw", "CAP_NET_RAW"},
		{"net_admin", "CAP_NET_ADMIN"},
	} {
		t.Run("without "+tc.drop, func(t *testing.T) {
			ns := privNamespace(t)
			out, err := asUnit(ns, without(caps, tc.drop), bin, "check", "-f", cfg, "-f", ka).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("check without %s: %v, want a failure naming %s:\n%s", tc.drop, err, tc.want, out)
			}
		})
	}
	t.Run("without net_bind_service", func(t *testing.T) {
		ns := privNamespace(t)
		cmd := asUnit(ns, without(caps, "net_bind_service"), bin, "run", "-f", cfg, "-f", ka)
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatal("run without net_bind_service still running after 15s; want it to fail binding :80")
		}
		if err == nil || !strings.Contains(string(out), ":80") || !strings.Contains(string(out), "permission denied") {
			t.Errorf("run without net_bind_service: %v, want a failure to bind :80:\n%s", err, out)
		}
	})
}

// runHoldingVIP starts cmd, waits until the namespace holds the VIP and
// port 80 answers, runs meanwhile (if any), then stops varde with SIGTERM
// and wants the VIP gone and exit status 0. cmd may be varde under
// strace: the signal then goes to strace's child.
func runHoldingVIP(t *testing.T, ns string, cmd *exec.Cmd, meanwhile func()) {
	t.Helper()
	// A file, not a pipe: Wait must not wait for a survivor's stdout.
	logPath := filepath.Join(t.TempDir(), "varde.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	logs := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever is left of the group
		<-done
	}()
	holds := func() bool {
		out, _ := exec.Command("ip", "-n", ns, "-4", "addr", "show", "dev", "lo").CombinedOutput()
		return strings.Contains(string(out), " "+privVIP+"/32 ")
	}
	err = testenv.Until(10*time.Second, 50*time.Millisecond, func() error {
		if !holds() {
			return fmt.Errorf("VIP %s not on lo", privVIP)
		}
		out, err := exec.Command("ip", "netns", "exec", ns, "curl", "-s", "-m", "2", "-o", "/dev/null",
			"-w", "%{http_code}", "http://"+privVIP+":80/").Output()
		if err != nil || string(out) != "503" {
			return fmt.Errorf("GET http://%s:80/: %v %q (want 503: the only server is down)", privVIP, err, out)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs())
	}
	if meanwhile != nil {
		meanwhile()
	}
	pid := cmd.Process.Pid
	if filepath.Base(cmd.Path) == "strace" {
		kids := strings.Fields(readFile(t, fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)))
		if len(kids) != 1 {
			t.Fatalf("strace has children %q, want varde alone", kids)
		}
		fmt.Sscan(kids[0], &pid)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err // for the deferred wait
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logs())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after SIGTERM\n%s", logs())
	}
	if holds() {
		t.Errorf("VIP %s still on lo after a clean stop", privVIP)
	}
}

// TestUnitSyscallFilter runs the packaged binary as the unit would (the
// unit's user and capabilities, in its own namespace) under strace while
// it serves requests, checks health, holds a VIP, writes a log file and
// answers the admin socket, then stops; every system call it made must be
// allowed by the unit's SystemCallFilter= (expanded by systemd-analyze),
// or the filter would answer EPERM in production.
func TestUnitSyscallFilter(t *testing.T) {
	_, tree := builtDeb(t)
	testenv.LookTool(t, "strace", "strace")
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (.ci/install-deps installs it)")
	}
	allowed := unitSyscalls(t, tree)
	caps := unitCapabilities(t, tree)
	bin := filepath.Join(tree, "usr/sbin/varde")
	cfg, ka := privFiles(t, tree)
	dir := filepath.Dir(cfg)
	extra := "global\n    stats socket " + dir + "/admin.sock mode 666 level admin\n" +
		"    log file@" + dir + "/access.log anonymize ip 24,48 local0\n"
	body := strings.Replace(privHAProxy, "backend app\n", "backend app\n    option httpchk GET /\n", 1)
	body = strings.Replace(body, "server s1 127.0.0.1:1", "server s1 127.0.0.1:1 check inter 100", 1)
	body = strings.Replace(body, "defaults\n", "defaults\n    log global\n    option httplog\n", 1)
	if err := os.WriteFile(cfg, []byte(body+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // the unit's user writes the socket and log there
		t.Fatal(err)
	}
	ns := privNamespace(t)
	trace := filepath.Join(t.TempDir(), "trace")
	cmd := asUnit(ns, caps, bin, "run", "-f", cfg, "-f", ka)
	cmd.Args = append([]string{"strace", "-f", "-qq", "-o", trace}, cmd.Args...)
	cmd.Path, _ = exec.LookPath("strace")
	runHoldingVIP(t, ns, cmd, func() {
		for i := 0; i < 5; i++ {
			exec.Command("ip", "netns", "exec", ns, "curl", "-s", "-m", "2", "-o", "/dev/null", "http://127.0.0.1/").Run()
		}
		if out, err := exec.Command("ip", "netns", "exec", ns, bin, "ctl", "-s", dir+"/admin.sock", "show", "stat").CombinedOutput(); err != nil {
			t.Errorf("varde ctl show stat: %v\n%s", err, out)
		}
	})
	used := tracedSyscalls(t, trace, bin)
	if len(used) < 20 {
		t.Fatalf("strace saw %d system calls after exec of %s: %v", len(used), bin, used)
	}
	for _, sc := range used {
		if !allowed[sc] {
			t.Errorf("varde calls %s, which the unit's SystemCallFilter= refuses", sc)
		}
	}
	t.Logf("%d distinct system calls, all allowed: %s", len(used), strings.Join(used, " "))
}

// unitSyscalls expands the unit's SystemCallFilter= (an allow list of
// names and @groups) with systemd-analyze syscall-filter.
func unitSyscalls(t *testing.T, tree string) map[string]bool {
	t.Helper()
	var filter string
	for _, l := range strings.Split(readFile(t, filepath.Join(tree, "lib/systemd/system/varde.service")), "\n") {
		if v, ok := strings.CutPrefix(l, "SystemCallFilter="); ok {
			if strings.HasPrefix(v, "~") || filter != "" {
				t.Fatalf("SystemCallFilter=%s: this test expands one allow list only", v)
			}
			filter = v
		}
	}
	if filter == "" {
		t.Fatal("the unit has no SystemCallFilter=")
	}
	allowed := map[string]bool{}
	var expand func(name string)
	expand = func(name string) {
		if !strings.HasPrefix(name, "@") {
			allowed[name] = true
			return
		}
		for _, l := range strings.Split(run(t, "systemd-analyze", "syscall-filter", "--no-pager", name), "\n") {
			w := strings.TrimSpace(l)
			if strings.HasPrefix(l, " ") && w != "" && !strings.HasPrefix(w, "#") && !strings.Contains(w, " ") && w != name {
				expand(w)
			}
		}
	}
	for _, f := range strings.Fields(filter) {
		expand(f)
	}
	return allowed
}

// tracedSyscalls reads an strace -f log and returns the distinct system
// calls made after bin was executed (setpriv's own calls come before).
func tracedSyscalls(t *testing.T, trace, bin string) []string {
	t.Helper()
	name := regexp.MustCompile(`^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]`)
	seen := map[string]bool{}
	started := false
	for _, l := range strings.Split(readFile(t, trace), "\n") {
		if !started {
			started = strings.Contains(l, `execve("`+bin+`"`)
			continue
		}
		if m := name.FindStringSubmatch(l); m != nil && !strings.Contains(l, "+++") && !strings.Contains(l, "---") {
			seen[m[1]] = true
		}
	}
	var out []string
	for sc := range seen {
		out = append(out, sc)
	}
	sort.Strings(out)
	return out
}
