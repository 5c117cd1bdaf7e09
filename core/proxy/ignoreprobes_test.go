package proxy

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

// probesConfig: a 1 s timeout http-request so an empty connection times
// out quickly; {{OPT}} is `option http-ignore-probes` or nothing.
const probesConfig = `defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout http-request 1s
{{OPT}}
frontend fe
    bind 127.0.0.1:{{PORT}}
    log 127.0.0.1:{{SYSLOG}} local0
    option httplog
    default_backend be

backend be
    server a {{SERVER}}
`

const probesSentinel = "GET /zz-sentinel"

// probeOutcomes: what the client read on an empty connection left to
// time out (the status line, or "" when closed silently), and the status
// line of a normal request. A connection closed at once reads nothing
// either way, so only the log tells those apart.
type probeOutcomes struct {
	Timeout string
	Normal  string
}

func firstLine(b []byte) string {
	l, _, _ := strings.Cut(string(b), "\r\n")
	return l
}

// runProbes opens and closes an empty connection, lets another time out,
// sends a normal request, then the sentinel (each on its own connection).
func runProbes(t *testing.T, addr string) probeOutcomes {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil {
		t.Fatalf("empty connection: %v after %q (want a close within 5 s)", err, got)
	}
	var o probeOutcomes
	o.Timeout = firstLine(got)
	o.Normal = probeGet(t, addr, "/normal")
	probeGet(t, addr, "/zz-sentinel")
	return o
}

func probeGet(t *testing.T, addr, path string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", path)
	got, _ := io.ReadAll(c)
	return firstLine(got)
}

// TestIgnoreProbesDifferential runs the same configuration, with and
// without option http-ignore-probes, through HAProxy 2.6 and varde and
// compares what the client reads and what is logged (status and request
// line) for an empty connection closed at once, one that times out, and
// a normal request.
func TestIgnoreProbesDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	ms, srvAddr := startMonitorServer(t)
	slPort, l := startUDPSyslog(t, regexp.MustCompile(`\s(\d{3}) \d+ .*"([^"]*)"\s*$`))
	cases := []struct {
		name, opt string
		wantLog   []string // HAProxy's, checked too so the test cannot pass on a wrong premise
	}{
		// Two 400s: WaitTCP's connection and runProbes' first one, both
		// closed without a byte.
		{"without", "", []string{"200 GET /normal HTTP/1.1", "400 <BADREQ>", "400 <BADREQ>", "408 <BADREQ>"}},
		{"with", "    option http-ignore-probes", []string{"200 GET /normal HTTP/1.1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			render := func(port int) string {
				r := strings.NewReplacer("{{PORT}}", fmt.Sprint(port), "{{SYSLOG}}", fmt.Sprint(slPort),
					"{{SERVER}}", srvAddr, "{{OPT}}", tc.opt)
				return r.Replace(probesConfig)
			}
			hOut, hLog := probesHAProxy(t, haproxy, render, l)
			vOut, vLog := probesVarde(t, render)
			ms.take()
			t.Logf("haproxy %+v %q | varde %+v %q", hOut, hLog, vOut, vLog)
			if d := cmp.Diff(tc.wantLog, hLog); d != "" {
				t.Errorf("HAProxy's log is not what this test expects (-want +haproxy)\n%s", d)
			}
			if d := cmp.Diff(hOut, vOut); d != "" {
				t.Errorf("client-side outcomes differ (-haproxy +varde)\n%s", d)
			}
			if d := cmp.Diff(hLog, vLog); d != "" {
				t.Errorf("logged lines differ (-haproxy +varde)\n%s", d)
			}
		})
	}
}

func probesHAProxy(t *testing.T, haproxy string, render func(int) string, l *udpSyslog) (probeOutcomes, []string) {
	l.mu.Lock()
	l.got = nil
	l.mu.Unlock()
	hport := testenv.FreePort(t)
	hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg) // stopped at cleanup
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	out := runProbes(t, haddr)
	var logged []string
	err := testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		logged = logged[:0]
		for _, m := range l.got {
			logged = append(logged, m[1]+" "+m[2])
		}
		if !slices.Contains(logged, "200 "+probesSentinel+" HTTP/1.1") {
			return fmt.Errorf("no sentinel among %q", logged)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, dropSentinel(logged)
}

func probesVarde(t *testing.T, render func(int) string) (probeOutcomes, []string) {
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
	testenv.WaitTCP(t, vaddr, 10*time.Second) // the same empty connection HAProxy's start got
	out := runProbes(t, vaddr)
	var logged []string
	err = testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		logged = logged[:0]
		for _, r := range sink.all() {
			line := string(r.RequestLine.Bytes())
			if line == "" {
				line = "<BADREQ>" // how %r prints a record without a request line
			}
			logged = append(logged, fmt.Sprintf("%d %s", r.Status, line))
		}
		if !slices.Contains(logged, "200 "+probesSentinel+" HTTP/1.1") {
			return fmt.Errorf("no sentinel among %q", logged)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, dropSentinel(logged)
}

func dropSentinel(logged []string) []string {
	out := slices.DeleteFunc(slices.Clone(logged), func(s string) bool { return strings.Contains(s, probesSentinel) })
	sort.Strings(out)
	return out
}
