package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// peersLocalCfg declares a peers section listing only this node (lb1,
// given with -L): a backend table with `peers mine` for stick on src, and
// a `table` line of the section tracked by the frontend.
func peersLocalCfg(web int, s1, s2 string) string {
	return fmt.Sprintf(`global
    stats socket %%SOCK%% level admin
peers mine
    peer lb1 127.0.0.1:%d
    table clients type ip size 1k expire 1m store http_req_cnt
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:%d
    http-request track-sc1 src table mine/clients
    default_backend app
backend app
    balance roundrobin
    stick-table type ip size 1k expire 1m store server_id peers mine
    stick on src
    server s1 %s
    server s2 %s
`, web+1, web, s1, s2)
}

// TestPeersLocalPeerKeepsTablesOnReload: with a local peer only, a reload
// hands the tables to the new generation, as HAProxy's old process hands
// them to the new one through its local peer: the client stays on the
// server its entry names (not the one round robin would start with) and
// the request counter of the section's own table goes on counting.
func TestPeersLocalPeerKeepsTablesOnReload(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	web := testenv.FreePort(t)
	v := startReloadVardeArgs(t, peersLocalCfg(web, namedBackend(t, "s1"), namedBackend(t, "s2")), []string{"-L", "lb1"})
	url := fmt.Sprintf("http://127.0.0.1:%d/", web)
	reloadGet(t, url)
	// Point the client at s2 (id 2): round robin of a fresh generation
	// would send its first request to s1.
	if got := v.cli("set table app key 127.0.0.1 data.server_id 2"); strings.TrimSpace(got) != "" {
		t.Fatalf("set table: %q", got)
	}
	for range 2 {
		if got := reloadGet(t, url); got != "s2" {
			t.Fatalf("before reload: served by %q, want s2", got)
		}
	}
	if got := v.cli("show table mine/clients"); !strings.Contains(got, "key=127.0.0.1") || !strings.Contains(got, "http_req_cnt=3") {
		t.Fatalf("before reload: %q", got)
	}
	for n := 1; n <= 2; n++ {
		v.reloadBySignal(n)
		if got := reloadGet(t, url); got != "s2" {
			t.Fatalf("after reload %d: served by %q, want s2 (the table was not handed over)\n%s", n, got, v.cli("show table app"))
		}
	}
	if got := v.cli("show table app"); !strings.Contains(got, "server_id=2") {
		t.Fatalf("after reloads: %q", got)
	}
	if got := v.cli("show table mine/clients"); !strings.Contains(got, "http_req_cnt=5") {
		t.Fatalf("after reloads: %q (the counter was reset)", got)
	}
}

// peersMeshCfg is the same configuration for varde (peer "vd") and
// HAProxy (peer "hap"): a backend table replicated between them, tracked
// per client and used for stick on src.
func peersMeshCfg(sock string, fe, vdPeer, hapPeer int, s1, s2 string) string {
	return fmt.Sprintf(`global
    stats socket %s level admin
peers mesh
    peer vd 127.0.0.1:%d
    peer hap 127.0.0.1:%d
    table users type string len 16 size 1k expire 1m store gpc0
    table bins type binary len 8 size 1k expire 1m store gpc0
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:%d
    default_backend st
backend st
    balance roundrobin
    stick-table type ip size 1k expire 1m store server_id,gpc0,http_req_cnt,http_req_rate(10s) peers mesh
    http-request track-sc0 src
    http-request track-sc1 req.hdr(x-user) table mesh/users if { req.hdr(x-user) -m found }
    http-request sc-inc-gpc0(1) if { req.hdr(x-user) -m found }
    http-request track-sc2 req.hdr(x-user) table mesh/bins if { req.hdr(x-user) -m found }
    http-request sc-inc-gpc0(2) if { req.hdr(x-user) -m found }
    stick on src
    server s1 %s
    server s2 %s
`, sock, vdPeer, hapPeer, fe, s1, s2)
}

