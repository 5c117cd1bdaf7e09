package admin_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/admin"
	"github.com/varde-lb/varde/core/testenv"
)

// The map commands' levels, as HAProxy's: reading for users, changing for
// operators.
func TestMapCommandsParse(t *testing.T) {
	for _, tt := range []struct {
		line  string
		level admin.Level
		err   string
	}{
		{"show map", admin.LevelUser, ""},
		{"show acl f.acl", admin.LevelUser, ""},
		{"get map f.map k", admin.LevelUser, ""},
		{"get acl f.acl", admin.LevelUser, "Missing ACL identifier and/or key."},
		{"add map f.map k v", admin.LevelOperator, ""},
		{"add map f.map", admin.LevelOperator, ""}, // the payload form
		{"add map f.map k", admin.LevelOperator, "'add map' expects three parameters"},
		{"add acl f.acl p", admin.LevelOperator, ""},
		{"set map f.map #0x1 v", admin.LevelOperator, ""},
		{"set acl f.acl k", 0, "Unknown command"},
		{"del map f.map", admin.LevelOperator, "This command expects two parameters: map identifier and key."},
		{"del acl f.acl k", admin.LevelOperator, ""},
		{"clear acl", admin.LevelOperator, "Missing ACL identifier."},
		{"prepare map f.map", admin.LevelOperator, ""},
		{"add map @1 f.map k v", admin.LevelOperator, ""},
		{"show map @1 f.map", admin.LevelUser, ""},
		{"commit acl @1 f.acl", admin.LevelOperator, ""},
		{"commit acl f.acl", 0, "Missing version number."},
	} {
		c, err := admin.Parse(tt.line)
		switch {
		case tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)):
			t.Errorf("%q: error %v, want %q", tt.line, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.line, err)
		case tt.err == "" && c.Level() != tt.level:
			t.Errorf("%q: level %v, want %v", tt.line, c.Level(), tt.level)
		}
	}
	s := admin.New(admin.Config{}, admin.Runtime{}, nil)
	if got := s.Exec("prepare map f.map", admin.LevelAdmin); got != "Unknown map identifier. Please use #<id> or <file>.\n\n" {
		t.Errorf("prepare map without an engine: %q", got)
	}
	if got := s.Exec("add map f.map k v", admin.LevelUser); got != "Permission denied\n\n" {
		t.Errorf("add map at level user: %q", got)
	}
	if got := s.Exec("show map f.map", admin.LevelUser); got != "Unknown map identifier. Please use #<id> or <file>.\n\n" {
		t.Errorf("show map without an engine: %q", got)
	}
}

