package wasm

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/proxy"
	_ "github.com/varde-lb/varde/plugins/balance/roundrobin"
	"github.com/varde-lb/varde/scripting"
)

// The policies plugged into the real engine (core/proxy) in-process, with
// real backends on loopback: each request must reach what the module
// chose, and a module that fails must cost no request.

func loopbackBackend(t testing.TB, name string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Server", name)
		io.WriteString(w, "hello from "+name)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// engineWith runs a frontend "fe" to backend "be" (servers s1, s2,
// canary1) and backend "special" (server sp1), with the given policies.
func engineWith(t testing.TB, fe core.BackendChooser, server core.Balancer, sticky core.Stickiness) (*proxy.Engine, string) {
	t.Helper()
	tm := proxy.Timeouts{Connect: time.Second, Server: 5 * time.Second}
	be := &proxy.BackendConfig{Name: "be", Mode: proxy.ModeHTTP, Retries: -1, Timeouts: tm,
		Balance: core.BalanceSpec{Algorithm: "roundrobin"}, ServerPolicy: server, Sticky: sticky}
	for _, n := range []string{"s1", "s2", "canary1"} {
		be.Servers = append(be.Servers, proxy.ServerConfig{Name: n, Addr: loopbackBackend(t, n)})
	}
	special := &proxy.BackendConfig{Name: "special", Mode: proxy.ModeHTTP, Retries: -1, Timeouts: tm,
		Balance: core.BalanceSpec{Algorithm: "roundrobin"},
		Servers: []proxy.ServerConfig{{Name: "sp1", Addr: loopbackBackend(t, "sp1")}}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &proxy.Config{
		Frontends: []*proxy.FrontendConfig{{Name: "fe", Mode: proxy.ModeHTTP, DefaultBackend: "be", Policy: fe,
			Listeners: []net.Listener{l}, Timeouts: proxy.Timeouts{Client: 5 * time.Second, HTTPRequest: 5 * time.Second}}},
		Backends: []*proxy.BackendConfig{be, special},
	}
	e, err := proxy.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
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

var client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// get sends GET / and returns the answering server and status.
func get(t *testing.T, addr string, hdr ...string) (string, int) {
	t.Helper()
	r, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("X-Server"), resp.StatusCode
}

// TestEngineCanary: canary.wasm as the backend's choose_server.
func TestEngineCanary(t *testing.T) {
	p := compileT(t, goPolicy(t, "canary"), 0)
	_, addr := engineWith(t, nil, p.ServerChooser(), nil)
	for i := range 10 {
		if got, code := get(t, addr, "X-Canary", "always"); got != "canary1" || code != 200 {
			t.Fatalf("X-Canary: always, request %d: %s %d", i, got, code)
		}
		if got, _ := get(t, addr, "Cookie", "canary=always"); got != "canary1" {
			t.Fatalf("cookie canary=always, request %d: %s", i, got)
		}
		if got, _ := get(t, addr, "X-Canary", "never"); !strings.HasPrefix(got, "s") {
			t.Fatalf("X-Canary: never, request %d: %s", i, got)
		}
	}
	// The loopback client is one address: the split puts it on one side,
	// and canary_percent moves it.
	p.SharedTable().Set("percent", "100", 0)
	if got, _ := get(t, addr); got != "canary1" {
		t.Errorf("percent=100: %s", got)
	}
	p.SharedTable().Set("percent", "0", 0)
	if got, _ := get(t, addr); got == "canary1" {
		t.Errorf("percent=0: %s", got)
	}
	if e := p.Stats().Entry("choose_server"); e.Calls.Load() != 32 || e.ErrorTotal() != 0 {
		t.Errorf("calls %d errors %v", e.Calls.Load(), e.Errors())
	}
}

// TestEngineEntryPoints: choose_backend and sticky_key of the echo guest
// in the engine.
func TestEngineEntryPoints(t *testing.T) {
	p := compileT(t, goGuest(t, "echo"), 0)
	e, addr := engineWith(t, p.BackendChooser(), nil, p.Stickiness())
	if got, _ := get(t, addr, "X-Ask", "header:x-route", "X-Route", "special"); got != "sp1" {
		t.Errorf("choose_backend special: %s", got)
	}
	if got, _ := get(t, addr, "X-Ask", "header:x-route", "X-Route", "ghost"); got == "sp1" || got == "" {
		t.Errorf("choose_backend ghost: %q, want default backend", got)
	}
	if fb := e.Frontend("fe").PolicyFallbacks(); fb.Rejected != 1 {
		t.Errorf("frontend fallbacks %+v, want the unknown backend rejected", fb)
	}
	first, _ := get(t, addr, "X-Key", "user-7")
	for range 6 {
		if got, _ := get(t, addr, "X-Key", "user-7"); got != first {
			t.Fatalf("sticky key user-7 moved from %s to %s", first, got)
		}
	}
}

// TestEngineFallsBack: a module that spins, traps, or names a stranger
// costs no request: roundrobin answers, the reason is counted in the
// policy's stats and core counts the fallback.
func TestEngineFallsBack(t *testing.T) {
	m := func(body []byte) []byte {
		return wmodule{funcs: []wfunc{{export: "choose_server", results: []byte{tI64}, body: body}}}.encode()
	}
	tests := []struct {
		name   string
		bin    []byte
		reason string
	}{
		{"spin", m(append(opSpin, retI64(0)...)), scripting.ReasonTimeout},
		{"trap", m(opTrap), scripting.ReasonError},
		{"stranger", answering("choose_server", "ghost"), scripting.ReasonUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(core.PolicySpec{Path: writeModule(t, tt.name, tt.bin)}) // default 1 ms deadline
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			e, addr := engineWith(t, nil, p.ServerChooser(), nil)
			seen := map[string]int{}
			start := time.Now()
			for range 6 {
				got, code := get(t, addr)
				if code != 200 {
					t.Fatalf("status %d", code)
				}
				seen[got]++
			}
			if len(seen) < 2 {
				t.Errorf("servers %v, want roundrobin's spread", seen)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("6 requests took %v", took)
			}
			if n := p.Stats().Entry("choose_server").Errors()[tt.reason]; n != 6 {
				t.Errorf("%s errors %d, want 6", tt.reason, n)
			}
			if fb, _ := e.Backend("be").PolicyFallbacks(); fb.Total() != 6 {
				t.Errorf("core fallbacks %+v, want 6", fb)
			}
		})
	}
	_ = fmt.Sprint()
}
