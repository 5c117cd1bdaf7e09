package admin_test

import (
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/admin"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/stats"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want admin.Command
		err  string
	}{
		{"help", admin.Command{Op: admin.OpHelp}, ""},
		{"_getsocks", admin.Command{Op: admin.OpGetSocks}, ""},
		{"show info", admin.Command{Op: admin.OpShowInfo}, ""},
		{"show stat", admin.Command{Op: admin.OpShowStat, TypeMask: -1, SID: -1}, ""},
		{"show stat json", admin.Command{Op: admin.OpShowStat, TypeMask: -1, SID: -1, JSON: true}, ""},
		{"show stat app 4 -1", admin.Command{Op: admin.OpShowStat, Proxy: "app", TypeMask: 4, SID: -1}, ""},
		{"show servers state app", admin.Command{Op: admin.OpShowServersState, Proxy: "app"}, ""},
		{"disable server app/web1", admin.Command{Op: admin.OpSetAdmin, Backend: "app", Server: "web1", State: "maint"}, ""},
		{"enable server app/web1", admin.Command{Op: admin.OpSetAdmin, Backend: "app", Server: "web1", State: "ready"}, ""},
		{"set server app/web1 state drain", admin.Command{Op: admin.OpSetAdmin, Backend: "app", Server: "web1", State: "drain"}, ""},
		{"set server app/web1 weight 50%", admin.Command{Op: admin.OpSetWeight, Backend: "app", Server: "web1", N: 50, Percent: true}, ""},
		{"set weight app/web1 7", admin.Command{Op: admin.OpSetWeight, Backend: "app", Server: "web1", N: 7}, ""},
		{"set maxconn server app/web1 30", admin.Command{Op: admin.OpSetMaxConn, Backend: "app", Server: "web1", N: 30}, ""},
		{"shutdown sessions server app/web1", admin.Command{Op: admin.OpShutdownSess, Backend: "app", Server: "web1"}, ""},
		{"set server app/web1 state up", admin.Command{}, "expects 'ready', 'drain' and 'maint'"},
		{"set server app/web1 weight 300", admin.Command{}, "Invalid weight"},
		{"set server app/web1 weight 101%", admin.Command{}, "Invalid weight"},
		{"disable server web1", admin.Command{}, "Require 'backend/server'"},
		{"set maxconn server app/web1 -1", admin.Command{}, "Invalid maxconn"},
		{"frobnicate", admin.Command{}, "Unknown command"},
		{"get var proc.m", admin.Command{Op: admin.OpGetVar, Key: "proc.m"}, ""},
		{"set var proc.m str(on)", admin.Command{Op: admin.OpSetVar, Key: "proc.m", Value: "str(on)"}, ""},
		{"set var proc.m expr int(1)", admin.Command{Op: admin.OpSetVar, Key: "proc.m", Value: "int(1)"}, ""},
		{"get var", admin.Command{}, "Missing process-wide variable identifier"},
		{"set var txn.m str(on)", admin.Command{}, "only scope 'proc'"},
		{"set var proc.m", admin.Command{}, "Missing either 'expr', 'fmt' or expression"},
		{"set var proc.m fmt %[src]", admin.Command{}, "'fmt' is not supported"},
		{"set var proc.m str(a b)", admin.Command{}, "arg type must be either 'expr' or 'fmt'"},
	} {
		got, err := admin.Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, d)
		}
	}
	if d := cmp.Diff([]string{"show info", " show stat", "set x;y"}, admin.SplitLine(`show info; show stat;set x\;y;;`)); d != "" {
		t.Errorf("SplitLine (-want +got):\n%s", d)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"help", "show stat app 4 -1 json", "set server a/b weight 10%", "set maxconn server a/b 3", "disable server a/b", "show servers state x", "a;b\\;c", "set var proc.m expr str(on)", "get var proc.m",
		"set server a/b addr 10.0.0.1 port 80", "set server a/b fqdn x.example", "add server a/b 1.2.3.4:80 check", "del server a/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, part := range admin.SplitLine(line) {
			c, err := admin.Parse(part)
			if err != nil {
				continue
			}
			if (c.Op == admin.OpSetAdmin || c.Op == admin.OpSetWeight || c.Op == admin.OpSetMaxConn || c.Op == admin.OpShutdownSess) &&
				(c.Backend == "" || c.Server == "" || strings.Contains(c.Server, "/")) {
				t.Fatalf("%q parsed without backend/server: %+v", part, c)
			}
			if (c.Op == admin.OpSetAddr || c.Op == admin.OpSetFQDN) && (c.Backend == "" || c.Server == "" || c.Value == "") {
				t.Fatalf("%q parsed without backend/server/value: %+v", part, c)
			}
			if (c.Op == admin.OpAddServer || c.Op == admin.OpDelServer) && (c.Backend == "" || c.Server == "" || c.Level() != admin.LevelAdmin) {
				t.Fatalf("%q: %+v", part, c)
			}
			if c.Op == admin.OpSetWeight && (c.N < 0 || c.N > 256) {
				t.Fatalf("%q: weight %d", part, c.N)
			}
			if c.Op == admin.OpSetAdmin && c.State != "ready" && c.State != "drain" && c.State != "maint" {
				t.Fatalf("%q: state %q", part, c.State)
			}
		}
	})
}

