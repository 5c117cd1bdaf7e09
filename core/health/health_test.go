package health_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/testenv"
	_ "github.com/varde-lb/varde/plugins/check/all"
)

// flaky is a real HTTP backend whose health URL can be switched between 200
// and 503; it counts how many failing answers it gave.
type flaky struct {
	srv     *httptest.Server
	failing atomic.Bool
	fails   atomic.Int64
	oks     atomic.Int64
	other   atomic.Int64 // requests to any other URL
}

func newFlaky(t *testing.T) *flaky {
	f := &flaky{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			f.other.Add(1)
			return
		}
		if f.failing.Load() {
			f.fails.Add(1)
			w.WriteHeader(503)
			return
		}
		f.oks.Add(1)
		fmt.Fprintln(w, "ok")
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *flaky) addr() netip.AddrPort {
	return netip.MustParseAddrPort(f.srv.Listener.Addr().String())
}

type transition struct {
	up    bool
	fails int64
	oks   int64
	at    time.Time
}

func TestRiseFallCountsChecks(t *testing.T) {
	t.Parallel()
	b := newFlaky(t)
	s := core.NewServer("be", "web1", 1, b.addr(), 1, 0)
	var mu sync.Mutex
	var got []transition
	m := health.NewManager(health.Options{Notify: func(s *core.Server) {
		mu.Lock()
		got = append(got, transition{up: s.IsUp(), fails: b.fails.Load(), oks: b.oks.Load(), at: time.Now()})
		mu.Unlock()
	}})
	const inter, rise, fall = 40 * time.Millisecond, 2, 3
	cfg := health.Config{Enabled: true, Inter: inter, Rise: rise, Fall: fall, Timeout: 2 * time.Second, // never a spurious timeout on a loaded machine
		Probe: health.ProbeSpec{Type: "http", HTTP: health.HTTPSpec{Method: "GET", URI: "/health"}}}
	if err := m.Add(s, cfg); err != nil {
		t.Fatal(err)
	}
	m.Start(context.Background())
	defer m.Close()

	// Fully up: health counter at rise+fall-1 after the first success.
	waitInfo(t, m, s, func(i health.Info) bool { return i.Health == rise+fall-1 })
	if st := statusOf(m, s); st != "UP" {
		t.Fatalf("status %q, want UP", st)
	}
	b.failing.Store(true)
	failedAt := time.Now()
	waitTransitions(t, &mu, &got, 1)
	mu.Lock()
	down := got[0]
	mu.Unlock()
	if down.up || down.fails != fall {
		t.Fatalf("went down=%v after %d failing checks, want down after exactly %d", !down.up, down.fails, fall)
	}
	t.Logf("check-to-DOWN: %v (inter*fall = %v)", down.at.Sub(failedAt), inter*fall)
	// Generous bound: timers slip on a loaded CI machine; the exact check
	// count above is the real assertion.
	if d := down.at.Sub(failedAt); d > inter*(fall+1)+2*time.Second {
		t.Errorf("down after %v, want about inter*fall=%v", d, inter*fall)
	}
	okBefore := b.oks.Load()
	b.failing.Store(false)
	waitTransitions(t, &mu, &got, 2)
	mu.Lock()
	up := got[1]
	mu.Unlock()
	if !up.up || up.oks-okBefore != rise {
		t.Fatalf("came up=%v after %d passing checks, want up after exactly %d", up.up, up.oks-okBefore, rise)
	}
	if b.other.Load() != 0 {
		t.Fatalf("checks sent %d requests outside the health URL", b.other.Load())
	}
	i, _ := m.Info(s)
	if i.ChkDown != 1 || i.ChkFail != fall || i.Status != "L7OK" || i.Code != 200 {
		t.Fatalf("info = %+v", i)
	}
}

