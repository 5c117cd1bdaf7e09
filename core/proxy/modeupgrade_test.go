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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

// upgradeConfig: a `mode tcp` frontend whose rules choose `mode http`
// backends (HAProxy upgrades the connection to HTTP), a `mode tcp` one,
// and a payload rule that needs the inspect-delay.
const upgradeConfig = `defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend f
    bind 127.0.0.1:{{PORT}}
    log 127.0.0.1:{{LOG}} local0
    log-format "%ft %b/%s %ST %ts"
    tcp-request inspect-delay 2s
    tcp-request content reject if { req.payload(0,4) -m str QUIT }
    tcp-request content accept if { req.len gt 0 }
    use_backend hbs if { req.payload(0,13) -m str "GET /sentinel" }
    use_backend hb2 if { req.payload(0,5) -m str "POST " }
    use_backend tb if { req.payload(0,4) -m str ECHO }
    use_backend tb if { req.hdr(x-tcp) -m found }
    use_backend hbpath if { path_beg /p }
    default_backend hb

backend hb
    mode http
    http-request set-header X-Via hb
    http-response set-header X-Be hb
    server s1 {{S1}}

backend hb2
    mode http
    http-request set-header X-Via hb2
    http-response set-header X-Be hb2
    server s1 {{S1}}

backend hbpath
    mode http
    http-request set-header X-Via hbpath
    http-response set-header X-Be hbpath
    server s1 {{S1}}

backend hbs
    mode http
    server s1 {{S1}}

backend tb
    server echo {{ECHO}}
`

// upgradeConns are the connections the test opens: on each, its requests
// in order, each sent once the answer to the previous one came.
var upgradeConns = [][]string{
	{"GET /a HTTP/1.1\r\nHost: h\r\n\r\n", "GET /b HTTP/1.1\r\nHost: h\r\n\r\n", "GET /p/c HTTP/1.1\r\nHost: h\r\n\r\n", "POST /d HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"},
	{"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", "GET /y HTTP/1.1\r\nHost: h\r\n\r\n"},
	{"GET /p/first HTTP/1.1\r\nHost: h\r\n\r\n", "GET /z HTTP/1.1\r\nHost: h\r\nX-Tcp: 1\r\n\r\n"},
	{"GET /close HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
	{"ECHO hello\n"},
	{"QUIT\n"},
}

// runUpgradeConns returns, per request, what the client saw: the status,
// the backend's X-Be and what the server saw in X-Via; the echo for raw
// bytes; "closed" when the connection ended without an answer.
func runUpgradeConns(t *testing.T, addr string) []string {
	var out []string
	for _, reqs := range upgradeConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		for _, raw := range reqs {
			io.WriteString(c, raw)
			if !strings.Contains(raw, "HTTP/1.1") {
				line, err := br.ReadString('\n')
				out = append(out, fmt.Sprintf("raw %q err=%v", line, err != nil))
				continue
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				out = append(out, "closed")
				break
			}
			body, _ := io.ReadAll(resp.Body)
			out = append(out, fmt.Sprintf("%d be=%s via=%s close=%v", resp.StatusCode, resp.Header.Get("X-Be"), body, resp.Close))
		}
		c.Close()
	}
	return out
}

// TestTCPFrontendUpgradeDifferential runs the same config through HAProxy
// 2.6 and varde: which backend each request of each connection reaches
// (the first request by the TCP stream's choice, follow-ups by the rules
// run again on HTTP), what the client gets, and the log lines.
func TestTCPFrontendUpgradeDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, r.Header.Get("X-Via"))
	}))
	t.Cleanup(origin.Close)
	echo := rawServer(t, func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		io.WriteString(c, "echo:"+line)
	})
	logRe := regexp.MustCompile(`\]: (f (\S+) [^\n]*)`)
	render := func(port, logPort int) string {
		return strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{LOG}}", fmt.Sprint(logPort),
			"{{S1}}", strings.TrimPrefix(origin.URL, "http://"), "{{ECHO}}", echo).Replace(upgradeConfig)
	}
	run := func(bin string, args ...string) ([]string, []string) {
		port := testenv.FreePort(t)
		logPort, logs := startUDPSyslog(t, logRe)
		cfg := filepath.Join(t.TempDir(), "p.cfg")
		os.WriteFile(cfg, []byte(render(port, logPort)), 0o644)
		_, out := testenv.Start(t, bin, append(args, "-f", cfg)...)
		testenv.WaitListening(t, bin, out, port)
		got := runUpgradeConns(t, fmt.Sprintf("127.0.0.1:%d", port))
		// The sentinel: a last request logged after all others.
		runSentinel(t, port)
		return got, logs.column(t, 2, "hbs/s1", 1)
	}
	hOut, hLog := run(haproxy, "-db")
	vOut, vLog := run(testenv.VardeBinary(t), "run")
	for i := range hOut {
		t.Logf("haproxy %-40s | varde %s", hOut[i], vOut[i])
	}
	if d := cmp.Diff(hOut, vOut); d != "" {
		t.Errorf("clients saw different answers (-haproxy +varde)\n%s", d)
	}
	if d := cmp.Diff(hLog, vLog); d != "" {
		t.Errorf("log lines differ (-haproxy +varde)\n%s", d)
	}
}

func runSentinel(t *testing.T, port int) {
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /sentinel HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	io.Copy(io.Discard, c)
}

// TestTCPFrontendUpgradeInProcess runs the upgrade through the in-process
// engine (so -race sees it) on both lanes: the first request by payload,
// a keep-alive follow-up by path, one with a tcp backend aborted, and
// raw bytes relayed to the tcp backend.
func TestTCPFrontendUpgradeInProcess(t *testing.T) {
	lanes(t, func(t *testing.T) {
		origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, r.Header.Get("X-Via"))
		}))
		t.Cleanup(origin.Close)
		echo := rawServer(t, func(c net.Conn) {
			line, _ := bufio.NewReader(c).ReadString('\n')
			io.WriteString(c, "echo:"+line)
		})
		src := strings.NewReplacer("{{PORT}}", fmt.Sprint(testenv.FreePort(t)), "{{LOG}}", "1", "{{S1}}", strings.TrimPrefix(origin.URL, "http://"), "{{ECHO}}", echo).Replace(upgradeConfig)
		set, d := config.LoadFiles(writeCfg(t, src), nil)
		if d.HasErrors() {
			t.Fatal(d.Err())
		}
		pcfg, err := FromConfig(set.HAProxy)
		if err != nil {
			t.Fatal(err)
		}
		pcfg.Frontends[0].Binds = nil
		_, addr := startEngine(t, pcfg)
		got := runUpgradeConns(t, addr)
		want := []string{
			"200 be=hb via=hb close=false", "200 be=hb via=hb close=false", "200 be=hbpath via=hbpath close=false", "200 be=hb via=hb close=false",
			"200 be=hb2 via=hb2 close=false", "200 be=hb via=hb close=false",
			"200 be=hbpath via=hbpath close=false", "closed",
			"200 be=hb via=hb close=true",
			`raw "echo:ECHO hello\n" err=false`,
			`raw "" err=true`,
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("(-want +got)\n%s", d)
		}
	})
}