type env struct {
	servers []*core.Server
	h       *health.Manager
	src     stats.Source
}

func newEnv(t *testing.T) *env {
	e := &env{h: health.NewManager(health.Options{})}
	for i, n := range []string{"web1", "web2"} {
		s := core.NewServer("app", n, i+1, netip.MustParseAddrPort("127.0.0.1:8080"), 10, 0)
		if err := e.h.Add(s, health.Config{}); err != nil {
			t.Fatal(err)
		}
		e.servers = append(e.servers, s)
	}
	e.h.Start(context.Background())
	t.Cleanup(e.h.Close)
	be := &stats.Counters{}
	e.src = stats.SourceFunc(func() stats.Snapshot {
		return stats.Snapshot{Info: stats.Info{Version: "test"}, Proxies: []stats.Proxy{{Name: "app", ID: 2, Mode: "http", Backend: be, Servers: e.servers}}}
	})
	return e
}

func send(t *testing.T, network, addr, line string) string {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestSocketModeAndLevels(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		mode  os.FileMode
		level admin.Level
	}{{0o600, admin.LevelAdmin}, {0o660, admin.LevelUser}, {0o600, admin.LevelOperator}} {
		e := newEnv(t)
		path := filepath.Join(dir, "s-"+tc.level.String()+".sock")
		srv := admin.New(admin.Config{Path: path, Mode: tc.mode, Level: tc.level}, admin.Runtime{Source: e.src, Health: e.h}, nil)
		if err := srv.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != tc.mode || fi.Mode()&os.ModeSocket == 0 {
			t.Errorf("socket mode %v, want socket %v", fi.Mode(), tc.mode)
		}
		if out := send(t, "unix", path, "show stat"); !strings.HasPrefix(out, "# pxname,svname,") {
			t.Errorf("level %v: show stat: %q", tc.level, out)
		}
		out := send(t, "unix", path, "set server app/web1 state drain")
		if tc.level < admin.LevelAdmin {
			if out != "Permission denied\n\n" || e.servers[0].Admin() != core.AdminReady {
				t.Errorf("level %v: set state: %q, admin %v", tc.level, out, e.servers[0].Admin())
			}
			if h := send(t, "unix", path, "help"); strings.Contains(h, "set server") {
				t.Errorf("level %v: help lists admin commands", tc.level)
			}
		} else if out != "\n" || e.servers[0].Admin() != core.AdminDrain {
			t.Errorf("admin: set state: %q, admin %v", out, e.servers[0].Admin())
		}
		srv.Close()
	}
}

func TestCommandsAndReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "admin.sock")
	e := newEnv(t)
	srv := admin.New(admin.Config{Path: path, Level: admin.LevelAdmin, TCP: "127.0.0.1:0"}, admin.Runtime{Source: e.src, Health: e.h}, nil)
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tcpAddr := srv.Addrs()[1].String()
	web1, web2 := e.servers[0], e.servers[1]
	for _, tc := range []struct{ cmd, want string }{
		{"set server app/web1 weight 50%", "\n"},
		{"set maxconn server app/web1 30", "\n"},
		{"disable server app/web2", "\n"},
		{"set server app/nope state drain", "No such server.\n\n"},
		{"set server nope/web1 state drain", "No such backend.\n\n"},
		{"shutdown sessions server app/web1", "shutdown sessions is not available in this mode.\n\n"},
	} {
		if got := send(t, "unix", path, tc.cmd); got != tc.want {
			t.Errorf("%q -> %q, want %q", tc.cmd, got, tc.want)
		}
	}
	if web1.Weight() != 5 || web1.MaxConn() != 30 || web2.Admin() != core.AdminMaint {
		t.Fatalf("web1 weight %d maxconn %d, web2 %v", web1.Weight(), web1.MaxConn(), web2.Admin())
	}
	csv := send(t, "tcp", tcpAddr, "show stat")
	if !strings.Contains(csv, "app,web2,") || !strings.Contains(csv, ",MAINT,") {
		t.Errorf("show stat over tcp lacks MAINT:\n%s", csv)
	}
	st := send(t, "unix", path, "show servers state")
	if !strings.Contains(st, "2 app 2 web2 127.0.0.1 0 1 10 10 ") || !strings.Contains(st, "2 app 1 web1 127.0.0.1 2 0 5 10 ") {
		t.Errorf("show servers state:\n%s", st)
	}
	if info := send(t, "unix", path, "show info; show info"); strings.Count(info, "Version: test") != 2 {
		t.Errorf("two commands on one line:\n%s", info)
	}
	if out := send(t, "unix", path, "bogus"); !strings.HasPrefix(out, "Unknown command") {
		t.Errorf("bogus: %q", out)
	}

	// A reload: a new generation with fresh servers reapplies the state file.
	e2 := newEnv(t)
	store := admin.NewStateStore(path + ".state")
	if err := store.Load(); err != nil {
		t.Fatal(err)
	}
	if n := store.Apply(e2.servers, e2.h); n != 2 {
		t.Fatalf("applied %d servers, want 2", n)
	}
	n1, n2 := e2.servers[0], e2.servers[1]
	if n1.Weight() != 5 || n1.MaxConn() != 30 || n2.Admin() != core.AdminMaint {
		t.Fatalf("after reload: web1 weight %d maxconn %d, web2 %v", n1.Weight(), n1.MaxConn(), n2.Admin())
	}
	// Back to ready and full weight: the entries disappear.
	send(t, "unix", path, "enable server app/web2")
	send(t, "unix", path, "set weight app/web1 10")
	send(t, "unix", path, "set maxconn server app/web1 0")
	store = admin.NewStateStore(path + ".state")
	if err := store.Load(); err != nil {
		t.Fatal(err)
	}
	if m := store.Snapshot(); len(m) != 0 {
		t.Fatalf("state after reset: %v", m)
	}
}

