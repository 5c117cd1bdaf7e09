package tcpcheck

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// checkRow is what `show stat` says of one server's checks.
type checkRow struct {
	Status, CheckStatus, CheckCode, LastChk, CheckDesc string
}

// backendCase is one backend of the differential configuration: its check
// lines and its servers, each a behaviour (nil: nothing listens).
type backendCase struct {
	name    string
	lines   string
	servers []srvCase
}

type srvCase struct {
	name string
	b    *behaviour
}

func diffCases() []backendCase {
	return []backendCase{
		{"redis_master", `
    option tcp-check
    tcp-check send PING\r\n
    tcp-check expect string +PONG
    tcp-check send info\ replication\r\n
    tcp-check expect string role:master
    tcp-check send QUIT\r\n
    tcp-check expect string +OK`,
			[]srvCase{{"master", &redisMaster}, {"replica", &redisReplica}, {"loading", &redisLoading},
				{"mute", &muteServer}, {"closer", &closerServer}, {"reset", &resetServer}, {"refused", nil}}},
		{"tcpcheck_misc", `
    option tcp-check
    tcp-check comment "banner"
    tcp-check expect rstring ^220
    tcp-check send-binary 48454c4f0d0a
    tcp-check expect ! string 502`,
			[]srvCase{{"good", &smtpGood}, {"busy", &smtpBusy}, {"refuses", &smtpRefusesHelo}}},
		{"redis_check", `
    option redis-check`,
			[]srvCase{{"master", &redisMaster}, {"loading", &redisLoading}, {"mute", &muteServer}, {"refused", nil}}},
		{"smtp", `
    option smtpchk EHLO lb.example.com`,
			[]srvCase{{"good", &smtpGood}, {"busy", &smtpBusy}, {"refuses", &smtpRefusesHelo}, {"closer", &closerServer}}},
		{"pgsql", `
    option pgsql-check user haproxy`,
			[]srvCase{{"trust", &pgsqlTrust}, {"nouser", &pgsqlNoUser}, {"closer", &closerServer}, {"reset", &resetServer}}},
		{"mysql", `
    option mysql-check`,
			[]srvCase{{"ready", &mysqlReady}, {"blocked", &mysqlBlocked}, {"closer", &closerServer}}},
		{"ldap", `
    option ldap-check`,
			[]srvCase{{"ok", &ldapOK}, {"badcreds", &ldapInvalidCreds}, {"smtp", &smtpGood}}},
		// The Kubernetes API pattern: the check goes to its own port.
		{"apiserver", `
    option tcp-check
    tcp-check connect port LIVE`,
			[]srvCase{{"api", nil}}},
		{"httpcheck_connect", `
    option httpchk GET /healthz
    http-check connect port LIVEHTTP
    http-check send meth GET uri /healthz
    http-check expect status 200`,
			[]srvCase{{"web", nil}}},
		{"httpchk_plain", `
    option httpchk GET /healthz`,
			[]srvCase{{"web", &httpOK}, {"e503", &http503}, {"closer", &closerServer}, {"mute", &muteServer}, {"smtp", &smtpGood}}},
		{"httpchk_comment", `
    option httpchk GET /healthz
    http-check comment "health page"
    http-check expect status 200`,
			[]srvCase{{"web", &httpOK}, {"e503", &http503}, {"closer", &closerServer}, {"smtp", &smtpGood}}},
		{"httpchk_string", `
    option httpchk GET /healthz
    http-check expect string ready`,
			[]srvCase{{"web", &httpOK}, {"e503", &http503}}},
		{"httpcheck_connect_down", `
    option httpchk GET /healthz
    http-check connect port DEAD
    http-check send meth GET uri /healthz
    http-check expect status 200`,
			[]srvCase{{"web", &httpOK}}},
		{"tls_connect", `
    option tcp-check
    tcp-check connect port TLSPORT ssl sni redis.test
    tcp-check send PING\r\n
    tcp-check expect string +PONG`,
			[]srvCase{{"tls", nil}}},
		{"tls_connect_only", `
    option tcp-check
    tcp-check connect port TLSPORT ssl`,
			[]srvCase{{"tls", nil}}},
		{"tls_connect_plain", `
    option tcp-check
    tcp-check connect port PLAINPORT ssl`,
			[]srvCase{{"plain", nil}}},
		{"apiserver_down", `
    option tcp-check
    tcp-check connect port DEAD comment "apiserver"`,
			[]srvCase{{"api", &redisMaster}}},
	}
}