func TestFirstFailureAtStartMarksDown(t *testing.T) {
	t.Parallel()
	// HAProxy starts a checked server UP with health == rise, so the first
	// failed check marks it down at once (no `fall` wait at start).
	addr := closedAddr(t)
	s := core.NewServer("be", "dead", 1, addr, 1, 0)
	m := health.NewManager(health.Options{})
	if err := m.Add(s, health.Config{Enabled: true, Inter: 30 * time.Millisecond, Rise: 2, Fall: 3}); err != nil {
		t.Fatal(err)
	}
	if !s.IsUp() || statusOf(m, s) != "UP 1/3" {
		t.Fatalf("before checks: up=%v status=%q, want UP 1/3", s.IsUp(), statusOf(m, s))
	}
	m.Start(context.Background())
	defer m.Close()
	i := waitInfo(t, m, s, func(i health.Info) bool { return i.ChkFail >= 1 })
	if s.IsUp() || i.ChkFail != 1 && i.Health != 0 {
		t.Fatalf("after one failure: up=%v info=%+v", s.IsUp(), i)
	}
	if i.Status != "L4CON" || i.Detail != "Connection refused" {
		t.Fatalf("status %q %q, want L4CON Connection refused", i.Status, i.Detail)
	}
	if got := s.CheckStatus.Load(); got != "L4CON" {
		t.Fatalf("server CheckStatus %v", got)
	}
}

func TestStatusWords(t *testing.T) {
	t.Parallel()
	hang := hangingListener(t)
	bad := rawServer(t, "SSH-2.0-OpenSSH\r\n")
	body := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "status: degraded")
	}))
	defer body.Close()
	httpSpec := func(e ...health.Expect) health.ProbeSpec {
		return health.ProbeSpec{Type: "http", HTTP: health.HTTPSpec{Method: "GET", URI: "/", Expect: e}}
	}
	bodyAddr := netip.MustParseAddrPort(body.Listener.Addr().String())
	tests := []struct {
		name string
		addr netip.AddrPort
		spec health.ProbeSpec
		want string
		ok   bool
	}{
		{"tcp ok", bodyAddr, health.ProbeSpec{Type: "tcp"}, "L4OK", true},
		{"refused", closedAddr(t), health.ProbeSpec{Type: "tcp"}, "L4CON", false},
		{"http no answer", hang, httpSpec(), "L7TOUT", false},
		{"not http", bad, httpSpec(), "L7RSP", false},
		{"http 200", bodyAddr, httpSpec(), "L7OK", true},
		{"expect status 201", bodyAddr, httpSpec(health.Expect{Kind: "status", Pattern: "201"}), "L7STS", false},
		{"expect ! status 500", bodyAddr, httpSpec(health.Expect{Negate: true, Kind: "status", Pattern: "500"}), "L7OK", true},
		{"expect rstatus ^2", bodyAddr, httpSpec(health.Expect{Kind: "rstatus", Pattern: "^2"}), "L7OK", true},
		{"expect string ok", bodyAddr, httpSpec(health.Expect{Kind: "string", Pattern: "status: ok"}), "L7RSP", false},
		{"expect ! rstring degraded", bodyAddr, httpSpec(health.Expect{Negate: true, Kind: "rstring", Pattern: "degr.ded"}), "L7RSP", false},
		{"expect rstring degraded", bodyAddr, httpSpec(health.Expect{Kind: "rstring", Pattern: "degr.ded"}), "L7OK", true},
		{"ssl-hello on plain http", bodyAddr, health.ProbeSpec{Type: "ssl-hello"}, "L6RSP", false},
		{"ssl-hello no answer", hang, health.ProbeSpec{Type: "ssl-hello"}, "L6TOUT", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := health.NewProbe(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			r := p.Check(ctx, health.Target{Addr: tc.addr, Timeout: 300 * time.Millisecond})
			if r.Status != tc.want || r.OK != tc.ok {
				t.Fatalf("got %s ok=%v (%s), want %s ok=%v", r.Status, r.OK, r.Info, tc.want, tc.ok)
			}
		})
	}
}

func TestSSLHelloOnTLS(t *testing.T) {
	t.Parallel()
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	defer ts.Close()
	p, _ := health.NewProbe(health.ProbeSpec{Type: "ssl-hello"})
	r := p.Check(context.Background(), health.Target{Addr: netip.MustParseAddrPort(ts.Listener.Addr().String()), Timeout: time.Second})
	if !r.OK || r.Status != "L6OK" {
		t.Fatalf("got %+v, want L6OK", r)
	}
}

