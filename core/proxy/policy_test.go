package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/testenv"
	_ "github.com/varde-lb/varde/plugins/check/all"
)

// The policy seams of core/policy.go, each plugged into a running engine
// with a Go test double where the next issue plugs Lua/WASM policies: the
// request must reach what the policy chose, and a policy that declines,
// panics or answers something unusable must fall back to the built-in and
// be counted.

// want reads the verdict a test double should give from the request.
func want(req core.Request) string {
	if req == nil {
		return ""
	}
	v, _ := req.Header("x-want")
	return string(v)
}

// backendPolicy is choose_backend(req).
type backendPolicy struct{}

func (backendPolicy) ChooseBackend(req core.Request) (string, bool) {
	switch w := want(req); w {
	case "":
		return "", false
	case "boom":
		panic("script bug")
	default:
		return w, true
	}
}

// serverPolicy is choose_server(req, servers), as a core.Balancer: it
// receives the pool and picks by name.
type serverPolicy struct {
	pool     atomic.Pointer[[]*core.Server]
	stranger *core.Server
}

func (p *serverPolicy) Update(pool []*core.Server) { p.pool.Store(&pool) }
func (p *serverPolicy) Pick(ctx *core.PickContext) *core.Server {
	switch w := want(ctx.Req); w {
	case "boom":
		panic("script bug")
	case "stranger":
		return p.stranger
	default:
		for _, s := range *p.pool.Load() {
			if s.Name == w {
				return s
			}
		}
		return nil
	}
}

// stickyPolicy is sticky_key(req) resolved to a server.
type stickyPolicy struct{}

func (stickyPolicy) Lookup(req core.Request, servers []*core.Server) *core.Server {
	v, _ := req.Header("x-stick")
	if string(v) == "boom" {
		panic("script bug")
	}
	for _, s := range servers {
		if s.Name == string(v) {
			return s
		}
	}
	return nil
}

// threeServers is a frontend to backend "be" (s1..s3, answering b1..b3)
// and backend "canary" (answering canary).
func threeServers(t *testing.T) *Config {
	var addrs []string
	for _, n := range []string{"b1", "b2", "b3"} {
		b, _ := backend(t, n, nil)
		addrs = append(addrs, hostport(b))
	}
	cfg := simpleConfig(addrs...)
	cn, _ := backend(t, "canary", nil)
	cfg.Backends = append(cfg.Backends, &BackendConfig{Name: "canary", Mode: ModeHTTP, Retries: -1,
		Balance:  core.BalanceSpec{Algorithm: "proxytest-rr"},
		Servers:  []ServerConfig{{Name: "c1", Addr: hostport(cn)}},
		Timeouts: Timeouts{Connect: time.Second, Server: 5 * time.Second}})
	return cfg
}

// get sends GET / with the given headers and returns the answering server.
func get(t *testing.T, addr string, hdr map[string]string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	return resp.Header.Get("X-Server")
}

func TestBackendPolicySeam(t *testing.T) {
	cfg := threeServers(t)
	cfg.Frontends[0].Policy = backendPolicy{}
	e, addr := startEngine(t, cfg)
	tests := []struct{ want, server string }{
		{"canary", "canary"}, // the policy's choice
		{"", "b"},            // declined: default_backend
		{"boom", "b"},        // panicked
		{"ghost", "b"},       // no such backend
	}
	for _, tt := range tests {
		if got := get(t, addr, map[string]string{"X-Want": tt.want}); !strings.HasPrefix(got, tt.server) {
			t.Errorf("x-want %q went to %q, want %s*", tt.want, got, tt.server)
		}
	}
	if d := cmp.Diff(core.FallbackStats{Declined: 1, Rejected: 1, Panics: 1}, e.Frontend("fe").PolicyFallbacks()); d != "" {
		t.Errorf("fallbacks (-want +got)\n%s", d)
	}
}

func TestBackendPolicySeamTCP(t *testing.T) {
	echo := func(name string) string {
		return rawServer(t, func(c net.Conn) { io.WriteString(c, name) })
	}
	be := func(name, addr string) *BackendConfig {
		return &BackendConfig{Name: name, Mode: ModeTCP, Retries: -1, Balance: core.BalanceSpec{Algorithm: "proxytest-rr"},
			Servers: []ServerConfig{{Name: "s1", Addr: addr}}, Timeouts: Timeouts{Connect: time.Second, Server: 5 * time.Second}}
	}
	var choose atomic.Value
	choose.Store("canary")
	cfg := &Config{
		Frontends: []*FrontendConfig{{Name: "fe", Mode: ModeTCP, DefaultBackend: "main",
			Policy: tcpPolicy{&choose}, Timeouts: Timeouts{Client: 5 * time.Second}}},
		Backends: []*BackendConfig{be("main", echo("main")), be("canary", echo("canary"))},
	}
	e, addr := startEngine(t, cfg)
	read := func() string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		return string(b)
	}
	if got := read(); got != "canary" {
		t.Errorf("tcp went to %q, want the policy's canary", got)
	}
	choose.Store("boom")
	if got := read(); got != "main" {
		t.Errorf("tcp after a panic went to %q, want default main", got)
	}
	if fb := e.Frontend("fe").PolicyFallbacks(); fb.Panics != 1 {
		t.Errorf("fallbacks %+v, want one panic", fb)
	}
}

