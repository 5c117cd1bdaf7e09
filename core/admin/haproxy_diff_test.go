package admin_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/stats"
	"github.com/varde-lb/varde/core/testenv"
)

// diffConfig is one haproxy.cfg both HAProxy and varde run.
func diffConfig(sock string, web int, bs []*backend) string {
	var servers strings.Builder
	for i, b := range bs {
		extra := ""
		if i == len(bs)-1 {
			extra = " backup"
		}
		fmt.Fprintf(&servers, "    server %s %s check inter %d rise %d fall %d cookie c-%s%s\n", b.name, b.addr(), inter/time.Millisecond, rise, fall, b.name, extra)
	}
	return fmt.Sprintf(`global
    stats socket %s mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 2s
frontend www
    bind 127.0.0.1:%d
    default_backend app
backend app
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    cookie SERVERID insert indirect nocache
%s`, sock, web, servers.String())
}

type csvTable struct {
	header []string
	rows   map[string]map[string]string // "px,sv" -> field -> value
}

func parseCSV(t *testing.T, out string) csvTable {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "# ") {
		t.Fatalf("not a stats CSV: %q", out)
	}
	tb := csvTable{rows: map[string]map[string]string{}}
	for _, h := range strings.Split(strings.TrimPrefix(lines[0], "# "), ",") {
		if h == "-" || h == "" {
			break // HAProxy's extra stats modules follow
		}
		tb.header = append(tb.header, h)
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		row := map[string]string{}
		for i, h := range tb.header {
			if i < len(f) {
				row[h] = f[i]
			}
		}
		tb.rows[f[0]+","+f[1]] = row
	}
	return tb
}

func TestDiffHAProxyChecksAndCSV(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	bs := []*backend{newBackend(t, "web1"), newBackend(t, "web2"), newBackend(t, "spare")}
	dir := t.TempDir()
	type lb struct {
		name string
		sock string
	}
	var lbs []lb
	for _, name := range []string{"haproxy", "varde"} {
		sock := filepath.Join(dir, name+".sock")
		cfg := filepath.Join(dir, name+".cfg")
		port := testenv.FreePort(t)
		if err := os.WriteFile(cfg, []byte(diffConfig(sock, port, bs)), 0o644); err != nil {
			t.Fatal(err)
		}
		if name == "haproxy" {
			testenv.Start(t, hap, "-db", "-f", cfg)
		} else {
			testenv.Start(t, bin, "run", "-f", cfg)
		}
		testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
		if err := testenv.Until(10*time.Second, 10*time.Millisecond, func() error {
			c, err := net.Dial("unix", sock)
			if err == nil {
				c.Close()
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		lbs = append(lbs, lb{name, sock})
	}
	statusOf := func(l lb, sv string) string {
		return parseCSV(t, send(t, "unix", l.sock, "show stat")).rows["app,"+sv]["status"]
	}
	// waitAll waits until every load balancer reports want for sv and
	// returns when each first did.
	waitAll := func(sv, want string) map[string]time.Duration {
		start := time.Now()
		seen := map[string]time.Duration{}
		err := testenv.Until(15*time.Second, 5*time.Millisecond, func() error {
			for _, l := range lbs {
				if _, ok := seen[l.name]; !ok && statusOf(l, sv) == want {
					seen[l.name] = time.Since(start)
				}
			}
			if len(seen) < len(lbs) {
				return fmt.Errorf("%s %s seen by %v", sv, want, seen)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return seen
	}
	waitAll("web1", "UP")
	waitAll("web2", "UP")

	bs[1].sick.Store(true)
	down := waitAll("web2", "DOWN")
	t.Logf("web2 DOWN after: haproxy %v, varde %v (inter*fall = %v)", down["haproxy"], down["varde"], inter*fall)
	// Each balancer's check phase is independent (up to one inter apart),
	// plus scheduling noise on a loaded machine.
	if d := down["varde"] - down["haproxy"]; d > 3*inter+200*time.Millisecond || d < -3*inter-200*time.Millisecond {
		t.Errorf("varde marked web2 down %v after haproxy; want within one check phase", d)
	}
	for _, l := range lbs {
		if st := statusOf(l, "web1"); st != "UP" {
			t.Errorf("%s: web1 %q while only web2 fails", l.name, st)
		}
	}

	// The CSVs agree on header order and on the state columns.
	h := parseCSV(t, send(t, "unix", lbs[0].sock, "show stat"))
	v := parseCSV(t, send(t, "unix", lbs[1].sock, "show stat"))
	if strings.Join(h.header, ",") != strings.Join(stats.Fields, ",") {
		t.Errorf("CSV header differs:\nhaproxy %v\nvarde   %v", h.header, stats.Fields)
	}
	if strings.Join(v.header, ",") != strings.Join(h.header, ",") {
		t.Errorf("varde CSV header differs from haproxy's")
	}
	compare := map[string][]string{
		"www,FRONTEND": {"status", "type", "mode"},
		"app,web1":     {"status", "weight", "act", "bck", "check_status", "check_code", "check_rise", "check_fall", "check_health", "addr", "cookie", "mode", "type", "sid", "chkdown"},
		"app,web2":     {"status", "weight", "act", "bck", "check_status", "check_code", "check_rise", "check_fall", "check_health", "check_desc", "addr", "cookie", "type", "sid", "chkdown"},
		"app,spare":    {"status", "act", "bck", "check_status", "addr", "cookie", "type"},
		"app,BACKEND":  {"status", "act", "bck", "weight", "algo", "type", "mode"},
	}
	for key, fields := range compare {
		for _, f := range fields {
			hv, vv := h.rows[key][f], v.rows[key][f]
			if f == "check_status" {
				// HAProxy prefixes "* " while a probe is in flight at the
				// moment of `show stat`: timing, not state.
				hv, vv = strings.TrimPrefix(hv, "* "), strings.TrimPrefix(vv, "* ")
			}
			if hv != vv {
				t.Errorf("%s %s: haproxy %q, varde %q", key, f, h.rows[key][f], v.rows[key][f])
			}
		}
	}

	bs[1].sick.Store(false)
	up := waitAll("web2", "UP")
	t.Logf("web2 UP after: haproxy %v, varde %v (inter*rise = %v)", up["haproxy"], up["varde"], inter*rise)

	// Admin commands behave alike.
	for _, l := range lbs {
		if out := send(t, "unix", l.sock, "set server app/web1 state drain"); out != "\n" {
			t.Errorf("%s: set state drain -> %q", l.name, out)
		}
		if out := send(t, "unix", l.sock, "set server app/nope state drain"); out != "No such server.\n\n" {
			t.Errorf("%s: unknown server -> %q", l.name, out)
		}
	}
	h = parseCSV(t, send(t, "unix", lbs[0].sock, "show stat"))
	v = parseCSV(t, send(t, "unix", lbs[1].sock, "show stat"))
	if h.rows["app,web1"]["status"] != v.rows["app,web1"]["status"] {
		t.Errorf("drained web1: haproxy %q, varde %q", h.rows["app,web1"]["status"], v.rows["app,web1"]["status"])
	}
}