// TestDifferentialAgainstHAProxy runs the same check configuration through
// Debian's HAProxy 2.6 and varde against the same fake servers and compares
// each server's state, check status, code and text in `show stat`.
func TestDifferentialAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	dir := t.TempDir()
	var body strings.Builder
	servers := 0
	_, live, _ := net.SplitHostPort(serve(t, redisMaster)) // any listener: the k8s pattern only connects
	dead := fmt.Sprint(testenv.FreePort(t))
	_, liveHTTP, _ := net.SplitHostPort(serve(t, httpOK))
	_, tlsPort, _ := net.SplitHostPort(serveTLS(t, redisMaster))
	_, plainPort, _ := net.SplitHostPort(serve(t, closerServer))
	for _, bc := range diffCases() {
		lines := strings.NewReplacer("TLSPORT", tlsPort, "PLAINPORT", plainPort, "LIVEHTTP", liveHTTP, "LIVE", live, "DEAD", dead).Replace(bc.lines)
		fmt.Fprintf(&body, "\nbackend %s%s\n", bc.name, lines)
		for _, s := range bc.servers {
			addr := "127.0.0.1:1" // nothing listens on port 1
			if s.b != nil {
				addr = serve(t, *s.b)
			}
			fmt.Fprintf(&body, "    server %s %s check verify none\n", s.name, addr)
			servers++
		}
	}
	cfg := func(sock string, front int) string {
		return fmt.Sprintf(`global
    stats socket %s level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 1s
    default-server inter 300ms rise 1 fall 1
frontend fe
    bind 127.0.0.1:%d
    default_backend redis_master
%s`, sock, front, body.String())
	}
	ports := testenv.FreePorts(t, 2)
	hsock, vsock := filepath.Join(dir, "h.sock"), filepath.Join(dir, "v.sock")
	hpath, vpath := filepath.Join(dir, "haproxy.cfg"), filepath.Join(dir, "varde.cfg")
	os.WriteFile(hpath, []byte(cfg(hsock, ports[0])), 0o644)
	os.WriteFile(vpath, []byte(cfg(vsock, ports[1])), 0o644)
	_, hlog := testenv.Start(t, haproxy, "-db", "-f", hpath)
	_, vlog := testenv.Start(t, bin, "run", "-f", vpath)
	testenv.WaitListening(t, "haproxy", hlog, ports[0])
	testenv.WaitListening(t, "varde", vlog, ports[1])

	// A row whose check is running ("* L7TOUT") has its text cleared:
	// each side keeps the last row of a finished check.
	h, v := map[string]checkRow{}, map[string]checkRow{}
	keep := func(into, from map[string]checkRow) {
		for k, r := range from {
			if !strings.HasPrefix(r.CheckStatus, "* ") && r.CheckStatus != "" && r.CheckStatus != "INI" {
				into[k] = r
			}
		}
	}
	err := testenv.Until(20*time.Second, 100*time.Millisecond, func() error {
		keep(h, showStat(hsock))
		keep(v, showStat(vsock))
		if len(h) < servers {
			return fmt.Errorf("haproxy reported %d of %d servers", len(h), servers)
		}
		for k, hr := range h {
			if v[k] != hr {
				return fmt.Errorf("%s differs", k)
			}
		}
		return nil
	})
	if err != nil {
		hl, _ := os.ReadFile(vlog)
		t.Errorf("%v\nvarde log:\n%s", err, tail(hl, 3000))
	}
	// `show servers state` carries the same result as numbers.
	hs, vs := serversState(hsock), serversState(vsock)
	for k, hr := range hs {
		if !strings.HasPrefix(h[k].CheckStatus, "L") || h[k] != v[k] {
			continue // compare the rows show stat agreed on, once settled
		}
		if vs[k] != hr {
			t.Errorf("show servers state %s:\n  haproxy %v\n  varde   %v", k, hr, vs[k])
		}
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if h[k] != v[k] {
			t.Errorf("%s:\n  haproxy %+v\n  varde   %+v", k, h[k], v[k])
		} else {
			t.Logf("%s: %+v", k, h[k])
		}
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// showStat reads `show stat` on an admin socket: "backend/server" -> row.
func showStat(sock string) map[string]checkRow {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return nil
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(c, "show stat\n")
	out := map[string]checkRow{}
	col := map[string]int{}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Split(strings.TrimPrefix(line, "# "), ",")
		if strings.HasPrefix(line, "# ") {
			for i, name := range f {
				col[name] = i
			}
			continue
		}
		if len(f) < len(col) || f[1] == "FRONTEND" || f[1] == "BACKEND" || f[0] == "fe" {
			continue
		}
		out[f[0]+"/"+f[1]] = checkRow{
			Status: f[col["status"]], CheckStatus: f[col["check_status"]],
			CheckCode: f[col["check_code"]], LastChk: f[col["last_chk"]], CheckDesc: f[col["check_desc"]],
		}
	}
	return out
}

// serversState reads `show servers state`: "backend/server" ->
// srv_op_state, srv_check_status, srv_check_health (not srv_check_result:
// HAProxy resets it while a check runs).
func serversState(sock string) map[string][3]string {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return nil
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(c, "show servers state\n")
	out := map[string][3]string{}
	col := map[string]int{}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# ") {
			for i, name := range strings.Fields(strings.TrimPrefix(line, "# ")) {
				col[name] = i
			}
			continue
		}
		f := strings.Fields(line)
		if len(col) == 0 || len(f) < len(col)-3 {
			continue
		}
		get := func(n string) string {
			if i, ok := col[n]; ok && i < len(f) {
				return f[i]
			}
			return "?"
		}
		out[get("be_name")+"/"+get("srv_name")] = [3]string{get("srv_op_state"), get("srv_check_status"), get("srv_check_health")}
	}
	return out
}