// TestPeersReplicateWithHAProxy: varde and Debian's HAProxy 2.6 as two
// peers on loopback. A request tracked by varde shows in HAProxy's table
// (show table), one tracked by HAProxy shows in varde's, and a server
// chosen on HAProxy's side (set table ... server_id) steers varde's stick
// on src.
func TestPeersReplicateWithHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy and varde")
	}
	hapBin := testenv.LookTool(t, "haproxy", "haproxy")
	ports := testenv.FreePorts(t, 4)
	vdFE, hapFE, vdPeer, hapPeer := ports[0], ports[1], ports[2], ports[3]
	s1, s2 := namedBackend(t, "s1"), namedBackend(t, "s2")

	dir := t.TempDir()
	hapSock := filepath.Join(dir, "hap.sock")
	hapCfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(hapCfg, []byte(peersMeshCfg(hapSock, hapFE, vdPeer, hapPeer, s1, s2)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, hapLog := testenv.Start(t, hapBin, "-db", "-L", "hap", "-f", hapCfg)
	testenv.WaitListening(t, "haproxy", hapLog, hapFE)
	hap := func(cmd string) string { return adminCmd(t, hapSock, cmd+"\n") }
	// An entry HAProxy has before varde starts reaches varde (the resync
	// a starting node asks for).
	if out := hap("set table st key 10.0.0.9 data.gpc0 9"); strings.TrimSpace(out) != "" {
		t.Fatalf("set table: %q", out)
	}
	v := startReloadVardeArgs(t, peersMeshCfg("%SOCK%", vdFE, vdPeer, hapPeer, s1, s2), []string{"-L", "vd"})
	logs := func() string { b, _ := os.ReadFile(hapLog); return string(b) + "\nvarde:\n" + v.stderr.String() }

	// Wait for the session: HAProxy's show peers says so.
	if err := testenv.Until(15*time.Second, 50*time.Millisecond, func() error {
		if out := hap("show peers"); !strings.Contains(out, "id=vd") || !strings.Contains(out, "status=ESTA") {
			return fmt.Errorf("no established session:\n%s", out)
		}
		return nil
	}); err != nil {
		t.Fatalf("%v\n%s", err, logs())
	}
	waitTable(t, "varde", v.cli, "key=10.0.0.9", "gpc0=9")
	if out := v.cli("show peers"); !strings.Contains(out, "id=mesh") || !strings.Contains(out, "id=hap(remote,active) addr=127.0.0.1:") || !strings.Contains(out, "status=ESTA") {
		t.Fatalf("varde's show peers:\n%s", out)
	}
	vdURL, hapURL := fmt.Sprintf("http://127.0.0.1:%d/", vdFE), fmt.Sprintf("http://127.0.0.1:%d/", hapFE)
	if got := reloadGet(t, vdURL); got != "s1" {
		t.Fatalf("varde's first request went to %q", got)
	}
	waitTable(t, "HAProxy", hap, "key=127.0.0.1", "server_id=1", "http_req_cnt=1")

	if got := reloadGet(t, hapURL); got != "s1" {
		t.Fatalf("HAProxy did not follow the replicated entry: served by %q", got)
	}
	waitTable(t, "varde", v.cli, "key=127.0.0.1", "server_id=1", "http_req_cnt=2")

	if out := hap("set table st key 127.0.0.1 data.server_id 2"); strings.TrimSpace(out) != "" {
		t.Fatalf("set table: %q", out)
	}
	waitTable(t, "varde", v.cli, "server_id=2")
	for range 2 {
		if got := reloadGet(t, vdURL); got != "s2" {
			t.Fatalf("varde served by %q after HAProxy pointed the client at s2\n%s", got, v.cli("show table st"))
		}
	}
	// HAProxy's own set table left its server_key at s1; varde's pushes
	// name the server: s2.
	waitTable(t, "HAProxy", hap, "server_id=2", "http_req_cnt=4", "server_key=s2") // 1 and 2 above, two more through varde
	if got := reloadGet(t, hapURL); got != "s2" {
		t.Fatalf("HAProxy served by %q after varde's server_key s2", got)
	}

	// A reload: the new generation takes the peer listener over and
	// replication goes on both ways.
	v.reloadBySignal(1)
	reloadGet(t, vdURL)
	waitTable(t, "HAProxy", hap, "http_req_cnt=6")
	reloadGet(t, hapURL)
	waitTable(t, "varde", v.cli, "http_req_cnt=7")
	if out := hap("set table st key 10.0.0.9 data.gpc0 10"); strings.TrimSpace(out) != "" {
		t.Fatalf("set table: %q", out)
	}
	waitTable(t, "varde", v.cli, "gpc0=10")

	// A peers section's own table with string keys, both ways. Each step
	// waits for the other node: two nodes counting the same entry at once
	// overwrite each other's value (last writer wins, as in HAProxy).
	userGet := func(u string) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("X-User", "alice")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	userGet(vdURL)
	waitTableNamed(t, "HAProxy", hap, "mesh/users", "key=alice", "gpc0=1")
	// binary keys: padded to len 8 with zeros on both sides
	waitTableNamed(t, "HAProxy", hap, "mesh/bins", "key=616C696365000000", "gpc0=1")
	userGet(hapURL)
	waitTableNamed(t, "varde", v.cli, "mesh/users", "key=alice", "gpc0=2")
	waitTableNamed(t, "varde", v.cli, "mesh/bins", "key=616C696365000000", "gpc0=2")
}

// waitTable polls `show table st` until every want is in it.
func waitTable(t *testing.T, who string, cli func(string) string, want ...string) {
	t.Helper()
	waitTableNamed(t, who, cli, "st", want...)
}

func waitTableNamed(t *testing.T, who string, cli func(string) string, table string, want ...string) {
	t.Helper()
	var out string
	err := testenv.Until(5*time.Second, 20*time.Millisecond, func() error {
		out = cli("show table " + table)
		for _, w := range want {
			if !strings.Contains(out, w) {
				return fmt.Errorf("%s lacks %s", who, w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
}
