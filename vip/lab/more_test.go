package lab

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
	vipm "github.com/varde-lb/varde/vip"
)

// TestMain doubles as the track_varde helper: re-executed inside a node with
// VIP_LAB_HELPER set, the test binary runs a vip.Manager whose BackendHealth
// reports backend B down while the file DIR/B.down exists.
func TestMain(m *testing.M) {
	if os.Getenv("VIP_LAB_GEN") != "" {
		os.Exit(genMain(os.Args[len(os.Args)-1]))
	}
	if dir := os.Getenv("VIP_LAB_HELPER"); dir != "" {
		os.Exit(helperMain(dir, os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

type fileHealth struct{ dir string }

func (h fileHealth) AllDown(b string) bool {
	_, err := os.Stat(filepath.Join(h.dir, b+".down"))
	return err == nil
}
func (h fileHealth) ListenersUp() bool { return true }

func helperMain(dir, conf string) int {
	set, d := config.LoadFiles([]string{conf}, nil)
	if d.HasErrors() {
		d.Write(os.Stderr, true)
		return 1
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	m, err := vipm.New(set.Keepalived, vipm.Options{Logger: log, Health: fileHealth{dir}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestNoPreempt(t *testing.T) {
	t.Parallel()
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	start(n2, "varde", inst{version: 3, prio: 150, interval: "0.2", extra: "    nopreempt"})
	l.Settle(vip, 5*time.Second, 200*time.Millisecond, "n2")
	start(n1, "varde", inst{version: 3, prio: 200, interval: "0.2", extra: "    nopreempt"})
	// With preemption n1 would take over within its down interval (0.64 s).
	l.Settle(vip, time.Second, 1500*time.Millisecond, "n2")
}

func TestUnicastWithKeepalived(t *testing.T) {
	t.Parallel()
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	uni := func(self, peer *Node) string {
		return fmt.Sprintf("    unicast_src_ip %s\n    unicast_peer {\n        %s\n    }", self.Addr, peer.Addr)
	}
	ka := start(n1, "keepalived", inst{version: 3, prio: 200, interval: "0.2", extra: uni(n1, n2)})
	va := start(n2, "varde", inst{version: 3, prio: 150, interval: "0.2", extra: uni(n2, n1)})
	l.Settle(vip, 5*time.Second, 500*time.Millisecond, "n1")
	ka.Term()
	l.WaitHolders(vip, 2*time.Second, "n2")
	ka2 := start(n1, "keepalived", inst{version: 3, prio: 200, interval: "0.2", extra: uni(n1, n2)})
	l.Settle(vip, 5*time.Second, 500*time.Millisecond, "n1")
	noMismatch(t, ka, ka2, va)
}

func TestTrackScript(t *testing.T) {
	t.Parallel()
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	flag := filepath.Join(l.Dir, "healthy")
	os.WriteFile(flag, nil, 0o644)
	script := fmt.Sprintf("vrrp_script chk {\n    script \"/usr/bin/test -e %s\"\n    interval 0.1\n    weight -100\n    fall 2\n    rise 2\n}\n", flag)
	start(n1, "varde", inst{version: 3, prio: 200, interval: "0.2", top: script, extra: "    track_script {\n        chk\n    }"})
	start(n2, "varde", inst{version: 3, prio: 150, interval: "0.2"})
	l.Settle(vip, 5*time.Second, 300*time.Millisecond, "n1")
	os.Remove(flag) // n1 drops to 100 < 150
	l.WaitHolders(vip, 3*time.Second, "n2")
	os.WriteFile(flag, nil, 0o644) // back to 200: preempts
	l.WaitHolders(vip, 3*time.Second, "n1")
}

// TestPartition cuts n2 off (carrier loss, then an isolation that keeps the
// carrier) and checks the segment heals to exactly one master.
func TestPartition(t *testing.T) {
	t.Parallel()
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	start(n1, "varde", inst{version: 3, prio: 200, interval: "0.2"})
	start(n2, "varde", inst{version: 3, prio: 150, interval: "0.2"})
	l.Settle(vip, 5*time.Second, 300*time.Millisecond, "n1")

	// Link down on the master: FAULT, the VIP moves.
	n1.SetLink(false)
	l.WaitHolders(vip, 2*time.Second, "n2")
	n1.SetLink(true)
	l.Settle(vip, 3*time.Second, 500*time.Millisecond, "n1")

	// Isolation with carrier: both become master, then heal to one.
	n1.SetIsolated(true)
	n2.SetIsolated(true)
	l.WaitHolders(vip, 2*time.Second, "n1", "n2")
	n1.SetIsolated(false)
	n2.SetIsolated(false)
	l.Settle(vip, 3*time.Second, 500*time.Millisecond, "n1")
}

// TestTrackVarde: the built-in tracker moves the VIP within one advert
// interval + 0.1 s of every server of the tracked backend being down.
func TestTrackVarde(t *testing.T) {
	t.Parallel()
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := inst{version: 2, prio: 200, interval: "1", extra: "    track_varde {\n        backend web\n    }"}
	p := n1.Conf("helper.conf", c.conf("n1"))
	n1.start("varde", "env", "VIP_LAB_HELPER="+l.Dir, self, "-test.run=^$", p)
	start(n2, "varde", inst{version: 2, prio: 150, interval: "1"})
	l.Settle(vip, 8*time.Second, 1500*time.Millisecond, "n1")
	t0 := time.Now()
	os.WriteFile(filepath.Join(l.Dir, "web.down"), nil, 0o644)
	l.WaitHolders(vip, 5*time.Second, "n2")
	if d := time.Since(t0); d > 1100*time.Millisecond {
		t.Errorf("VIP moved %v after the backend went down, budget 1.1 s", d)
	} else {
		t.Logf("VIP moved %v after the backend went down", d)
	}
	os.Remove(filepath.Join(l.Dir, "web.down"))
	l.WaitHolders(vip, 6*time.Second, "n1")
}

// TestTrackVardeEngine runs the real thing: `varde run -f haproxy.cfg -f
// keepalived.conf` on n1 with a health-checked backend server; when that
// server dies, the health check marks it down and track_varde moves the VIP.
func TestTrackVardeEngine(t *testing.T) {
	t.Parallel()
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	// The engine binds the VIP on the backup too; until its listeners use
	// IP_FREEBIND the namespace allows non-local binds.
	n1.NonLocalBind()
	backend := n1.start("demo-backend", demoBackend(t), "-listen", "127.0.0.1:9101", "-name", "b1")
	hcfg := n1.Conf("haproxy.cfg", `global
    maxconn 100
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 198.18.0.100:8080
    default_backend app
backend app
    server b1 127.0.0.1:9101 check inter 100ms fall 1 rise 1
`)
	kcfg := n1.Conf("keepalived.conf", inst{version: 2, prio: 200, interval: "1",
		extra: "    track_varde {\n        backend app\n    }"}.conf("n1"))
	n1.StartVarde(hcfg, kcfg)
	start(n2, "varde", inst{version: 2, prio: 150, interval: "1"})
	l.Settle(vip, 8*time.Second, 1500*time.Millisecond, "n1")
	t0 := time.Now()
	backend.Kill()
	// Check interval + timeout to mark it down, then one advert interval
	// + 0.1 s for the VIP (the backup's skew is 0.41 s).
	l.WaitHolders(vip, 5*time.Second, "n2")
	if d := time.Since(t0); d > 2500*time.Millisecond {
		t.Errorf("VIP moved %v after the only server died", d)
	} else {
		t.Logf("VIP moved %v after the only server died (check inter 100ms)", d)
	}
	n1.start("demo-backend", demoBackend(t), "-listen", "127.0.0.1:9101", "-name", "b1")
	l.WaitHolders(vip, 8*time.Second, "n1")
}

func demoBackend(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DEMO_BACKEND_BINARY"); p != "" {
		return p
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "demo-backend")
	if out, err := exec.Command("go", "build", "-o", p, filepath.Join(root, "cmd/demo-backend")).CombinedOutput(); err != nil {
		t.Fatalf("build demo-backend: %v\n%s", err, out)
	}
	return p
}

// TestSeedConfigs runs two of the seed articles' keepalived.conf files under
// varde unchanged, apart from the VIP moved into the lab's 198.18.0.0/24
// (the interface is eth0 in the lab as in the article).
func TestSeedConfigs(t *testing.T) {
	t.Parallel()
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	seed := func(n *Node, name string) string {
		b, err := os.ReadFile(filepath.Join(root, "examples/seeds", name))
		if err != nil {
			t.Skipf("seed example missing: %v", err)
		}
		return n.Conf(name, strings.ReplaceAll(string(b), "192.168.1.100", vip.String()))
	}
	n1.StartVarde(seed(n1, "article000-1-keepalived.conf")) // state MASTER, priority 101
	n2.StartVarde(seed(n2, "article000-2-keepalived.conf")) // state BACKUP, priority 100
	l.Settle(vip, 8*time.Second, 1500*time.Millisecond, "n1")
}

// TestMissingCapabilities: without CAP_NET_RAW and CAP_NET_ADMIN, varde
// refuses to start and names both.
func TestMissingCapabilities(t *testing.T) {
	t.Parallel()
	setpriv := testenv.LookTool(t, "setpriv", "util-linux")
	l := New(t, 1)
	n := l.Nodes[0]
	p := n.start("varde", setpriv, "--bounding-set", "-net_raw,-net_admin", vardeBinary(t), "run", "-f",
		n.Conf("keepalived.conf", inst{version: 2, prio: 100}.conf("n1")))
	if !p.wait(10 * time.Second) {
		t.Fatal("varde kept running without the capabilities")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{"CAP_NET_RAW", "CAP_NET_ADMIN"} {
		if !strings.Contains(p.Log(), want) {
			t.Errorf("error does not name %s:\n%s", want, p.Log())
		}
	}
}

// TestNotify: notify scripts get keepalived's arguments.
func TestNotify(t *testing.T) {
	t.Parallel()
	l := New(t, 1)
	n := l.Nodes[0]
	out := filepath.Join(l.Dir, "notify.out")
	script := filepath.Join(l.Dir, "notify.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" >> "+out+"\n"), 0o755)
	p := start(n, "varde", inst{version: 3, prio: 200, interval: "0.2",
		extra: fmt.Sprintf("    notify %s\n    notify_master \"%s master-only\"", script, script)})
	l.WaitHolders(vip, 5*time.Second, "n1")
	p.Term()
	want := []string{"INSTANCE VI_1 BACKUP 200", "INSTANCE VI_1 MASTER 200", "master-only", "INSTANCE VI_1 STOP 200"}
	err := testenv.Until(5*time.Second, 20*time.Millisecond, func() error {
		b, _ := os.ReadFile(out)
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				return fmt.Errorf("notify output %q lacks %q", b, w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
