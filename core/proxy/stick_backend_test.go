package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/sticktable"
	"github.com/varde-lb/varde/core/testenv"
)

// A mode http backend tracks each path with its own content rules and
// refuses a path once it has had more than two errors.
const backendContentConfig = `%sdefaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
%s    default_backend be
backend be
    mode http
    stick-table type string len 64 size 1k expire 1m store http_req_cnt,http_req_rate(10s),http_err_cnt,http_err_rate(10m)
    tcp-request inspect-delay 10s
    tcp-request content track-sc1 path
    tcp-request content reject if { sc_http_err_cnt(1) gt 2 }
    server s1 %s
`

// backendPaths sends each path on a connection of its own (a rejected
// request closes it) and returns what came back.
func backendPaths(t *testing.T, addr string, paths []string) string {
	var got []string
	for _, p := range paths {
		got = append(got, getOnce(t, addr, p))
	}
	return strings.Join(got, " ")
}

// keepAlivePaths sends the paths on one connection, opening another
// after a close.
func keepAlivePaths(t *testing.T, addr string, paths []string) string {
	var got []string
	var c net.Conn
	var br *bufio.Reader
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for _, p := range paths {
		if c == nil {
			var err error
			if c, err = net.Dial("tcp", addr); err != nil {
				t.Fatal(err)
			}
			br = bufio.NewReader(c)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			got = append(got, "closed")
			c.Close()
			c = nil
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got = append(got, fmt.Sprint(resp.StatusCode))
	}
	return strings.Join(got, " ")
}

func getOnce(t *testing.T, addr, path string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "closed"
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return fmt.Sprint(resp.StatusCode)
}

// TestDifferentialBackendContentRules: the backend's tcp-request content
// rules run per request after the frontend chose it (a mode http
// frontend, or a mode tcp one whose stream is upgraded to HTTP for the
// backend): the fourth request to a path with three 404s is refused
// (closed, no answer) in both, and the backend's table (per path) and the
// frontend's (per source) agree, a refused request not counted in the
// backend's http_req_cnt.
func TestDifferentialBackendContentRules(t *testing.T) {
	for _, tc := range []struct{ name, front string }{
		{"http frontend", "    stick-table type ip size 1k expire 1m store http_req_cnt,http_err_cnt\n    http-request track-sc0 src\n"},
		{"tcp frontend", "    mode tcp\n"},
	} {
		t.Run(tc.name, func(t *testing.T) { backendContentDiff(t, tc.front) })
	}
}

func backendContentDiff(t *testing.T, front string) {
	be := stickBackend(t)
	haddr, sock := startHAProxyStick(t, func(port int, sock string) string {
		return fmt.Sprintf(backendContentConfig, "global\n    stats socket "+sock+" level admin\n", port, front, be)
	})
	cfg := loadProxyConfig(t, fmt.Sprintf(backendContentConfig, "", 1, front, be))
	cfg.Frontends[0].Binds = nil
	e, vaddr := startEngine(t, cfg)
	paths := []string{"/", "/nope", "/x", "/nope", "/nope", "/nope", "/", "/nope"}
	const want = "200 404 200 404 404 closed 200 closed"
	if h, v := backendPaths(t, haddr, paths), backendPaths(t, vaddr, paths); h != want || v != want {
		t.Fatalf("haproxy %q, varde %q, want %q", h, v, want)
	}
	// Again on keep-alive connections: the rules run for each request.
	const wantKA = "200 closed 200 closed"
	if h, v := keepAlivePaths(t, haddr, []string{"/", "/nope", "/x", "/nope"}), keepAlivePaths(t, vaddr, []string{"/", "/nope", "/x", "/nope"}); h != wantKA || v != wantKA {
		t.Fatalf("keep-alive: haproxy %q, varde %q, want %q", h, v, wantKA)
	}
	tables := []string{"be"}
	if strings.Contains(front, "stick-table") {
		tables = append(tables, "fe")
	}
	for _, table := range tables {
		err := testenv.Until(3*time.Second, 20*time.Millisecond, func() error {
			hq := comparableDump(haproxyCLI(t, sock, "show table "+table))
			vq := comparableDump(dumpTable(e.StickTables().Lookup(table), sticktable.Query{}))
			if hq != vq || !strings.Contains(vq, map[string]string{"be": "key=/nope use=0 http_req_cnt=3 ", "fe": "http_req_cnt=12 http_err_cnt=3"}[table]) {
				return fmt.Errorf("show table %s:\nhaproxy:\n%s\nvarde:\n%s", table, hq, vq)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
}

// A mode tcp backend waits, with its own inspect-delay counted from when
// the frontend chose it, for the bytes its content rules read.
const backendInspectTCPConfig = `defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    default_backend be
backend be
    tcp-request inspect-delay 500ms
    tcp-request content accept if { req.payload(0,5) -m str HELLO }
    tcp-request content reject if { req.len ge 5 }
    server s1 %s
`

// TestDifferentialBackendInspectTCP: a greeting sent in two parts waits
// and passes, a wrong one is refused at once, a short one passes when the
// backend's delay expires (no rule matched), in HAProxy and varde alike.
func TestDifferentialBackendInspectTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echoOn(t, l)
	text := func(port int) string { return fmt.Sprintf(backendInspectTCPConfig, port, l.Addr()) }
	haddr, _ := startHAProxyStick(t, func(port int, _ string) string { return text(port) })
	cfg := loadProxyConfig(t, text(1))
	cfg.Frontends[0].Binds = nil
	_, vaddr := startEngine(t, cfg)
	for _, tc := range []struct {
		parts []string
		want  string
		slow  bool // answered only once the delay expired
	}{
		{[]string{"HEL", "LO\n"}, "echo HELLO\n", false},
		{[]string{"BYE there\n"}, "", false},
		{[]string{"HI\n"}, "echo HI\n", true},
	} {
		for name, addr := range map[string]string{"haproxy": haddr, "varde": vaddr} {
			start := time.Now()
			got := talkParts(t, addr, tc.parts)
			took := time.Since(start)
			if got != tc.want {
				t.Errorf("%s %q: got %q, want %q", name, tc.parts, got, tc.want)
			}
			if tc.slow != (took >= 450*time.Millisecond) {
				t.Errorf("%s %q: answered after %v (waiting for the delay: %v)", name, tc.parts, took, tc.slow)
			}
		}
	}
}

// talkParts sends parts 100ms apart and reads one line back ("" when the
// connection closed without one).
func talkParts(t *testing.T, addr string, parts []string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	for i, p := range parts {
		if i > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		io.WriteString(c, p)
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	return line
}

// A connection a mode tcp backend's content rules reject was counted in
// that backend (as HAProxy counts it once the backend is chosen) and is
// released with it: scur returns to 0, never below.
func TestBackendRejectKeepsScur(t *testing.T) {
	echo := rawServer(t, func(c net.Conn) { io.Copy(c, c) })
	port := testenv.FreePort(t)
	text := fmt.Sprintf("defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 2s\n    timeout server 2s\nfrontend ft\n    bind 127.0.0.1:%d\n    default_backend bk\nbackend bk\n    tcp-request inspect-delay 1s\n    tcp-request content reject if { src 127.0.0.1 }\n    server s1 %s\n", port, echo)
	vcfg := filepath.Join(t.TempDir(), "varde.cfg")
	os.WriteFile(vcfg, []byte(text), 0o644)
	set, d := config.LoadFiles([]string{vcfg}, nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := startEngine(t, pcfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.ReadAll(c) // closed by the reject
		c.Close()
	}
	b := e.Backend("bk")
	err = testenv.Until(3*time.Second, 10*time.Millisecond, func() error {
		if cur := b.CurConns.Load(); cur != 0 {
			return fmt.Errorf("backend scur %d after 3 rejected connections, want 0", cur)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
