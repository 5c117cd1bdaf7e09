package lab

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

var benchFailover = flag.Bool("bench-failover", false, "run TestBenchFailover (make bench-vip)")
var benchRuns = flag.Int("bench-runs", 5, "runs per setting for TestBenchFailover")

// TestBenchFailover measures, for varde and for keepalived with the same
// settings, the time from the master's death (SIGKILL, or SIGTERM) to the
// VIP being held by the backup and answering pings from a client. The
// signal is sent right after the client sees one of the master's adverts,
// so a crash measures the whole Master_Down_Interval (the worst case) and
// both implementations are timed at the same phase. After a SIGKILL the
// dead node's copy of the VIP is removed at once, as if the node were gone.
func TestBenchFailover(t *testing.T) {
	if !*benchFailover {
		t.Skip("benchmark: run with make bench-vip (-args -bench-failover)")
	}
	type setting struct {
		name string
		c    inst
		iv   float64
		kill bool
	}
	settings := []setting{
		{"advert_int 1, kill -9", inst{version: 2, interval: "1"}, 1, true},
		{"advert_int 1, SIGTERM", inst{version: 2, interval: "1"}, 1, false},
		{"VRRPv3 advert_int 0.1, kill -9", inst{version: 3, interval: "0.1"}, 0.1, true},
		{"VRRPv3 advert_int 0.1, SIGTERM", inst{version: 3, interval: "0.1"}, 0.1, false},
	}
	var report strings.Builder
	fmt.Fprintf(&report, "| setting | keepalived median (min-max) | varde median (min-max) |\n| --- | --- | --- |\n")
	for _, s := range settings {
		med := map[string]time.Duration{}
		cells := map[string]string{}
		for _, kind := range []string{"keepalived", "varde"} {
			var ds []time.Duration
			t.Run(s.name+"/"+kind, func(t *testing.T) {
				ds = measure(t, kind, s.c, s.iv, s.kill, *benchRuns)
			})
			if len(ds) == 0 {
				continue
			}
			slices.Sort(ds)
			med[kind] = ds[len(ds)/2]
			cells[kind] = fmt.Sprintf("%.3f s (%.3f-%.3f)", med[kind].Seconds(), ds[0].Seconds(), ds[len(ds)-1].Seconds())
			t.Logf("%s %s: %v", s.name, kind, ds)
		}
		fmt.Fprintf(&report, "| %s | %s | %s |\n", s.name, cells["keepalived"], cells["varde"])
		if med["varde"] > med["keepalived"] {
			t.Errorf("%s: varde median %v slower than keepalived %v", s.name, med["varde"], med["keepalived"])
		}
	}
	fmt.Fprint(os.Stdout, "\nFailover, master death -> VIP held and answering on the backup:\n"+report.String())
}

func measure(t *testing.T, kind string, c inst, iv float64, kill bool, runs int) []time.Duration {
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	hi, lo := c, c
	hi.prio, lo.prio = 200, 150
	ping := l.Pinger()
	sniff := l.Sniffer()
	ivd := time.Duration(iv * float64(time.Second))
	start(n2, kind, lo)
	var out []time.Duration
	for i := 0; i < runs; i++ {
		master := start(n1, kind, hi)
		l.Settle(vip, 4*ivd+10*time.Second, 2*ivd, "n1")
		if !ping.Ping(vip, time.Second) {
			t.Fatalf("VIP does not answer on n1")
		}
		if !sniff.WaitAdvert(n1.Addr, 3*ivd+time.Second) {
			t.Fatalf("no advert from n1")
		}
		t0 := time.Now()
		if kill {
			master.KillAsync()
			n1.DelAddr(vip)
		} else {
			master.TermAsync()
		}
		var d time.Duration
		for {
			if n2.HasAddr(vip) && ping.Ping(vip, time.Millisecond) {
				d = time.Since(t0)
				break
			}
			if time.Since(t0) > 3*ivd+5*time.Second {
				t.Fatalf("run %d: no failover\n%s", i, l.Logs())
			}
			time.Sleep(200 * time.Microsecond)
		}
		out = append(out, d)
		if kill {
			master.Kill()
		} else {
			master.Term()
		}
		n1.DelAddr(vip)
	}
	return out
}
