package admin_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// stateLine writes one version-1 server-state line (HAProxy's 25 fields).
func stateLine(beID int, be string, srvID int, srv, addr string, op, adm, uw, iw, health, chkState, port int) string {
	return fmt.Sprintf("%d %s %d %s %s %d %d %d %d 100 6 3 %d %d 0 0 0 - %d - 0 0 - - 0\n",
		beID, be, srvID, srv, addr, op, adm, uw, iw, health, chkState, port)
}

// TestServerStateFileDifferential runs HAProxy 2.6 and varde on one
// configuration and one pair of state files (a global one and a backend's
// local one under server-state-base) and compares what each restored:
// `show stat` status and weight, `show servers state`, and where requests
// go. The files put a server in maintenance, change a weight, move a
// server's port, stop a server without checks, keep a weight whose
// configured value changed since, drain a server, keep enabled a
// `disabled` server that was enabled at run time, and give a server named
// by a host name its saved address.
func TestServerStateFileDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	names := []string{"s1", "s2", "s3", "s4", "s5", "s6", "t1", "t2", "t3"}
	srv := map[string]*codeServer{}
	port := map[string]int{}
	for _, n := range names {
		srv[n] = newCodeServer(t, n, 200)
		_, p, _ := net.SplitHostPort(strings.TrimPrefix(srv[n].srv.URL, "http://"))
		var pi int
		fmt.Sscan(p, &pi)
		port[n] = pi
	}
	// A server named by a host name: its saved address (127.0.0.2) wins
	// over the name's (127.0.0.1), HAProxy's default init-addr last,libc.
	namedPort := testenv.FreePort(t)
	for _, a := range []string{"127.0.0.1", "127.0.0.2"} {
		l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", a, namedPort))
		if err != nil {
			t.Skipf("cannot listen on %s: %v", a, err)
		}
		body := "named at " + a
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
	}
	dir := t.TempDir()
	base := filepath.Join(dir, "states")
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	// Proxy ids: the stats socket's GLOBAL is 1, www 2, app 3, other 4.
	global := "1\n# be_id be_name srv_id srv_name ...\n" +
		stateLine(3, "app", 1, "s1", "127.0.0.1", 2, 1, 1, 1, 0, 0, port["s1"]) + // forced maintenance
		stateLine(3, "app", 2, "s2", "127.0.0.1", 2, 0, 3, 1, 0, 0, port["s5"]) + // weight 3, port moved to s5's
		stateLine(3, "app", 3, "s3", "127.0.0.1", 2, 0, 1, 1, 0, 0, port["s3"]) +
		stateLine(3, "app", 4, "s4", "127.0.0.1", 2, 0, 9, 1, 0, 0, port["s4"]) + // configured weight changed to 2 since: 9 is not applied
		stateLine(3, "app", 6, "s6", "127.0.0.1", 0, 0, 1, 1, 0, 0, port["s6"]) + // stopped, no checks: stays down
		stateLine(3, "app", 7, "gone", "127.0.0.1", 2, 1, 1, 1, 0, 0, 1) + // no such server: ignored
		stateLine(5, "named", 1, "h", "127.0.0.2", 2, 0, 1, 1, 0, 0, namedPort)
	local := "1\n" +
		stateLine(4, "other", 1, "t1", "127.0.0.1", 2, 8, 1, 1, 0, 0, port["t1"]) + // drain
		stateLine(4, "other", 2, "t2", "127.0.0.1", 2, 0, 1, 1, 0, 0, port["t2"]) +
		stateLine(4, "other", 3, "t3", "127.0.0.1", 2, 4, 1, 1, 0, 0, port["t3"]) // `disabled`, enabled at run time (CMAINT alone): stays enabled
	if err := os.WriteFile(filepath.Join(base, "global.state"), []byte(global), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "other.state"), []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	type lb struct {
		name, sock string
		web        int
	}
	var lbs []lb
	for _, name := range []string{"haproxy", "varde"} {
		sock := filepath.Join(dir, name+".sock")
		web := testenv.FreePort(t)
		cfg := filepath.Join(dir, name+".cfg")
		text := fmt.Sprintf(`global
    stats socket %s mode 600 level admin
    server-state-base %s
    server-state-file global.state
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    load-server-state-from-file global
frontend www
    bind 127.0.0.1:%d
    use_backend other if { path_beg /other }
    use_backend named if { path_beg /named }
    default_backend app
backend app
    balance roundrobin
    server s1 127.0.0.1:%d
    server s2 127.0.0.1:%d
    server s3 127.0.0.1:%d
    server s4 127.0.0.1:%d weight 2
    server s6 127.0.0.1:%d
backend other
    balance roundrobin
    load-server-state-from-file local
    server-state-file-name other.state
    server t1 127.0.0.1:%d
    server t2 127.0.0.1:%d
    server t3 127.0.0.1:%d disabled
backend named
    server h localhost:%d
`, sock, base, web, port["s1"], port["s2"], port["s3"], port["s4"], port["s6"], port["t1"], port["t2"], port["t3"], namedPort)
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		var logPath string
		if name == "haproxy" {
			_, logPath = testenv.Start(t, hap, "-db", "-f", cfg)
		} else {
			_, logPath = testenv.Start(t, bin, "run", "-f", cfg)
		}
		testenv.WaitListening(t, name, logPath, web)
		lbs = append(lbs, lb{name, sock, web})
	}
	stat := func(l lb) csvTable { return parseCSV(t, send(t, "unix", l.sock, "show stat")) }
	h, v := stat(lbs[0]), stat(lbs[1])
	want := map[string][2]string{ // status, weight as HAProxy shows them
		"app,s1": {"MAINT", ""}, "app,s2": {"no check", "3"}, "app,s3": {"no check", "1"}, "app,s4": {"no check", "2"},
		"app,s6": {"DOWN", "1"}, "other,t1": {"DRAIN", "1"}, "other,t2": {"no check", "1"}, "other,t3": {"no check", "1"},
	}
	for row, w := range want {
		for i, f := range []string{"status", "weight"} {
			if w[i] == "" {
				continue
			}
			if h.rows[row][f] != w[i] {
				t.Errorf("haproxy %s %s = %q, want %q (test premise)", row, f, h.rows[row][f], w[i])
			}
			if v.rows[row][f] != h.rows[row][f] {
				t.Errorf("%s %s: haproxy %q, varde %q", row, f, h.rows[row][f], v.rows[row][f])
			}
		}
	}
	// show servers state: op state, admin state, weights and port.
	hs, vs := serversState(t, lbs[0].sock), serversState(t, lbs[1].sock)
	for k, hf := range hs {
		vf := vs[k]
		for _, i := range []int{5, 6, 7, 8, 18} {
			if len(vf) <= i || vf[i] != hf[i] {
				t.Errorf("show servers state %s field %d: haproxy %q, varde %v", k, i, hf[i], vf)
			}
		}
	}
	// Traffic: roundrobin over s2 (weight 3, now s5's port), s3 (1) and
	// s4 (2); s1 (maint) and s6 (down) get nothing; t1 drains.
	for _, l := range lbs {
		got := map[string]int{}
		for i := 0; i < 12; i++ {
			got[getFrom(t, l.web, "")]++
		}
		if got["s5"] != 6 || got["s3"] != 2 || got["s4"] != 4 || len(got) != 3 {
			t.Errorf("%s: app served %v, want s5 (s2 moved) 6, s3 2, s4 4", l.name, got)
		}
		other := map[string]int{}
		for i := 0; i < 4; i++ {
			other[getPath(t, l.web, "/other")]++
		}
		if got := getPath(t, l.web, "/named"); got != "named at 127.0.0.2" {
			t.Errorf("%s: named server answered %q, want the saved address's", l.name, got)
		}
		if other["t2"] != 2 || other["t3"] != 2 {
			t.Errorf("%s: other served %v, want t2 and t3 2 each (t1 drains, t3 was enabled at run time)", l.name, other)
		}
	}
}

// serversState reads `show servers state` keyed "backend server".
func serversState(t *testing.T, sock string) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(send(t, "unix", sock, "show servers state"), "\n") {
		f := strings.Fields(line)
		if len(f) < 20 || strings.HasPrefix(line, "#") {
			continue
		}
		out[f[1]+" "+f[3]] = f
	}
	if len(out) == 0 {
		t.Fatalf("no server in show servers state")
	}
	return out
}

func getPath(t *testing.T, port int, path string) string {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 64)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	return b.String()
}