// tcpPolicy chooses by the connection only, as a TCP policy must.
type tcpPolicy struct{ v *atomic.Value }

func (p tcpPolicy) ChooseBackend(req core.Request) (string, bool) {
	if !req.Src().Addr().IsLoopback() || req.NumHeaders() != 0 {
		return "", false
	}
	w := p.v.Load().(string)
	if w == "boom" {
		panic("script bug")
	}
	return w, true
}

func TestServerPolicySeam(t *testing.T) {
	cfg := threeServers(t)
	sp := &serverPolicy{stranger: core.NewServer("other", "s2", 1, netip.MustParseAddrPort("127.0.0.1:1"), 1, 0)}
	cfg.Backends[0].ServerPolicy = sp
	e, addr := startEngine(t, cfg)
	tests := []struct{ want, server string }{
		{"s3", "b3"}, {"s3", "b3"}, {"s2", "b2"}, // the policy's choices
		{"", "b"},         // declined: the algorithm
		{"boom", "b"},     // panicked
		{"stranger", "b"}, // a server of another backend
	}
	for _, tt := range tests {
		if got := get(t, addr, map[string]string{"X-Want": tt.want}); !strings.HasPrefix(got, tt.server) {
			t.Errorf("x-want %q went to %q, want %s*", tt.want, got, tt.server)
		}
	}
	srv, _ := e.Backend("be").PolicyFallbacks()
	if d := cmp.Diff(core.FallbackStats{Declined: 1, Rejected: 1, Panics: 1}, srv); d != "" {
		t.Errorf("fallbacks (-want +got)\n%s", d)
	}
}

func TestStickyPolicySeam(t *testing.T) {
	cfg := threeServers(t)
	cfg.Backends[0].Sticky = stickyPolicy{}
	e, addr := startEngine(t, cfg)
	b := e.Backend("be")
	b.Servers()[0].SetAdmin(core.AdminMaint) // s1: a policy may not stick to it
	b.Refresh()
	tests := []struct{ stick, server string }{
		{"s2", "b2"}, {"s2", "b2"}, {"s3", "b3"}, // stuck
		{"", "b"},     // declined: the algorithm
		{"boom", "b"}, // panicked
		{"s1", "b"},   // in maintenance: rejected
	}
	for _, tt := range tests {
		got := get(t, addr, map[string]string{"X-Stick": tt.stick})
		if !strings.HasPrefix(got, tt.server) || tt.stick == "s1" && got == "b1" {
			t.Errorf("x-stick %q went to %q, want %s*", tt.stick, got, tt.server)
		}
	}
	_, st := b.PolicyFallbacks()
	if d := cmp.Diff(core.FallbackStats{Declined: 1, Rejected: 1, Panics: 1}, st); d != "" {
		t.Errorf("fallbacks (-want +got)\n%s", d)
	}
}

// judge is health(server, result): it fails s1 whatever its probe says and
// panics on s2.
type judge struct{}

func (judge) Judge(s core.ServerView, r core.CheckResult) bool {
	switch s.Name {
	case "s1":
		return false
	case "s2":
		panic("script bug")
	}
	return r.OK
}

func TestHealthJudgeSeam(t *testing.T) {
	cfg := threeServers(t)
	e, addr := startEngine(t, cfg)
	b := e.Backend("be")
	m := health.NewManager(health.Options{Judge: judge{}, Notify: func(*core.Server) { b.Refresh() }})
	for _, s := range b.Servers() {
		if err := m.Add(s, health.Config{Enabled: true, Inter: 20 * time.Millisecond, Rise: 1, Fall: 1, Timeout: 2 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	m.Start(context.Background())
	defer m.Close()
	if err := testenv.Until(10*time.Second, 5*time.Millisecond, func() error {
		if b.Servers()[0].IsUp() || m.JudgeFallbacks().Panics == 0 {
			return errors.New("waiting for the judge's verdicts")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for range 6 {
		seen[get(t, addr, nil)]++
	}
	// s1 judged down though its probe passes; s2 keeps its probe's verdict.
	if d := cmp.Diff(map[string]int{"b2": 3, "b3": 3}, seen); d != "" {
		t.Errorf("servers used (-want +got)\n%s", d)
	}
}