func TestTCPMustBeLoopback(t *testing.T) {
	e := newEnv(t)
	srv := admin.New(admin.Config{TCP: "0.0.0.0:0"}, admin.Runtime{Source: e.src}, nil)
	if err := srv.Start(context.Background()); err == nil {
		srv.Close()
		t.Fatal("listening on 0.0.0.0 was allowed")
	}
}

// TestDynamicServersParse: add/del server parse with HAProxy's usage
// errors; a missing address is answered after the backend lookup, as
// HAProxy does (see TestDiffHAProxyDynServers).
func TestDynamicServersParse(t *testing.T) {
	for _, tc := range []struct {
		line string
		op   admin.Op
		err  string
	}{
		{"add server app/web9 127.0.0.1:8080", admin.OpAddServer, ""},
		{"add server app/web9", admin.OpAddServer, ""},
		{"add server", 0, "Require 'backend/server'."},
		{"add server app 127.0.0.1:80", 0, "Require 'backend/server'."},
		{"del server app/web1", admin.OpDelServer, ""},
		{"del server app/web1 now", 0, "Require 'backend/server'."},
	} {
		c, err := admin.Parse(tc.line)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: %v, want %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || c.Op != tc.op || c.Backend != "app" || c.Server == "" || c.Level() != admin.LevelAdmin {
			t.Errorf("%q: %+v %v", tc.line, c, err)
		}
	}
}

func TestNewAddrMessages(t *testing.T) {
	cur := netip.MustParseAddrPort("127.0.0.1:8080")
	for _, tc := range []struct {
		addr, port, text, want string
	}{
		{"127.0.0.2", "", "IP changed from '127.0.0.1' to '127.0.0.2'", "127.0.0.2:8080"},
		{"127.0.0.1", "", "no need to change the addr", "127.0.0.1:8080"},
		{"127.0.0.1", "8081", "no need to change the addr, port changed from '8080' to '8081'", "127.0.0.1:8081"},
		{"::1", "8080", "IP changed from '127.0.0.1' to '::1', no need to change the port", "[::1]:8080"},
		{"web.example", "", "Invalid addr 'web.example'", "127.0.0.1:8080"},
		{"127.0.0.3", "x", "IP changed from '127.0.0.1' to '127.0.0.3', problem converting port 'x' to an int", "127.0.0.3:8080"},
		{"127.0.0.1", "+100", "no need to change the addr, port map '+100' is not supported by varde", "127.0.0.1:8080"},
	} {
		text, ap, _ := admin.NewAddrForTest(cur, tc.addr, tc.port)
		if text != tc.text || ap.String() != tc.want {
			t.Errorf("%s port %q: %q %s, want %q %s", tc.addr, tc.port, text, ap, tc.text, tc.want)
		}
	}
}

// FuzzNewAddr: any address and port text gives an answer and, when it
// changes the address, a valid one.
func FuzzNewAddr(f *testing.F) {
	for _, s := range [][2]string{{"10.0.0.2", ""}, {"::1", "8080"}, {"x", "1"}, {"127.0.0.1", "+5"}, {"fe80::1%eth0", ""}, {"1.2.3.4", "99999"}} {
		f.Add(s[0], s[1])
	}
	cur := netip.MustParseAddrPort("127.0.0.1:8080")
	f.Fuzz(func(t *testing.T, addr, port string) {
		text, ap, changed := admin.NewAddrForTest(cur, addr, port)
		if text == "" {
			t.Fatalf("%q %q: empty answer", addr, port)
		}
		if changed && (!ap.IsValid() || ap == cur) {
			t.Fatalf("%q %q: changed to %v", addr, port, ap)
		}
		if !changed && ap != cur {
			t.Fatalf("%q %q: moved to %v without reporting a change", addr, port, ap)
		}
	})
}
