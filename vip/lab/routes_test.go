package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// routesTop and routesInst exercise every route and rule shape varde
// builds; 198.19.0.0/16 is inside the lab's 198.18.0.0/15.
const routesTop = `static_ipaddress {
    198.19.100.1/32 dev eth0
}
static_routes {
    198.19.1.0/24 via 198.18.0.1 dev eth0
    blackhole 198.19.2.0/24
    198.19.6.0/24 dev eth0 scope link table 101 metric 3
}
static_rules {
    from 198.19.1.0/24 table 101 priority 100
}
`

const routesInst = `    virtual_ipaddress_excluded {
        198.19.200.1/32 dev eth0
    }
    virtual_routes {
        198.19.3.0/24 via 198.18.0.1 dev eth0 metric 7
        198.19.4.0/24 dev eth0 table 100 src 198.18.0.100
        unreachable 198.19.5.0/24 table 100
        src 198.18.0.100 to 198.19.7.0/24 via 198.18.0.1
    }
    virtual_rules {
        to 198.19.3.0/24 table 100 priority 101
        from 198.19.7.0/24 iif eth0 table 100 preference 102
    }
`

// routing is what a node has of 198.19.0.0/16 (routes of every table,
// addresses) and its policy rules other than the kernel's defaults, one
// per line, sorted.
func routing(t *testing.T, n *Node) string {
	t.Helper()
	s, err := routingOf(n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// routingOf is routing for goroutines other than the test's.
func routingOf(n *Node) (string, error) {
	var lines []string
	for _, args := range [][]string{{"-4", "route", "show", "table", "all"}, {"-4", "-o", "addr", "show"}, {"-4", "rule", "show"}} {
		out, err := exec.Command("ip", append([]string{"-n", n.NS}, args...)...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("ip %v: %v\n%s", args, err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			l = strings.Join(strings.Fields(l), " ")
			switch {
			case args[1] == "rule" && l != "" && !strings.HasPrefix(l, "0:") && !strings.HasPrefix(l, "32766:") && !strings.HasPrefix(l, "32767:"):
			case strings.Contains(l, "198.19."):
			default:
				continue
			}
			if i := strings.Index(l, " valid_lft"); i > 0 {
				l = l[:i]
			}
			if i := strings.Index(l, "inet "); i > 0 {
				l = l[i:] // addresses: drop the interface index
			}
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n"), nil
}

// waitRouting waits until the node's routing satisfies ok (bounded).
func waitRouting(t *testing.T, n *Node, what string, ok func(string) bool) string {
	t.Helper()
	var got string
	err := testenv.Until(6*time.Second, 20*time.Millisecond, func() error {
		if got = routing(t, n); !ok(got) {
			return fmt.Errorf("%s: routing is\n%s", what, got)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, n.lab.Logs())
	}
	return got
}

// TestRoutesWithKeepalived is the differential test of static_* and
// virtual_* routing: the same configuration runs under keepalived 2.2.7
// and under varde (priority 200, a keepalived peer at 150 on VRID 51),
// and the node's routes, rules and addresses are compared at each step:
// MASTER (static and virtual ones), BACKUP after a tracked file lowers
// the priority to 140 (static ones only), and after a graceful stop.
// The master's adverts list the VIP only, not the excluded address.
func TestRoutesWithKeepalived(t *testing.T) {
	testenv.LookTool(t, "keepalived", "keepalived")
	got := map[string][3]string{}
	for _, tool := range []string{"keepalived", "varde"} {
		t.Run(tool, func(t *testing.T) {
			got[tool] = routesRun(t, tool)
		})
	}
	ka, va := got["keepalived"], got["varde"]
	if t.Failed() {
		return
	}
	for i, phase := range []string{"master", "backup", "stopped"} {
		if ka[i] != va[i] {
			t.Errorf("%s: keepalived has\n%s\nvarde has\n%s", phase, ka[i], va[i])
		}
	}
}

func routesRun(t *testing.T, tool string) (snaps [3]string) {
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	load := filepath.Join(l.Dir, "load")
	write := func(s string) {
		if err := os.WriteFile(load, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("0\n")
	rec := l.Record()
	top := routesTop + fmt.Sprintf("track_file load {\n    file %s\n    weight -60\n}\n", load)
	p := start(n1, tool, inst{prio: 200, top: top, extra: routesInst + "    track_file {\n        load\n    }\n"})
	start(n2, "keepalived", inst{prio: 150})
	l.Settle(vip, 10*time.Second, time.Second, "n1")

	virtual := []string{"198.19.3.0/24", "198.19.4.0/24", "198.19.5.0/24", "198.19.7.0/24", "198.19.200.1", "to 198.19.3.0/24", "from 198.19.7.0/24"}
	static := []string{"198.19.1.0/24", "blackhole 198.19.2.0/24", "198.19.6.0/24", "198.19.100.1", "from 198.19.1.0/24"}
	hasAll := func(s string, want []string) bool {
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}
	hasNone := func(s string, want []string) bool {
		for _, w := range want {
			if strings.Contains(s, w) {
				return false
			}
		}
		return true
	}
	snaps[0] = waitRouting(t, n1, "master", func(s string) bool { return hasAll(s, virtual) && hasAll(s, static) })
	ads := rec.Adverts(n1.Addr, 51, time.Now().Add(-time.Minute), time.Now())
	if len(ads) == 0 {
		t.Fatalf("no advert from n1 recorded")
	}
	for _, a := range ads {
		if a.Priority > 0 && a.NAddr != 1 {
			t.Fatalf("%s's advert lists %d addresses, want 1 (the excluded VIP is not advertised)", tool, a.NAddr)
		}
	}

	write("1\n") // 200 - 60 = 140 < 150: the peer preempts, n1 goes BACKUP
	l.WaitHolders(vip, 6*time.Second, "n2")
	snaps[1] = waitRouting(t, n1, "backup", func(s string) bool { return hasNone(s, virtual) && hasAll(s, static) })

	p.Term()
	// keepalived removes its static addresses, routes and rules too.
	snaps[2] = waitRouting(t, n1, "stopped", func(s string) bool { return hasNone(s, virtual) && hasNone(s, static) })
	return snaps
}

// TestStaticRoutesReload: a SIGHUP reload that drops one static route and
// adds another installs the new one and removes only the dropped one (the
// kept one is never removed: polled throughout); a handover-free SIGTERM
// then removes every static route. The instance is kept by the reload.
func TestStaticRoutesReload(t *testing.T) {
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	top := func(routes ...string) string {
		return "static_routes {\n    " + strings.Join(routes, "\n    ") + "\n}\n"
	}
	keep, drop, add := "198.19.1.0/24 via 198.18.0.1 dev eth0", "blackhole 198.19.2.0/24", "198.19.9.0/24 dev eth0 table 101"
	va := start(n1, "varde", inst{prio: 200, top: top(keep, drop)})
	start(n2, "keepalived", inst{prio: 150})
	l.Settle(vip, 10*time.Second, time.Second, "n1")
	waitRouting(t, n1, "started", func(s string) bool {
		return strings.Contains(s, "198.19.1.0/24") && strings.Contains(s, "198.19.2.0/24")
	})
	stop := make(chan struct{})
	lost := make(chan string, 1)
	go func() {
		for {
			select {
			case <-stop:
				close(lost)
				return
			default:
			}
			if s, err := routingOf(n1); err == nil && !strings.Contains(s, "198.19.1.0/24 via") {
				lost <- s
				close(lost)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	n1.Conf("varde.conf", inst{prio: 200, top: top(keep, add)}.conf(n1.Name))
	va.Signal(syscall.SIGHUP)
	waitCount(t, va, reloadDone, 1, 10*time.Second)
	waitRouting(t, n1, "reloaded", func(s string) bool {
		return strings.Contains(s, "198.19.9.0/24") && !strings.Contains(s, "198.19.2.0/24")
	})
	close(stop)
	if s, ok := <-lost; ok {
		t.Fatalf("the kept static route disappeared during the reload:\n%s", s)
	}
	if !strings.Contains(va.Log(), "kept across the reload") {
		t.Errorf("the instance was not kept by the reload")
	}
	l.Settle(vip, time.Second, time.Second, "n1")
	va.Term()
	waitRouting(t, n1, "stopped", func(s string) bool { return !strings.Contains(s, "198.19.") })
}

// TestVirtualRouteDeletedWithKeepalived: keepalived 2.2.7 tracks a
// virtual route written with a dev: deleted by hand on the master, the
// instance steps down (priority-0 advert, routes and VIPs removed) and,
// being the higher priority, preempts back and re-installs it. The same
// for varde; a route without dev is not tracked by either (its deletion
// changes nothing: no priority-0 advert). A deleted virtual rule does the
// same as a tracked route in both.
func TestVirtualRouteDeletedWithKeepalived(t *testing.T) {
	testenv.LookTool(t, "keepalived", "keepalived")
	routes := "    virtual_routes {\n        198.19.3.0/24 via 198.18.0.1 dev eth0\n        198.19.4.0/24 via 198.18.0.1\n    }\n" +
		"    virtual_rules {\n        from 198.19.7.0/24 table 100 priority 102\n    }\n"
	for _, tool := range []string{"keepalived", "varde"} {
		t.Run(tool, func(t *testing.T) {
			l := New(t, 2)
			n1, n2 := l.Nodes[0], l.Nodes[1]
			rec := l.Record()
			p := start(n1, tool, inst{prio: 200, extra: routes})
			start(n2, "keepalived", inst{prio: 150})
			l.Settle(vip, 10*time.Second, time.Second, "n1")
			waitRouting(t, n1, "master", func(s string) bool {
				return strings.Contains(s, "198.19.3.0/24") && strings.Contains(s, "198.19.4.0/24")
			})

			t0 := time.Now()
			run(t, "ip", "-n", n1.NS, "route", "del", "198.19.4.0/24")
			time.Sleep(1500 * time.Millisecond)
			if z := rec.ZeroPriority(n1.Addr, 51, t0, time.Now()); z != 0 {
				t.Fatalf("%s: %d priority-0 adverts after deleting an untracked route (no dev)", tool, z)
			}

			t1 := time.Now()
			run(t, "ip", "-n", n1.NS, "route", "del", "198.19.3.0/24")
			err := testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
				if rec.ZeroPriority(n1.Addr, 51, t1, time.Now()) == 0 {
					return fmt.Errorf("no priority-0 advert from n1")
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v after deleting the tracked route\n%s", tool, err, l.Logs())
			}
			l.WaitHolders(vip, 6*time.Second, "n1")
			waitRouting(t, n1, "master again", func(s string) bool {
				return strings.Contains(s, "198.19.3.0/24") && strings.Contains(s, "198.19.4.0/24")
			})

			// The same for a virtual rule.
			l.Settle(vip, 5*time.Second, time.Second, "n1")
			t2 := time.Now()
			run(t, "ip", "-n", n1.NS, "rule", "del", "priority", "102")
			err = testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
				if rec.ZeroPriority(n1.Addr, 51, t2, time.Now()) == 0 {
					return fmt.Errorf("no priority-0 advert from n1")
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v after deleting the virtual rule\n%s", tool, err, l.Logs())
			}
			l.WaitHolders(vip, 6*time.Second, "n1")
			waitRouting(t, n1, "rule back", func(s string) bool { return strings.Contains(s, "102: from 198.19.7.0/24") })
			if tool == "varde" {
				for _, w := range []string{"virtual route 198.19.3.0/24 via 198.18.0.1 dev eth0 was removed", "virtual rule 102: from 198.19.7.0/24 lookup 100 was removed"} {
					if !strings.Contains(p.Log(), w) {
						t.Errorf("varde did not log %q", w)
					}
				}
			}
		})
	}
}

// TestTrackedRouteLostInBurst: the tracked route deleted at the end of a
// burst of 100 unrelated route deletions (container or DHCP churn) still
// makes the master step down: the burst cannot fill the instance's queue
// and hide it.
func TestTrackedRouteLostInBurst(t *testing.T) {
	routes := "    virtual_routes {\n        198.19.3.0/24 via 198.18.0.1 dev eth0\n    }\n"
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	rec := l.Record()
	start(n1, "varde", inst{prio: 200, extra: routes})
	start(n2, "keepalived", inst{prio: 150})
	l.Settle(vip, 10*time.Second, time.Second, "n1")
	waitRouting(t, n1, "master", func(s string) bool { return strings.Contains(s, "198.19.3.0/24") })

	var add, del strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&add, "route add 10.77.%d.0/24 via 198.18.0.1 dev eth0\n", i)
		fmt.Fprintf(&del, "route del 10.77.%d.0/24\n", i)
	}
	del.WriteString("route del 198.19.3.0/24\n")
	batch := func(name, cmds string) {
		f := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(f, []byte(cmds), 0o600); err != nil {
			t.Fatal(err)
		}
		run(t, "ip", "-n", n1.NS, "-batch", f)
	}
	batch("add", add.String())
	t0 := time.Now()
	batch("del", del.String())
	err := testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
		if rec.ZeroPriority(n1.Addr, 51, t0, time.Now()) == 0 {
			return fmt.Errorf("no priority-0 advert from n1")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v after the burst ending with the tracked route\n%s", err, l.Logs())
	}
	l.WaitHolders(vip, 6*time.Second, "n1")
	waitRouting(t, n1, "master again", func(s string) bool { return strings.Contains(s, "198.19.3.0/24") })
}
