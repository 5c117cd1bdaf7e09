package main

import (
	"fmt"
	"strings"
	"testing"

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
