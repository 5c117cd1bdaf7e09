package haproxylua_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// compatConfig is the configuration both HAProxy and varde run, with the
// same lua-load script (testdata/compat.lua).
const compatConfig = `global
    lua-prepend-path %s/?.lua
    lua-load %s
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:%d
    acl admin lua.is_admin -m str yes
    http-request use-service lua.hello if { path_beg /svc }
    http-request use-service lua.boom if { path_beg /boom }
    http-request use-service lua.echo if { path_beg /echo }
    http-request use-service lua.info if { path_beg /info }
    http-request use-service lua.tcpcall if { path_beg /tcp }
    http-request use-service lua.early if { path_beg /early }
    http-request use-service lua.nostart if { path_beg /nostart }
    http-request lua.fail if { path_beg /fail }
    http-request lua.short if { path_beg /short }
    http-request lua.ret done if { path_beg /ret-done }
    http-request lua.ret deny if { path_beg /ret-deny }
    http-request lua.ret error if { path_beg /ret-error }
    http-request lua.ret abort if { path_beg /ret-abort }
    http-request lua.ret stop if { path_beg /ret-stop }
    http-request lua.rewrite if { path_beg /rewrite }
    http-request lua.bye if { path_beg /bye }
    http-request lua.tag argone
    http-request set-header x-admin yes if admin
    http-request set-header x-conv %%[req.hdr(x-role),lua.shout]
    http-request set-header x-var %%[var(txn.user)]
    http-response lua.resdone
    http-response lua.rstatus
    http-response lua.resp
    default_backend b
backend b
    server s1 127.0.0.1:%d
`

// echoBackend answers with the path and the request headers it got, one
// "name: value" line each, sorted (a real server on loopback).
func echoBackend(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var lines []string
		for k, vs := range r.Header {
			for _, v := range vs {
				lines = append(lines, strings.ToLower(k)+": "+v)
			}
		}
		sort.Strings(lines)
		w.Header().Set("Server", "echo")
		fmt.Fprintf(w, "%s %s\n%s\n", r.Method, r.URL.RequestURI(), strings.Join(lines, "\n"))
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

type answer struct {
	status  int
	headers []string // lower-case "name: value" of the headers compared
	body    string
}

// compared are the response headers whose values both must agree on;
// framing (content-length vs chunked), date and connection are the
// engines' own business.
var compared = []string{"content-type", "x-int", "x-reply", "x-resp", "x-user", "x-priv", "x-be-server", "cache-control"}

func fetch(t *testing.T, port int, method, path string, hdr map[string][]string) answer {
	t.Helper()
	var body io.Reader
	if method == "PUT" {
		body = strings.NewReader("line one\nline two\nend")
	}
	req, _ := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), body)
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return answer{status: -1, body: "no answer"}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, body: string(b)}
	for _, h := range compared {
		for _, v := range resp.Header.Values(h) {
			a.headers = append(a.headers, h+": "+v)
		}
	}
	if resp.StatusCode == 299 {
		a.headers = append(a.headers, "reason: "+resp.Status)
	}
	return a
}

