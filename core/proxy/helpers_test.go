package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/testenv"
)

// startEngine runs cfg with one loopback listener on the first frontend and
// returns its address.
func startEngine(t testing.TB, cfg *Config) (*Engine, string) {
	t.Helper()
	return startEngineOn(t, cfg, func(fc *FrontendConfig, l net.Listener) {
		fc.Listeners = append(fc.Listeners, l)
	})
}

// startEngineOn opens a loopback listener, lets add give it to the first
// frontend (as a plain, HTTP/2 or TLS listener), starts the engine and
// stops it at the end of the test.
func startEngineOn(t testing.TB, cfg *Config, add func(*FrontendConfig, net.Listener)) (*Engine, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	add(cfg.Frontends[0], l)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	e, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Stop(ctx)
	})
	return e, l.Addr().String()
}

// simpleConfig is one HTTP frontend to one roundrobin backend over addrs.
func simpleConfig(addrs ...string) *Config {
	be := &BackendConfig{Name: "be", Mode: ModeHTTP, Retries: -1, Balance: core.BalanceSpec{Algorithm: "proxytest-rr"}, Timeouts: Timeouts{Connect: time.Second, Server: 5 * time.Second}}
	for i, a := range addrs {
		be.Servers = append(be.Servers, ServerConfig{Name: fmt.Sprintf("s%d", i+1), Addr: a})
	}
	return &Config{
		Frontends: []*FrontendConfig{{Name: "fe", Mode: ModeHTTP, DefaultBackend: "be",
			Timeouts: Timeouts{Client: 5 * time.Second, HTTPRequest: 5 * time.Second}}},
		Backends: []*BackendConfig{be},
	}
}

// seen is what a test backend observed.
type seen struct {
	mu   sync.Mutex
	reqs []*http.Request
	hits atomic.Int64
}

func (s *seen) last() *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		return nil
	}
	return s.reqs[len(s.reqs)-1]
}

// backend is a real net/http server that answers with its name and records
// what it received.
func backend(t testing.TB, name string, h http.HandlerFunc) (*httptest.Server, *seen) {
	t.Helper()
	sn := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sn.hits.Add(1)
		sn.mu.Lock()
		sn.reqs = append(sn.reqs, r.Clone(context.Background()))
		sn.mu.Unlock()
		w.Header().Set("X-Server", name)
		if h != nil {
			h(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "hello from %s", name)
	}))
	t.Cleanup(srv.Close)
	return srv, sn
}

func hostport(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

// rawExchange writes raw bytes and reads one response with net/http's
// parser (the client side is not under test).
func rawExchange(t testing.TB, c net.Conn, br *bufio.Reader, raw, method string) *http.Response {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response to %q: %v", raw, err)
	}
	return resp
}

func body(t testing.TB, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	return string(b)
}

// recSink keeps copies of the records for assertions.
type recSink struct {
	mu   sync.Mutex
	recs []logrec.Record
}

func (s *recSink) Log(r *logrec.Record) {
	s.mu.Lock()
	s.recs = append(s.recs, *r)
	s.mu.Unlock()
}

func (s *recSink) all() []logrec.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]logrec.Record(nil), s.recs...)
}

// testRR is a plain round robin registered under a test-only name, so the
// engine's tests do not depend on the balancer plugins' own behaviour.
type testRR struct {
	pool atomic.Pointer[[]*core.Server]
	next atomic.Uint64
}

func (b *testRR) Update(p []*core.Server) { b.pool.Store(&p) }
func (b *testRR) Pick(ctx *core.PickContext) *core.Server {
	p := *b.pool.Load()
	for range len(p) {
		s := p[int(b.next.Add(1)-1)%len(p)]
		if !ctx.Skip(s) {
			return s
		}
	}
	return nil
}

func init() {
	core.RegisterBalancer("proxytest-rr", func(core.BalanceSpec) (core.Balancer, error) {
		b := &testRR{}
		b.pool.Store(new([]*core.Server))
		return b, nil
	})
}

// rawServer listens on loopback, runs handle for every accepted connection
// (closing it afterwards) until the test ends, and returns the address.
// Tests use it for backends that must misbehave at the byte level.
func rawServer(tb testing.TB, handle func(c net.Conn)) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return l.Addr().String()
}

// lanes runs fn on an event loop and on the goroutine lane (what runs off
// Linux or with VARDE_LOOPS=0).
func lanes(t *testing.T, fn func(t *testing.T)) {
	for _, lane := range []string{"loop", "goroutine"} {
		t.Run(lane, func(t *testing.T) {
			if lane == "goroutine" {
				t.Setenv("VARDE_LOOPS", "0")
			} else {
				t.Setenv("VARDE_LOOPS", "1")
			}
			fn(t)
		})
	}
}

// udpSyslog collects, from every datagram sent to a loopback UDP port (a
// proxy's log target in the differential tests), the submatches of re.
type udpSyslog struct {
	mu  sync.Mutex
	got [][]string
}

func startUDPSyslog(t *testing.T, re *regexp.Regexp) (int, *udpSyslog) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	l := &udpSyslog{}
	go func() {
		buf := make([]byte, 8192)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if m := re.FindStringSubmatch(string(buf[:n])); m != nil {
				l.mu.Lock()
				l.got = append(l.got, m)
				l.mu.Unlock()
			}
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).Port, l
}

// column waits (5 s at most) for a line whose submatch key is sentinel
// (a request sent after the others), then returns submatch i of every
// line so far, sorted.
func (l *udpSyslog) column(t *testing.T, key int, sentinel string, i int) []string {
	t.Helper()
	col := func(k int) []string {
		out := make([]string, 0, len(l.got))
		for _, m := range l.got {
			out = append(out, m[k])
		}
		return out
	}
	err := testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if keys := col(key); !slices.Contains(keys, sentinel) {
			return fmt.Errorf("no log line for %s among %q", sentinel, keys)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := col(i)
	sort.Strings(out)
	return out
}

// startHAProxyText writes text to a temporary haproxy.cfg and runs Debian's
// HAProxy on it (-db) until the test ends: the other half of a
// differential test. It returns the process and its output's file.
func startHAProxyText(t *testing.T, text string) (*exec.Cmd, string) {
	t.Helper()
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	hcfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(hcfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return testenv.Start(t, haproxy, "-db", "-f", hcfg)
}

// startVardeText runs the engine on a configuration text; it returns the
// configured bind's address.
func startVardeText(t *testing.T, text string, port int) string {
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
	startEngine(t, pcfg)
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// engineConfigText parses a configuration text (name is its file name in
// errors) and converts it for the engine; any error ends the test.
func engineConfigText(tb testing.TB, name, text string) *Config {
	tb.Helper()
	var d diag.List
	c := config.Parse(name, []byte(text), nil, &d)
	if d.HasErrors() {
		tb.Fatal(d.Err())
	}
	pcfg, err := FromConfig(c)
	if err != nil {
		tb.Fatal(err)
	}
	return pcfg
}

// statsCSV fetches a stats CSV (`;csv`) and returns its rows, each keyed by
// the header's column names.
func statsCSV(t *testing.T, url string) []map[string]string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	lines := strings.Split(strings.TrimPrefix(string(b), "# "), "\n")
	head := strings.Split(lines[0], ",")
	var rows []map[string]string
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) < len(head) {
			continue
		}
		r := make(map[string]string, len(head))
		for i, h := range head {
			r[h] = f[i]
		}
		rows = append(rows, r)
	}
	return rows
}