// A reload reads the files again: changes made at run time are lost, and
// the files' new contents apply (HAProxy's behaviour too).
func TestMapsReloadRereadsFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := testenv.VardeBinary(t)
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts.map")
	if err := os.WriteFile(hosts, []byte("a.example.com be_a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	port := testenv.FreePort(t)
	cfg := filepath.Join(dir, "h.cfg")
	body := mapsDiffConfig(sock, port, dir)
	for _, f := range []string{"nets.map", "block.acl", "agents.acl", "pfx.map", "pfx.acl"} { // the files mapsDiffConfig reads
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Start(t, bin, "run", "-f", cfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	testenv.WaitTCP(t, addr, 10*time.Second)
	lb := mapsDiffLB{"varde", sock, addr}
	_ = testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
		_, err := os.Stat(sock)
		return err
	})
	expect := func(host, want string) {
		t.Helper()
		if got := mapsGet(t, lb.addr, host); got != "200 OK "+want {
			t.Errorf("Host %s: %q, want %s", host, got, want)
		}
	}
	expect("a.example.com", "a")
	if out := send(t, "unix", sock, "add map "+hosts+" b.example.com be_b"); out != "\n" {
		t.Fatalf("add map: %q", out)
	}
	expect("b.example.com", "b")
	if err := os.WriteFile(hosts, []byte("a.example.com be_b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	expect("a.example.com", "a") // the file is read at load only
	if out := send(t, "unix", sock, "reload"); !strings.HasPrefix(out, "Success=1") {
		t.Fatalf("reload: %q", out)
	}
	err := testenv.Until(10*time.Second, 20*time.Millisecond, func() error {
		if got := mapsGet(t, lb.addr, "a.example.com"); got != "200 OK b" {
			return fmt.Errorf("after reload a.example.com: %q", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	expect("b.example.com", "def") // the run-time entry is gone
	if out := maskMaps(send(t, "unix", sock, "show map "+hosts)); out != "0xPTR a.example.com be_b\n\n" {
		t.Errorf("show map after reload: %q", out)
	}
}

// A map read by a log-format shares the generation's list: the log line
// follows run-time changes like routing does.
func TestMapsInLogFormat(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := testenv.VardeBinary(t)
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts.map")
	if err := os.WriteFile(hosts, []byte("a.example.com be_a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	logf := filepath.Join(dir, "access.log")
	port := testenv.FreePort(t)
	cfg := filepath.Join(dir, "h.cfg")
	body := fmt.Sprintf(`global
    stats socket %[1]s level admin
    log file@%[2]s local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind 127.0.0.1:%[3]d
    log-format "mapped=%%[req.hdr(host),map(%[4]s,none)]"
    use_backend %%[req.hdr(host),map(%[4]s,be_def)]
    default_backend be_def
backend be_a
    http-request return status 200 content-type text/plain string a
backend be_def
    http-request return status 200 content-type text/plain string def
`, sock, logf, port, hosts)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Start(t, bin, "run", "-f", cfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	testenv.WaitTCP(t, addr, 10*time.Second)
	if got := mapsGet(t, addr, "b.example.com"); got != "200 OK def" {
		t.Fatalf("before: %q", got)
	}
	// Log lines are formatted by the log pipeline, after the answer: wait
	// for the first before changing the map.
	waitLog := func(want string) {
		t.Helper()
		err := testenv.Until(5*time.Second, 20*time.Millisecond, func() error {
			b, _ := os.ReadFile(logf)
			if !strings.Contains(string(b), want) {
				return fmt.Errorf("log %q without %q", b, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitLog("mapped=none")
	if out := send(t, "unix", sock, "add map "+hosts+" b.example.com be_a"); out != "\n" {
		t.Fatalf("add map: %q", out)
	}
	if got := mapsGet(t, addr, "b.example.com"); got != "200 OK a" {
		t.Fatalf("after: %q", got)
	}
	waitLog("mapped=be_a")
}

// `set var` compiles at run time: a map converter reads a file the
// configuration loaded, never a file from disk (which would read any file
// varde can read through the socket).
func TestMapsSetVarReadsNoFile(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := testenv.VardeBinary(t)
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts.map")
	private := filepath.Join(dir, "private.map")
	files := map[string]string{"hosts.map": "a.example.com be_a\n", "private.map": "secretkey topsecret\n",
		"nets.map": "", "block.acl": "", "agents.acl": "", "pfx.map": "", "pfx.acl": ""}
	for f, body := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "s.sock")
	port := testenv.FreePort(t)
	cfg := filepath.Join(dir, "h.cfg")
	if err := os.WriteFile(cfg, []byte(mapsDiffConfig(sock, port, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Start(t, bin, "run", "-f", cfg)
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	_ = testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
		_, err := os.Stat(sock)
		return err
	})
	steps := []struct{ cmd, want string }{
		{"experimental-mode on; set var proc.x str(secretkey),map(" + private + ",none)", "map files are loaded at start-up"},
		{"get var proc.x", "Variable not found"},
		{"experimental-mode on; set var proc.y str(a.example.com),map(" + hosts + ",none)", ""},
		{"get var proc.y", "be_a"},
	}
	for _, s := range steps {
		out := send(t, "unix", sock, s.cmd)
		if strings.Contains(out, "topsecret") || s.want != "" && !strings.Contains(out, s.want) || s.want == "" && strings.TrimSpace(out) != "" {
			t.Errorf("%s: %q, want %q", s.cmd, out, s.want)
		}
	}
}