// TestHAProxyLuaSameAnswers runs one lua-load script under HAProxy 2.6
// and under varde (real processes, a real backend) and compares answers:
// a service with headers and a body, 0-based header tables, integer
// rendering, an action setting headers and a variable read by var() and
// by a response action, a fetch in an ACL, a converter in a header,
// txn:done with a reply, act.* return codes, errors inside an action and
// inside a service, request-line rewriting and res_set_status.
func TestHAProxyLuaSameAnswers(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	script, err := filepath.Abs("testdata/compat.lua")
	if err != nil {
		t.Fatal(err)
	}
	be := echoBackend(t)
	tcpPort := lineServer(t)
	ports := testenv.FreePorts(t, 2)
	dir := t.TempDir()
	hcfg, vcfg := filepath.Join(dir, "haproxy.cfg"), filepath.Join(dir, "varde.cfg")
	mod := filepath.Join(filepath.Dir(script), "mod")
	os.WriteFile(hcfg, []byte(fmt.Sprintf(compatConfig, mod, script, ports[0], be)), 0o644)
	os.WriteFile(vcfg, []byte(fmt.Sprintf(compatConfig, mod, script, ports[1], be)), 0o644)
	_, hlog := testenv.Start(t, haproxy, "-db", "-f", hcfg)
	_, vlog := testenv.Start(t, varde, "run", "-f", vcfg)
	testenv.WaitListening(t, "haproxy", hlog, ports[0])
	testenv.WaitListening(t, "varde", vlog, ports[1])

	two := map[string][]string{"X-A": {"one", "two"}, "X-Role": {"admin"}}
	cases := []struct {
		name, method, path string
		hdr                map[string][]string
		want               int    // status both must give
		has                string // and a text both answers hold
	}{
		{"service with headers and body", "GET", "/svc/x?a=1", two, 201, "ua0=one ua1=two"},
		{"service error", "GET", "/boom", nil, 500, ""},
		{"applet:send before start_response", "GET", "/early", nil, 500, "500 Internal Server Error"},
		{"service reading the body, tokenize, 5.3 shims", "PUT", "/echo", nil, 200, "first=[line one\n] rest=[line two\nend] len=21 tokens=3:a/b/c n=12 int=6 unpack=3"},
		{"require, register_init, core.backends", "GET", "/info", nil, 200, "hello lua init=yes be=b srv=s1 puid=1"},
		{"core.tcp to a loopback server", "GET", "/tcp", map[string][]string{"X-Port": {fmt.Sprint(tcpPort)}}, 200, "connect=1 line=pong:ping rest=xyz"},
		{"service without start_response", "GET", "/nostart", nil, 500, ""},
		{"action error: request still answered", "GET", "/fail", two, 200, ""},
		{"txn:done with a reply", "GET", "/short", nil, 418, ""},
		{"act.DONE forwards", "GET", "/ret-done", nil, 200, ""},
		{"act.DENY", "GET", "/ret-deny", nil, 403, ""},
		{"act.ERROR", "GET", "/ret-error", nil, 500, ""},
		{"act.ABORT", "GET", "/ret-abort", nil, 503, ""},
		{"act.STOP skips the later rules", "GET", "/ret-stop", nil, 200, ""},
		{"set_path, set_method, absent f and var", "POST", "/rewrite/x?q=1", nil, 200, ""},
		{"res_get_headers and res_set_status", "GET", "/rstatus", nil, 299, ""},
		{"txn:done() without a reply: no answer", "GET", "/bye", nil, -1, ""},
		{"txn:done(reply) in a response action replaces the answer", "GET", "/resreply", nil, 203, ""},
		{"txn:done() in a response action: no answer", "GET", "/resclose", nil, -1, ""},
		{"act.DENY in a response action: the page of the status", "GET", "/res-deny", nil, 200, ""},
		{"act.ERROR in a response action", "GET", "/res-error", nil, 500, ""},
		{"act.ABORT in a response action stops the rules", "GET", "/res-abort", nil, 200, ""},
		{"act.STOP in a response action", "GET", "/res-stop", nil, 200, ""},
		{"act.DONE in a response action", "GET", "/res-done", nil, 200, ""},
		{"error in a response action: the next rule runs", "GET", "/res-fail", nil, 200, ""},
		{"req_set_query", "GET", "/rewrite/q?old=1", map[string][]string{"X-Query": {"new=2&b"}}, 200, ""},
		{"req_set_uri", "GET", "/rewrite/u", map[string][]string{"X-Uri": {"/other/path?z=9"}}, 200, ""},
		{"plain request through every rule", "GET", "/plain", two, 200, ""},
		{"no role: fetch says no, converter on absent header", "GET", "/plain", map[string][]string{"X-Role": {"user"}}, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := fetch(t, ports[0], c.method, c.path, c.hdr)
			v := fetch(t, ports[1], c.method, c.path, c.hdr)
			if h.status != c.want || !strings.Contains(h.body, c.has) {
				t.Fatalf("haproxy answered %d %q, the test expects %d with %q", h.status, h.body, c.want, c.has)
			}
			// The backend echoes the Host header, which names each
			// proxy's own port.
			hb := strings.ReplaceAll(h.body, fmt.Sprint(ports[0]), "PORT")
			vb := strings.ReplaceAll(v.body, fmt.Sprint(ports[1]), "PORT")
			if v.status != h.status || vb != hb || strings.Join(v.headers, "|") != strings.Join(h.headers, "|") {
				t.Errorf("answers differ\nhaproxy: %d %q\n%s\nvarde:   %d %q\n%s", h.status, h.headers, hb, v.status, v.headers, vb)
			}
		})
	}
	if t.Failed() {
		hl, _ := os.ReadFile(hlog)
		vl, _ := os.ReadFile(vlog)
		t.Logf("haproxy log:\n%s\nvarde log:\n%s", hl, vl)
	}
}

const runawayConfig = `global
    lua-load %s
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:%d
    http-request use-service lua.spinsvc if { path_beg /svc }
    http-request lua.spin if { path_beg /spin }
    http-request lua.sleepy if { path_beg /sleep }
    http-request set-header x-bad "[%%[lua.bad]]"
    default_backend b
backend b
    server s1 127.0.0.1:%d
`

// TestRunawayScripts: an endless action, an endless service, a sleep
// longer than the deadline and a failing fetch are cut or skipped within
// the call deadline; every request is still answered (the action's by the
// backend, the service's with HAProxy's 500) and the errors are logged.
func TestRunawayScripts(t *testing.T) {
	varde := testenv.VardeBinary(t)
	script, _ := filepath.Abs("testdata/runaway.lua")
	be := echoBackend(t)
	port := testenv.FreePort(t)
	cfg := filepath.Join(t.TempDir(), "varde.cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(runawayConfig, script, port, be)), 0o644)
	_, vlog := testenv.Start(t, varde, "run", "-f", cfg)
	testenv.WaitListening(t, "varde", vlog, port)
	cases := []struct {
		path   string
		status int
		body   string // a line the answer holds
	}{
		{"/spin", 200, "x-bad: []"},
		{"/svc", 500, "500 Internal Server Error"},
		{"/sleep", 200, "GET /sleep"},
		{"/plain", 200, "x-bad: []"},
	}
	for _, c := range cases {
		start := time.Now()
		a := fetch(t, port, "GET", c.path, nil)
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s took %v: the deadline did not cut the script", c.path, took)
		}
		if a.status != c.status || !strings.Contains(a.body, c.body) {
			t.Errorf("%s: %d %q, want %d with %q", c.path, a.status, a.body, c.status, c.body)
		}
	}
	err := testenv.Until(3*time.Second, 50*time.Millisecond, func() error {
		b, _ := os.ReadFile(vlog)
		if !strings.Contains(string(b), "lua runtime error") {
			return fmt.Errorf("no lua runtime error logged")
		}
		return nil
	})
	if err != nil {
		b, _ := os.ReadFile(vlog)
		t.Fatalf("%v\n%s", err, b)
	}
}

// lineServer answers each line it reads with "pong:LINE\nxyz" (a real TCP
// server on loopback for core.tcp).
func lineServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				line, err := bufio.NewReader(c).ReadString('\n')
				if err == nil {
					fmt.Fprintf(c, "pong:%sxyz", line)
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}
