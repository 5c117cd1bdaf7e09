package haproxylua_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// showStat asks a stats socket for `show stat` and indexes the rows by
// "pxname,svname" and the columns by name.
func showStat(t *testing.T, sock string) map[string]map[string]string {
	t.Helper()
	c, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "show stat\n")
	out, _ := io.ReadAll(c)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	head := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	rows := map[string]map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		row := map[string]string{}
		for i, h := range head {
			if i < len(f) {
				row[h] = f[i]
			}
		}
		rows[f[0]+","+f[1]] = row
	}
	return rows
}

// TestHAProxyLuaSameStats: the same Lua answers (a service, request and
// response actions that deny, fail or reply) leave the same counters in
// HAProxy's and varde's `show stat`: denied responses, internal errors,
// intercepted requests, responses by class.
func TestHAProxyLuaSameStats(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	script, err := filepath.Abs("testdata/compat.lua")
	if err != nil {
		t.Fatal(err)
	}
	be := echoBackend(t)
	ports := testenv.FreePorts(t, 2)
	dir := t.TempDir()
	mod := filepath.Join(filepath.Dir(script), "mod")
	var socks []string
	for i, bin := range []string{haproxy, varde} {
		sock := filepath.Join(dir, fmt.Sprintf("%d.sock", i))
		cfg := strings.Replace(fmt.Sprintf(compatConfig, mod, script, ports[i], be), "global\n", "global\n    stats socket "+sock+" mode 600 level admin\n", 1)
		path := filepath.Join(dir, fmt.Sprintf("%d.cfg", i))
		os.WriteFile(path, []byte(cfg), 0o644)
		args := []string{"-db", "-f", path}
		if i == 1 {
			args = []string{"run", "-f", path}
		}
		_, log := testenv.Start(t, bin, args...)
		testenv.WaitListening(t, bin, log, ports[i])
		socks = append(socks, sock)
	}
	paths := []string{"/plain", "/svc/x", "/ret-deny", "/ret-error", "/ret-done", "/res-deny", "/res-error", "/res-done", "/resreply", "/rstatus"}
	for i := range socks {
		for _, p := range paths {
			fetch(t, ports[i], "GET", p, nil)
		}
	}
	time.Sleep(200 * time.Millisecond) // HAProxy counts at the stream's end, after the answer
	h, v := showStat(t, socks[0]), showStat(t, socks[1])
	// Not compared: the FRONTEND's ereq/hrsp_4xx/req_tot (HAProxy counts
	// the readiness probe's empty connection as a 400) and the 2xx and
	// req_tot of the two answers a Lua response action ends with act.DENY
	// or act.DONE, which HAProxy 2.6 leaves out of the FRONTEND and
	// BACKEND classes (docs/observability.md).
	for _, key := range []string{"f,FRONTEND", "b,s1", "b,BACKEND"} {
		for _, col := range []string{"dreq", "dresp", "eresp", "eint", "intercepted", "hrsp_1xx", "hrsp_3xx", "hrsp_5xx", "hrsp_other", "cli_abrt", "srv_abrt", "lbtot"} {
			if h[key][col] != v[key][col] {
				t.Errorf("%s %s: haproxy %q, varde %q", key, col, h[key][col], v[key][col])
			}
		}
	}
	// The server's own classes and requests are the same on both.
	for _, col := range []string{"req_tot", "hrsp_2xx", "hrsp_4xx"} {
		if h["b,s1"][col] != v["b,s1"][col] {
			t.Errorf("b,s1 %s: haproxy %q, varde %q", col, h["b,s1"][col], v["b,s1"][col])
		}
	}
}