func TestOneProbeInFlight(t *testing.T) {
	t.Parallel()
	var inFlight, maxInFlight, calls atomic.Int64
	name := fmt.Sprintf("test-slow-%d", probeSeq.Add(1))
	health.RegisterProbe(name, func(health.ProbeSpec) (health.Probe, error) {
		return health.ProbeFunc(func(ctx context.Context, _ health.Target) core.CheckResult {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				m := maxInFlight.Load()
				if n <= m || maxInFlight.CompareAndSwap(m, n) {
					break
				}
			}
			calls.Add(1)
			select { // slower than inter: a naive ticker would overlap probes
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
			}
			return core.CheckResult{OK: true, Status: "L4OK"}
		}), nil
	})
	s := core.NewServer("be", "slow", 1, netip.MustParseAddrPort("127.0.0.1:1"), 1, 0)
	m := health.NewManager(health.Options{})
	if err := m.Add(s, health.Config{Enabled: true, Inter: 5 * time.Millisecond, Timeout: time.Second, Probe: health.ProbeSpec{Type: name}}); err != nil {
		t.Fatal(err)
	}
	m.Start(context.Background())
	if err := testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
		if calls.Load() < 5 {
			return fmt.Errorf("%d calls", calls.Load())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if maxInFlight.Load() != 1 {
		t.Fatalf("max probes in flight %d, want 1", maxInFlight.Load())
	}
}

// probeSeq keeps test probe names unique across -count runs (the probe
// registry is process-wide).
var probeSeq atomic.Int64

// scripted registers a probe whose verdict the test flips.
func scripted(t *testing.T, ok *atomic.Bool) string {
	name := fmt.Sprintf("test-scripted-%d", probeSeq.Add(1))
	health.RegisterProbe(name, func(health.ProbeSpec) (health.Probe, error) {
		return health.ProbeFunc(func(context.Context, health.Target) core.CheckResult {
			if ok.Load() {
				return core.CheckResult{OK: true, Status: "L7OK", Code: 200}
			}
			return core.CheckResult{Status: "L7STS", Code: 503}
		}), nil
	})
	return name
}

func TestPassiveOnError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		onError  string
		wantDown bool
		status   string
	}{
		{health.OnErrorMarkDown, true, "DOWN"},
		{health.OnErrorSuddenDeath, false, "UP 1/3"},
		{health.OnErrorFailCheck, false, "UP 2/3"},
		{health.OnErrorFastInter, false, "UP"},
	} {
		t.Run(tc.onError, func(t *testing.T) {
			var ok atomic.Bool
			ok.Store(true)
			s := core.NewServer("be", "p", 1, netip.MustParseAddrPort("127.0.0.1:1"), 1, 0)
			m := health.NewManager(health.Options{})
			// A long inter keeps active checks out of the way after the first.
			cfg := health.Config{Enabled: true, Inter: time.Hour, FastInter: time.Hour, Rise: 2, Fall: 3,
				Observe: "layer7", ErrorLimit: 3, OnError: tc.onError, Probe: health.ProbeSpec{Type: scripted(t, &ok)}}
			if err := m.Add(s, cfg); err != nil {
				t.Fatal(err)
			}
			m.Start(context.Background())
			defer m.Close()
			waitInfo(t, m, s, func(i health.Info) bool { return i.Health == 4 })
			m.ObserveHTTP(s, 503)
			m.ObserveHTTP(s, 200) // a success resets the consecutive count
			m.ObserveHTTP(s, 503)
			m.ObserveHTTP(s, 501) // not an error for layer7 (like HAProxy): resets too
			m.ObserveHTTP(s, 503)
			m.ObserveHTTP(s, 502)
			if st := statusOf(m, s); st != "UP" {
				t.Fatalf("before error-limit: %q", st)
			}
			m.ObserveHTTP(s, 500)
			if st := statusOf(m, s); st != tc.status || s.IsUp() == tc.wantDown {
				t.Fatalf("after error-limit: status %q up=%v, want %q", st, s.IsUp(), tc.status)
			}
		})
	}
}

