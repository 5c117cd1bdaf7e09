package logpipe_test

import (
	"fmt"
	"net"
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

// clfConfig sends `option httplog clf` lines, raw, to a UDP syslog
// receiver; HAProxy and varde run it unchanged but for the ports.
const clfConfig = `global
    log 127.0.0.1:%[1]d format raw local0
defaults
    mode http
    log global
    option httplog clf
    option dontlognull
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%[2]d
    capture request header Host len 32
    capture request header X-Forwarded-For len 64
    capture response header Content-Type len 32
    capture cookie SID len 12
    http-request deny if { path_beg /denied }
    default_backend be
backend be
    server s1 127.0.0.1:%[3]d
    server s2 127.0.0.1:%[4]d
`

// udpLines collects every datagram sent to a loopback UDP port.
type udpLines struct {
	mu    sync.Mutex
	lines []string
}

func listenUDPLines(t *testing.T) (int, *udpLines) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	u := &udpLines{}
	go func() {
		buf := make([]byte, 8192)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			u.mu.Lock()
			u.lines = append(u.lines, strings.TrimRight(string(buf[:n]), "\n"))
			u.mu.Unlock()
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).Port, u
}

func (u *udpLines) wait(t *testing.T, n int, who string) []string {
	t.Helper()
	var got []string
	err := testenv.Until(15*time.Second, 20*time.Millisecond, func() error {
		u.mu.Lock()
		got = append(got[:0], u.lines...)
		u.mu.Unlock()
		if len(got) < n {
			return fmt.Errorf("%s: %d of %d lines: %q", who, len(got), n, got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

var clfDate = regexp.MustCompile(`^(\S+ - - )\[\d\d/[A-Z][a-z][a-z]/\d{4}:\d\d:\d\d:\d\d \+0000\] `)

// clfWords splits a CLF line into its fields, a quoted string being one.
func clfWords(l string) []string {
	var out []string
	for len(l) > 0 {
		l = strings.TrimLeft(l, " ")
		end := strings.IndexByte(l, ' ')
		if strings.HasPrefix(l, `"`) {
			end = strings.Index(l[1:], `" `)
			if end >= 0 {
				end += 2
			}
		}
		if end < 0 {
			end = len(l)
		}
		out = append(out, l[:end])
		l = l[end:]
	}
	return out
}

// clfComparable masks what legitimately differs between two runs of the
// same requests: the date (checked for its GMT shape), the client port,
// the milliseconds, the timers that were reached (a timer not reached,
// -1, must agree) and the connection counters, which race with the
// previous connection's close in both proxies (see engineFact).
func clfComparable(l string) string {
	m := clfDate.FindStringSubmatch(l)
	if m == nil {
		return "bad date: " + l
	}
	w := clfWords(m[1] + "[DATE] " + l[len(m[0]):])
	for i := range w {
		switch {
		case i == 9 || i == 10:
			w[i] = "N"
		case i >= 14 && i <= 18 && w[i] != "-1":
			w[i] = "T"
		case i >= 20 && i <= 24:
			w[i] = "C"
		}
	}
	return strings.Join(w, " ")
}

// TestCLFLogMatchesHAProxy: `option httplog clf` lines, as a syslog
// receiver gets them from HAProxy 2.6 and from varde, are the same bytes
// but for dates, ports, milliseconds, timer values and connection counts.
func TestCLFLogMatchesHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	dir := t.TempDir()
	b1, b2 := backend(t, "s1"), backend(t, "s2")
	lines := map[string][]string{}
	for _, who := range []string{"haproxy", "varde"} {
		sl, rec := listenUDPLines(t)
		port := testenv.FreePort(t)
		cfg := filepath.Join(dir, who+".cfg")
		os.WriteFile(cfg, []byte(fmt.Sprintf(clfConfig, sl, port, b1, b2)), 0o644)
		if who == "haproxy" {
			testenv.Start(t, haproxy, "-db", "-f", cfg)
		} else {
			testenv.Start(t, varde, "run", "-f", cfg)
		}
		testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
		sendAll(t, port)
		sendDenied(t, port)
		lines[who] = rec.wait(t, len(e2eRequests)+2, who)
	}
	norm := func(ls []string) []string {
		var out []string
		for _, l := range ls {
			out = append(out, clfComparable(l))
		}
		sort.Strings(out)
		return out
	}
	h, v := norm(lines["haproxy"]), norm(lines["varde"])
	if len(h) != len(v) {
		t.Fatalf("haproxy logged %d lines, varde %d\nhaproxy %q\nvarde %q", len(h), len(v), lines["haproxy"], lines["varde"])
	}
	for i := range h {
		if h[i] != v[i] {
			t.Errorf("line differs\nhaproxy %s\n  varde %s", h[i], v[i])
		}
	}
	t.Logf("e.g. haproxy %s\n       varde %s", lines["haproxy"][0], lines["varde"][0])
}

// sendDenied sends a request the frontend denies (403, logged by both).
func sendDenied(t *testing.T, port int) {
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET /denied?a=\"b\" HTTP/1.1\r\nHost: deny.example\r\nCookie: SID=abc\r\nConnection: close\r\n\r\n")
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
