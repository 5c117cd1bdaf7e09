package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/testenv"
)

// namedServers starts one loopback server per name, each answering its
// name in X-Server.
func namedServers(t *testing.T, names ...string) map[string]string {
	addrs := map[string]string{}
	for _, name := range names {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Server", name)
			io.WriteString(w, name)
		}))
		t.Cleanup(srv.Close)
		addrs[name] = strings.TrimPrefix(srv.URL, "http://")
	}
	return addrs
}

const useServerConfig = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:{{PORT}}
    default_backend be

backend be
    balance roundrobin
    cookie SRV insert indirect nocache
    use-server s2 if { path_beg /two }
    use-server s3 if { path_beg /three }
    use-server s1 if { path_beg /three }
    use-server s1 unless { path_beg /rr } || { path_beg /two }
    force-persist if { path_beg /three/force }
    server s1 {{S1}} cookie c1
    server s2 {{S2}} cookie c2
    server s3 {{S3}} cookie c3 disabled
`

// TestUseServerDifferential sends the same requests through HAProxy 2.6
// and varde: which server answers each (use-server rules in order, a
// stopped server skipped unless force-persist matches, cookie persistence
// only after them, the balancer for the rest).
func TestUseServerDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	addrs := namedServers(t, "s1", "s2", "s3")
	render := func(port int) string {
		return strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{S1}}", addrs["s1"], "{{S2}}", addrs["s2"], "{{S3}}", addrs["s3"]).Replace(useServerConfig)
	}
	reqs := []string{
		"GET /two HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /two/b HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /three HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /three/force HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /two HTTP/1.1\r\nHost: h\r\nCookie: SRV=c1\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /rr/1 HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /rr/2 HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: h\r\nCookie: SRV=c2\r\n\r\n",
		"GET /rr/3 HTTP/1.1\r\nHost: h\r\nCookie: SRV=c2\r\n\r\n",
	}
	run := func(addr string) []string {
		var out []string
		for _, raw := range reqs {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, raw)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("%q: %v", raw, err)
			}
			io.Copy(io.Discard, resp.Body)
			c.Close()
			got := fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("X-Server"))
			if strings.Contains(raw, "/rr/") && !strings.Contains(raw, "Cookie") {
				got = fmt.Sprintf("%d balanced:%v", resp.StatusCode, resp.Header.Get("X-Server") != "s3")
			}
			out = append(out, got)
		}
		return out
	}
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := run(haddr)

	// The varde binary: cookie persistence is attached by the admin
	// subsystem, which an in-process engine does not run.
	varde := testenv.VardeBinary(t)
	vport := testenv.FreePort(t)
	vcfg := filepath.Join(t.TempDir(), "varde.cfg")
	os.WriteFile(vcfg, []byte(render(vport)), 0o644)
	_, vlog := testenv.Start(t, varde, "run", "-f", vcfg)
	testenv.WaitListening(t, "varde", vlog, vport)
	vaddr := fmt.Sprintf("127.0.0.1:%d", vport)
	vOut := run(vaddr)
	for i := range hOut {
		t.Logf("%-44q haproxy %s | varde %s", reqs[i], hOut[i], vOut[i])
	}
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("servers differ (-haproxy +varde)\n%s", d)
	}
}

const dispatchConfig = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:{{PORT}}
    log 127.0.0.1:{{SYSLOG}} local0
    option httplog
    use_backend withservers if { path_beg /w }
    use_backend balanced if { path_beg /b }
    default_backend only

backend only
    dispatch {{D}}

backend withservers
    dispatch {{D}}
    server s1 {{S1}}

backend balanced
    balance roundrobin
    dispatch {{D}}
    server s1 {{S1}}
`

// TestDispatchDifferential: `dispatch` alone, beside server lines without
// balance (the servers are ignored), and with balance (dispatch ignored),
// against HAProxy 2.6: who answered and the backend/server logged.
func TestDispatchDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	addrs := namedServers(t, "d", "s1")
	logPort, logs := syslogFields(t)
	render := func(port int) string {
		return strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{SYSLOG}}", fmt.Sprint(logPort), "{{D}}", addrs["d"], "{{S1}}", addrs["s1"]).Replace(dispatchConfig)
	}
	// The sentinel goes last: once its log line is in, the others are.
	paths := []string{"/x", "/w", "/b", "/zz-sentinel"}
	run := func(addr string) []string {
		var out []string
		for _, p := range paths {
			resp, err := http.Get("http://" + addr + p)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			out = append(out, fmt.Sprintf("%s %d %s", p, resp.StatusCode, resp.Header.Get("X-Server")))
		}
		return out
	}
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := run(haddr)
	hLogged := logs("/zz-sentinel")

	set, d := config.LoadFiles(writeCfg(t, render(testenv.FreePort(t))), nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	sink := &recSink{}
	pcfg.Sink = sink
	pcfg.Frontends[0].Binds = nil
	_, vaddr := startEngine(t, pcfg)
	vOut := run(vaddr)
	if err := testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		if n := len(sink.all()); n < len(paths) {
			return fmt.Errorf("%d log records, want %d", n, len(paths))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var vLogged []string
	for _, r := range sink.all() {
		srv := r.Server
		if srv == "" {
			srv = "<NOSRV>"
		}
		vLogged = append(vLogged, r.Backend+"/"+srv)
	}
	sort.Strings(vLogged)
	t.Logf("haproxy %v %v", hOut, hLogged)
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("answers differ (-haproxy +varde)\n%s", d)
	}
	if d := cmp.Diff(hLogged, vLogged); d != "" {
		t.Errorf("logged backend/server differ (-haproxy +varde)\n%s", d)
	}
	// The warning HAProxy gives for dispatch beside balance.
	if !strings.Contains(renderWarnings(d), "will be ignored in balance mode") {
		t.Errorf("no warning for dispatch with balance: %s", renderWarnings(d))
	}
}