func TestSlowstartRamp(t *testing.T) {
	t.Parallel()
	var ok atomic.Bool
	ok.Store(true)
	s := core.NewServer("be", "ss", 1, netip.MustParseAddrPort("127.0.0.1:1"), 100, 0)
	var mu sync.Mutex
	var weights []int
	m := health.NewManager(health.Options{Notify: func(s *core.Server) {
		mu.Lock()
		weights = append(weights, s.Weight())
		mu.Unlock()
	}})
	cfg := health.Config{Enabled: true, Inter: 10 * time.Millisecond, Rise: 1, Fall: 1, Slowstart: 400 * time.Millisecond,
		Probe: health.ProbeSpec{Type: scripted(t, &ok)}}
	if err := m.Add(s, cfg); err != nil {
		t.Fatal(err)
	}
	m.Start(context.Background())
	defer m.Close()
	ok.Store(false)
	waitInfo(t, m, s, func(i health.Info) bool { return !s.IsUp() })
	ok.Store(true)
	waitInfo(t, m, s, func(i health.Info) bool { return s.IsUp() })
	if w := s.Weight(); w >= 100 {
		t.Fatalf("weight %d right after coming up, want a ramp below 100", w)
	}
	waitInfo(t, m, s, func(i health.Info) bool { return s.Weight() == 100 && !i.Slowstarting })
	mu.Lock()
	defer mu.Unlock()
	rising := 0
	for i := 1; i < len(weights); i++ {
		if weights[i] > weights[i-1] {
			rising++
		}
	}
	if rising < 3 {
		t.Fatalf("weights %v: want a gradual ramp", weights)
	}
}

func TestAdminMaintStopsChecks(t *testing.T) {
	t.Parallel()
	b := newFlaky(t)
	s := core.NewServer("be", "m", 1, b.addr(), 1, 0)
	m := health.NewManager(health.Options{})
	if err := m.Add(s, health.Config{Enabled: true, Inter: 10 * time.Millisecond, Timeout: 2 * time.Second,
		Probe: health.ProbeSpec{Type: "http", HTTP: health.HTTPSpec{URI: "/health"}}}); err != nil {
		t.Fatal(err)
	}
	m.Start(context.Background())
	defer m.Close()
	waitInfo(t, m, s, func(i health.Info) bool { return b.oks.Load() >= 2 })
	m.SetAdmin(s, core.AdminMaint)
	if statusOf(m, s) != "MAINT" || s.Usable() {
		t.Fatalf("maint: status %q usable %v", statusOf(m, s), s.Usable())
	}
	time.Sleep(30 * time.Millisecond) // let an in-flight probe finish
	n := b.oks.Load()
	time.Sleep(100 * time.Millisecond) // ten inters: none may run
	if d := b.oks.Load() - n; d != 0 {
		t.Fatalf("%d checks ran in maintenance", d)
	}
	m.SetAdmin(s, core.AdminDrain)
	if statusOf(m, s) != "DRAIN" {
		t.Fatalf("drain: %q", statusOf(m, s))
	}
	m.SetAdmin(s, core.AdminReady)
	waitInfo(t, m, s, func(i health.Info) bool { return b.oks.Load() > n })
}

func TestAgent(t *testing.T) {
	t.Parallel()
	var reply atomic.Value
	reply.Store("50% drain\n")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			fmt.Fprint(c, reply.Load().(string))
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	s := core.NewServer("be", "ag", 1, netip.MustParseAddrPort("127.0.0.1:1"), 10, 0)
	m := health.NewManager(health.Options{})
	if err := m.Add(s, health.Config{Inter: 10 * time.Millisecond, Timeout: 2 * time.Second, Agent: &health.AgentConfig{Port: port}}); err != nil {
		t.Fatal(err)
	}
	m.Start(context.Background())
	defer m.Close()
	waitInfo(t, m, s, func(health.Info) bool { return s.Weight() == 5 && s.Admin() == core.AdminDrain })
	reply.Store("down\n")
	waitInfo(t, m, s, func(health.Info) bool { return !s.IsUp() })
	if st := statusOf(m, s); st != "DOWN (agent)" {
		t.Fatalf("status %q", st)
	}
	reply.Store("up ready 100% maxconn:7\n")
	waitInfo(t, m, s, func(health.Info) bool {
		return s.IsUp() && s.Admin() == core.AdminReady && s.Weight() == 10 && s.MaxConn() == 7
	})
}

