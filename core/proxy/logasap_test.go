package proxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// logLines receives syslog datagrams and keeps, for each, the part of the
// httplog line from the timers to the status and bytes, with the time it
// arrived.
type logLines struct {
	mu    sync.Mutex
	lines []string
	at    []time.Time
}

func (l *logLines) listen(t *testing.T) int {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	re := regexp.MustCompile(` (\S+/\S+/\S+/\S+/\S+) (\d+) (\S+) .*"(GET \S+)`)
	go func() {
		buf := make([]byte, 8192)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if m := re.FindStringSubmatch(string(buf[:n])); m != nil {
				timers := strings.Split(m[1], "/")
				// The times vary; keep whether each is partial ('+').
				for i, v := range timers {
					timers[i] = "n"
					if strings.HasPrefix(v, "+") {
						timers[i] = "+n"
					}
				}
				bytes := m[3]
				if m[4] == "GET /fast" {
					// The body may go out with the head or just after it
					// (HAProxy logs either, by timing): only the '+' counts.
					bytes = bytes[:1]
				}
				l.mu.Lock()
				l.lines = append(l.lines, strings.Join(timers, "/")+" "+m[2]+" "+bytes+" "+m[4])
				l.at = append(l.at, time.Now())
				l.mu.Unlock()
			}
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// take waits (5 s at most) for the line of the sentinel request sent
// after the ones compared (the lines before it are in by then), and
// returns the lines without it.
func (l *logLines) take(t *testing.T, sentinel string) ([]string, []time.Time) {
	t.Helper()
	has := func() bool {
		for _, s := range l.lines {
			if strings.HasSuffix(s, " "+sentinel) {
				return true
			}
		}
		return false
	}
	err := testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !has() {
			return fmt.Errorf("no log line for %s among %q", sentinel, l.lines)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var a []string
	var b []time.Time
	for i, s := range l.lines {
		if !strings.HasSuffix(s, " "+sentinel) {
			a, b = append(a, s), append(b, l.at[i])
		}
	}
	l.lines, l.at = nil, nil
	return a, b
}

// TestLogASAPDifferential runs `option logasap` through HAProxy 2.6 and
// the varde binary: the log line of a slow download arrives before its
// body ends, with '+' before Ta and B, and the same B (the head bytes); a
// deny's line has the '+' too.
func TestLogASAPDifferential(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		w.Header().Set("X-Test", "logasap")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		if r.URL.Path == "/slow" {
			time.Sleep(time.Second)
		}
		io.WriteString(w, "0123456789")
	}))
	t.Cleanup(srv.Close)
	var logs logLines
	logPort := logs.listen(t)
	render := func(port int) string {
		return fmt.Sprintf(`defaults
    mode http
    option httplog
    option logasap
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:%d
    log 127.0.0.1:%d local0
    http-request deny if { path /deny }
    default_backend be

backend be
    server a %s
`, port, logPort, strings.TrimPrefix(srv.URL, "http://"))
	}
	run := func(addr string) ([]string, time.Duration) {
		var slowEnd time.Time
		for _, p := range []string{"/fast", "/slow", "/deny", "/zz-sentinel"} {
			resp, err := http.Get("http://" + addr + p)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if p == "/slow" {
				slowEnd = time.Now()
			}
		}
		lines, at := logs.take(t, "GET /zz-sentinel")
		var early time.Duration
		for i, l := range lines {
			if strings.HasSuffix(l, "GET /slow") {
				early = slowEnd.Sub(at[i])
			}
		}
		return lines, early
	}
	ports := testenv.FreePorts(t, 2)
	dir := t.TempDir()
	hcfg, vcfg := filepath.Join(dir, "haproxy.cfg"), filepath.Join(dir, "varde.cfg")
	os.WriteFile(hcfg, []byte(render(ports[0])), 0o644)
	os.WriteFile(vcfg, []byte(render(ports[1])), 0o644)
	_, hlog := testenv.Start(t, haproxy, "-db", "-f", hcfg)
	testenv.WaitListening(t, "haproxy", hlog, ports[0])
	hLines, hEarly := run(fmt.Sprintf("127.0.0.1:%d", ports[0]))
	_, vlog := testenv.Start(t, varde, "run", "-f", vcfg)
	testenv.WaitListening(t, "varde", vlog, ports[1])
	vLines, vEarly := run(fmt.Sprintf("127.0.0.1:%d", ports[1]))
	t.Logf("haproxy %q (slow logged %v before its end)\nvarde   %q (%v)", hLines, hEarly, vLines, vEarly)
	if strings.Join(hLines, "\n") != strings.Join(vLines, "\n") {
		t.Errorf("log lines differ:\nhaproxy %q\nvarde   %q", hLines, vLines)
	}
	if hEarly < 500*time.Millisecond || vEarly < 500*time.Millisecond {
		t.Errorf("the slow download was not logged before it ended: haproxy %v, varde %v early", hEarly, vEarly)
	}
}

// TestLogASAPH2: an HTTP/2 stream goes through the same exchange, so it is
// logged as soon as its head is sent, with the ASAP mark.
func TestLogASAPH2(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		time.Sleep(time.Second)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	cfg := simpleConfig(strings.TrimPrefix(srv.URL, "http://"))
	cfg.Frontends[0].LogASAP = true
	sink := &recSink{}
	cfg.Sink = sink
	_, addr := startH2Engine(t, cfg)
	resp, err := h2Client(t).Get("http://" + addr + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	// The head is here; the body is a second away.
	deadline := time.Now().Add(700 * time.Millisecond)
	for len(sink.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	recs := sink.all()
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if len(recs) != 1 || !recs[0].ASAP || resp.ProtoMajor != 2 {
		t.Fatalf("before the body ended: %d records (ASAP %v), proto %s; want one early ASAP record", len(recs), len(recs) == 1 && recs[0].ASAP, resp.Proto)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(sink.all()); n != 1 {
		t.Errorf("%d records after the stream ended, want the early one only", n)
	}
}