func renderWarnings(d interface{ Items() []diag.Diagnostic }) string {
	var b strings.Builder
	for _, it := range d.Items() {
		b.WriteString(it.String() + "\n")
	}
	return b.String()
}

// syslogFields collects the "backend/server" field of HAProxy's httplog
// lines; the function returned waits (5 s at most) for the line of the
// sentinel path, sent after the others, then returns them sorted.
func syslogFields(t *testing.T) (int, func(sentinel string) []string) {
	port, l := startUDPSyslog(t, regexp.MustCompile(`\] \S+ (\S+/\S+) .*"GET (\S+)`)) // requests only, not idle closes
	return port, func(sentinel string) []string { return l.column(t, 2, sentinel, 1) }
}

// TestForwardForDifferential: `option forwardfor` with except, header and
// if-none, in the frontend, the backend or both, against HAProxy 2.6:
// the forwarded headers each server receives.
func TestForwardForDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s xff=%q xc=%q", r.URL.Path, r.Header.Values("X-Forwarded-For"), r.Header.Values("X-Client")))
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	src := `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:{{PORT}}
    option forwardfor if-none
    use_backend except if { path_beg /except }
    use_backend hdr if { path_beg /hdr }
    use_backend ipv6 if { path_beg /v6 }
    default_backend plain

backend plain
    server a {{S}}

backend except
    option forwardfor except 127.0.0.0/8
    server a {{S}}

backend hdr
    option forwardfor header X-Client if-none
    server a {{S}}

backend ipv6
    option forwardfor except ::1/128
    server a {{S}}
`
	reqs := []string{
		"GET /plain HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /plain HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
		"GET /except HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /except HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
		"GET /hdr HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /hdr HTTP/1.1\r\nHost: h\r\nX-Client: 5.6.7.8\r\n\r\n",
		"GET /hdr HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
		"GET /v6 HTTP/1.1\r\nHost: h\r\n\r\n",
	}
	run := func(addr string) []string {
		for _, raw := range reqs {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, raw)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("%q: %v", raw, err)
			}
			io.Copy(io.Discard, resp.Body)
			c.Close()
		}
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}
	render := func(port int) string {
		return strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{S}}", addr).Replace(src)
	}
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	hOut := run(haddr)
	set, d := config.LoadFiles(writeCfg(t, render(testenv.FreePort(t))), nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	pcfg.Frontends[0].Binds = nil
	_, vaddr := startEngine(t, pcfg)
	vOut := run(vaddr)
	for i := range hOut {
		t.Logf("haproxy %s", hOut[i])
	}
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("headers the server saw differ (-haproxy +varde)\n%s", d)
	}
}

// TestRateLimitSessionsDifferential: `rate-limit sessions 5` makes 15
// back-to-back connections take about two seconds through HAProxy 2.6 and
// through varde (none is refused: they wait), and without the line they
// take a fraction of that.
func TestRateLimitSessionsDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	addrs := namedServers(t, "s1")
	render := func(port int, limit string) string {
		return fmt.Sprintf("defaults\n    mode http\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n"+
			"frontend fe\n    bind 127.0.0.1:%d\n%s    default_backend be\nbackend be\n    server s1 %s\n", port, limit, addrs["s1"])
	}
	burst := func(addr string) (time.Duration, int) {
		start := time.Now()
		ok := 0
		for i := 0; i < 15; i++ {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && resp.StatusCode == 200 {
				ok++
			}
			c.Close()
		}
		return time.Since(start), ok
	}
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport, "    rate-limit sessions 5\n")), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	// Not WaitTCP: its probe would take a session of the rate limit.
	waitListenQuiet(t, hport)
	hTook, hOK := burst(haddr)

	engine := func(limit string) string {
		set, d := config.LoadFiles(writeCfg(t, render(testenv.FreePort(t), limit)), nil)
		if d.HasErrors() {
			t.Fatal(d.Err())
		}
		pcfg, err := FromConfig(set.HAProxy)
		if err != nil {
			t.Fatal(err)
		}
		pcfg.Frontends[0].Binds = nil
		_, addr := startEngine(t, pcfg)
		return addr
	}
	vTook, vOK := burst(engine("    rate-limit sessions 5\n"))
	freeTook, _ := burst(engine(""))
	t.Logf("15 sessions at 5/s: haproxy %v (%d ok), varde %v (%d ok); varde without the limit %v", hTook, hOK, vTook, vOK, freeTook)
	if hOK != 15 || vOK != 15 {
		t.Errorf("answered: haproxy %d, varde %d, want 15 each (the limit delays, never refuses)", hOK, vOK)
	}
	for name, took := range map[string]time.Duration{"haproxy": hTook, "varde": vTook} {
		if took < 1400*time.Millisecond || took > 6*time.Second {
			t.Errorf("%s took %v for 15 sessions at 5/s, want about 2s", name, took)
		}
	}
	if freeTook > time.Second {
		t.Errorf("without rate-limit varde took %v: the test cannot tell the limit", freeTook)
	}
}

// waitListenQuiet waits (10 s at most) until a socket listens on
// 127.0.0.1:port, reading /proc/net/tcp instead of connecting, so that no
// session is taken from the listener.
func waitListenQuiet(t *testing.T, port int) {
	t.Helper()
	local := fmt.Sprintf(" 0100007F:%04X 00000000:0000 0A ", port) // LISTEN
	err := testenv.Until(10*time.Second, 10*time.Millisecond, func() error {
		b, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), local) {
			return fmt.Errorf("nothing listens on 127.0.0.1:%d", port)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