func TestParseAgentReply(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want health.AgentReply
		err  bool
	}{
		{"75%\n", health.AgentReply{WeightPct: 75, MaxConn: -1}, false},
		{"UP, ready 100%", health.AgentReply{WeightPct: 100, Admin: "ready", Op: "up", MaxConn: -1}, false},
		{"stopped #disk full", health.AgentReply{WeightPct: -1, Op: "down", MaxConn: -1, Desc: "disk full"}, false},
		{"maint maxconn:30", health.AgentReply{WeightPct: -1, Admin: "maint", MaxConn: 30}, false},
		{"", health.AgentReply{}, true},
		{"bogus", health.AgentReply{}, true},
		{"x%", health.AgentReply{}, true},
	} {
		got, err := health.ParseAgentReply(tc.in)
		if (err != nil) != tc.err {
			t.Fatalf("%q: err %v", tc.in, err)
		}
		if err == nil {
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("%q (-want +got):\n%s", tc.in, d)
			}
		}
	}
}

func FuzzParseAgentReply(f *testing.F) {
	for _, s := range []string{"75%", "up ready", "down #x", "maxconn:10, drain", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := health.ParseAgentReply(s)
		if err == nil && (r.WeightPct < -1 || r.MaxConn < -1) {
			t.Fatalf("%q: %+v", s, r)
		}
	})
}

func statusOf(m *health.Manager, s *core.Server) string {
	i, ok := m.Info(s)
	return health.StatusText(s, i, ok)
}

func waitInfo(t *testing.T, m *health.Manager, s *core.Server, cond func(health.Info) bool) health.Info {
	t.Helper()
	var last health.Info
	err := testenv.Until(10*time.Second, 5*time.Millisecond, func() error {
		last, _ = m.Info(s)
		if cond(last) {
			return nil
		}
		return fmt.Errorf("info %+v weight %d up %v", last, s.Weight(), s.IsUp())
	})
	if err != nil {
		t.Fatal(err)
	}
	return last
}

func waitTransitions(t *testing.T, mu *sync.Mutex, got *[]transition, n int) {
	t.Helper()
	if err := testenv.Until(10*time.Second, 5*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(*got) < n {
			return fmt.Errorf("%d transitions", len(*got))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func closedAddr(t *testing.T) netip.AddrPort {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddrPort(l.Addr().String())
	l.Close()
	return a
}

// hangingListener accepts and never answers.
func hangingListener(t *testing.T) netip.AddrPort {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return netip.MustParseAddrPort(l.Addr().String())
}

// rawServer answers every connection with text and closes.
func rawServer(t *testing.T, text string) netip.AddrPort {
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
			fmt.Fprint(c, text)
			c.Close()
		}
	}()
	return netip.MustParseAddrPort(l.Addr().String())
}

func TestObserveResultModes(t *testing.T) {
	t.Parallel()
	var ok atomic.Bool
	ok.Store(true)
	for _, tc := range []struct {
		observe  string
		connFail bool
		status   int
		wantDown bool
	}{
		{"layer4", true, 0, true},
		{"layer4", false, 500, false}, // layer4 ignores HTTP statuses
		{"layer7", false, 503, true},
		{"layer7", false, 505, false},
		{"layer7", true, 0, true},
		{"", true, 0, false}, // no observe: passive results are ignored
	} {
		s := core.NewServer("be", "o", 1, netip.MustParseAddrPort("127.0.0.1:1"), 1, 0)
		m := health.NewManager(health.Options{})
		cfg := health.Config{Enabled: true, Inter: time.Hour, Rise: 2, Fall: 3, Observe: tc.observe, ErrorLimit: 2,
			OnError: health.OnErrorMarkDown, Probe: health.ProbeSpec{Type: scripted(t, &ok)}}
		if err := m.Add(s, cfg); err != nil {
			t.Fatal(err)
		}
		m.ObserveResult(s, tc.connFail, tc.status)
		m.ObserveResult(s, tc.connFail, tc.status)
		if down := !s.IsUp(); down != tc.wantDown {
			t.Errorf("observe %q connFail=%v status=%d: down=%v, want %v", tc.observe, tc.connFail, tc.status, down, tc.wantDown)
		}
	}
}
