package logpipe_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// One configuration for HAProxy and varde: a backend with one live and
// one refusing server and log-health-checks, a backend with checks but
// without it, and a listen section whose active and backup servers both
// refuse. Ports: %[1]d syslog, %[2]d frontend, %[3]d live server, %[4]d and
// %[5]d refusing, %[6]d listen bind.
const eventsConfig = `global
    log 127.0.0.1:%[1]d local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 1s
frontend fe
    bind 127.0.0.1:%[2]d
    default_backend app
backend app
    option log-health-checks
    server web1 127.0.0.1:%[3]d check inter 200 rise 2 fall 2
    server web2 127.0.0.1:%[4]d check inter 200 rise 2 fall 2
backend solo
    log-tag svc
    server s1 127.0.0.1:%[5]d check inter 200 fall 1
listen li
    bind 127.0.0.1:%[6]d
    server s1 127.0.0.1:%[4]d check inter 200 fall 1
    server b1 127.0.0.1:%[5]d check inter 200 fall 1 backup
`

// syslogUDP collects the datagrams sent to a local UDP port.
type syslogUDP struct {
	conn *net.UDPConn
	mu   sync.Mutex
	msgs []string
}

func listenSyslog(t *testing.T) *syslogUDP {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &syslogUDP{conn: c}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, string(buf[:n]))
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *syslogUDP) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

func (s *syslogUDP) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

var (
	syslogHead = regexp.MustCompile(`^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d ([a-z]+)\[\d+\]: (.*)$`)
	checkMS    = regexp.MustCompile(`check duration: \d+ms`)
)

// events keeps the state-change messages ("PRI TAG: MSG"), check
// durations normalised, sorted: the two proxies check in different orders.
func events(t *testing.T, msgs []string) []string {
	var out []string
	for _, m := range msgs {
		m = strings.TrimRight(m, "\n")
		sm := syslogHead.FindStringSubmatch(m)
		if sm == nil {
			t.Errorf("not an RFC 3164 line with a tag: %q", m)
			continue
		}
		body := sm[3]
		if strings.Contains(body, " check for ") || strings.Contains(body, " is DOWN") || strings.Contains(body, " is UP") ||
			strings.Contains(body, "has no server available") {
			out = append(out, sm[1]+" "+sm[2]+": "+checkMS.ReplaceAllString(body, "check duration: Nms"))
		}
	}
	sort.Strings(out)
	return out
}

func TestServerEventsMatchHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	live := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go live.Serve(ln)
	t.Cleanup(func() { live.Close() })
	livePort := ln.Addr().(*net.TCPAddr).Port
	ports := testenv.FreePorts(t, 6) // two refusing ports, two binds each
	dir := t.TempDir()
	run := func(bin string, args ...string) []string {
		rx := listenSyslog(t)
		cfg := filepath.Join(dir, fmt.Sprintf("%d.cfg", rx.port()))
		fe, li := ports[2], ports[3]
		if bin == varde {
			fe, li = ports[4], ports[5]
		}
		os.WriteFile(cfg, []byte(fmt.Sprintf(eventsConfig, rx.port(), fe, livePort, ports[0], ports[1], li)), 0o644)
		testenv.Start(t, bin, append(args, "-f", cfg)...)
		waitFor := func(n int) {
			err := testenv.Until(10*time.Second, 50*time.Millisecond, func() error {
				if got := events(t, rx.lines()); len(got) < n {
					return fmt.Errorf("%d of %d events", len(got), n)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v: %q", bin, err, rx.lines())
			}
		}
		waitFor(8)
		// web2 and li/s1 come back: check lines and UP lines.
		up, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0]))
		if err != nil {
			t.Fatal(err)
		}
		go http.Serve(up, http.NotFoundHandler())
		waitFor(12)
		time.Sleep(300 * time.Millisecond) // nothing more may come
		up.Close()
		return events(t, rx.lines())
	}
	want := run(haproxy, "-db")
	got := run(varde, "run")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("varde's events differ from HAProxy's:\nvarde:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The shape this test relies on, in HAProxy's own words.
	for _, s := range []string{
		`129 svc: Server solo/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`,
		`128 svc: backend solo has no server available!`, // the backend's log-tag
		`128 haproxy: proxy li has no server available!`,
		`133 haproxy: Health check for server app/web2 failed, reason: Layer4 connection problem, info: "Connection refused", check duration: Nms, status: 0/2 DOWN.`,
		`133 haproxy: Server app/web2 is UP. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.`,
	} {
		if !contains(want, s) {
			t.Errorf("HAProxy did not log %q; it logged:\n%s", s, strings.Join(want, "\n"))
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// `set server B/S state drain|ready|maint` on the admin socket: the same
// lines as HAProxy's, in order.
func TestAdminStateEventsMatchHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	live := &http.Server{Handler: http.NotFoundHandler()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go live.Serve(ln)
	t.Cleanup(func() { live.Close() })
	dir := t.TempDir()
	cmds := []string{"set server app/web1 state drain", "set server app/web1 state ready", "set server app/web1 state maint",
		"set server app/web1 state ready", "set server app/web2 state maint", "set server app/web1 state maint",
		"set server app/web1 state ready", "set server app/web2 state drain"}
	run := func(bin string, args ...string) []string {
		rx := listenSyslog(t)
		sock := filepath.Join(dir, fmt.Sprintf("%d.sock", rx.port()))
		cfg := filepath.Join(dir, fmt.Sprintf("%d.cfg", rx.port()))
		fe := testenv.FreePort(t)
		os.WriteFile(cfg, []byte(fmt.Sprintf(`global
    log 127.0.0.1:%d local0
    stats socket %s level admin
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    default_backend app
backend app
    server web1 %s check inter 200 rise 2 fall 2
    server web2 %s
`, rx.port(), sock, fe, ln.Addr(), ln.Addr())), 0o644)
		testenv.Start(t, bin, append(args, "-f", cfg)...)
		testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", fe), 10*time.Second)
		time.Sleep(500 * time.Millisecond) // first checks
		for _, c := range cmds {
			conn, err := net.Dial("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			conn.Write([]byte(c + "\n"))
			buf := make([]byte, 512)
			conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			conn.Read(buf)
			conn.Close()
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		var out []string
		for _, m := range rx.lines() {
			m = strings.TrimRight(m, "\n")
			if sm := syslogHead.FindStringSubmatch(m); sm != nil {
				out = append(out, sm[1]+" "+checkMS.ReplaceAllString(sm[3], "check duration: Nms"))
			}
		}
		return out
	}
	want := run(haproxy, "-db")
	got := run(varde, "run")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("varde:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(want) < len(cmds) {
		t.Errorf("HAProxy logged %d lines for %d commands:\n%s", len(want), len(cmds), strings.Join(want, "\n"))
	}
}
