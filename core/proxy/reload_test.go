package proxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/listen"
)

// reloadGen loads cfg (a haproxy.cfg text) as a generation of a process
// whose socket inventory is inv.
func reloadGen(t *testing.T, inv *listen.Inventory, cfg string) *generation.Generation {
	t.Helper()
	path := filepath.Join(t.TempDir(), "h.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := generation.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Grace: 2 * time.Second, Sockets: inv}
	g, d := generation.Load([]string{path}, os.Getenv, opts)
	if d.HasErrors() {
		g.Close()
		t.Fatal(d.Err())
	}
	return g
}

func reloadCfg(mode string, web int, server string, extra string) string {
	return fmt.Sprintf(`defaults
    mode %s
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:%d
    default_backend app
backend app
    server s1 %s
%s`, mode, web, server, extra)
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// getN sends n GET requests to url, conc at a time, each on its own
// connection (in mode tcp, a time sample is a connection).
func getN(t *testing.T, url string, n, conc int) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	errs := make(chan error, n)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				resp, err := client.Get(url)
				if err != nil {
					errs <- err
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestReloadKeepsTimeAverages: past TimeSamples requests, a reload must
// carry the time averages' sums with the request counts that weigh them,
// or the next requests' averages read near 0 (the sums restart while the
// count, carried, already divides by the whole window). Rate maxima and
// time maxima are kept too. Mode http weighs by requests, mode tcp by
// connections.
func TestReloadKeepsTimeAverages(t *testing.T) {
	for _, mode := range []string{"http", "tcp"} {
		t.Run(mode, func(t *testing.T) { testReloadKeepsTimeAverages(t, mode) })
	}
}

func testReloadKeepsTimeAverages(t *testing.T, mode string) {
	const delay = 20 * time.Millisecond
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		io.WriteString(w, "ok")
	}))
	defer up.Close()
	web := freeLoopbackPort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", web)
	cfg := reloadCfg(mode, web, up.Listener.Addr().String(), "")
	inv := &listen.Inventory{}
	g1 := reloadGen(t, inv, cfg)
	if err := g1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	getN(t, url, core.TimeSamples+100, 32)
	e1 := EngineOf.Get(g1)
	connMax := e1.Frontend("web").Meters.Conn.Max()

	g2 := reloadGen(t, inv, cfg)
	if err := g2.StartAfter(context.Background(), g1); err != nil {
		t.Fatal(err)
	}
	inv.CloseUnclaimed()
	defer g2.Stop()
	retired := make(chan error, 1)
	go func() { retired <- g1.Retire(context.Background()) }()
	getN(t, url, 10, 1)
	if err := <-retired; err != nil {
		t.Fatal(err)
	}
	e2 := EngineOf.Get(g2)
	b := e2.Backend("app")
	s := b.Servers()[0]
	min := uint32(delay/time.Millisecond) * 3 / 4
	checks := []struct {
		what    string
		m       *core.Meters
		samples uint64
	}{
		{"backend", &b.Meters, b.Requests.Load()},
		{"server", &s.Meters, s.Meters.HTTPReq.Load()},
	}
	if mode == "tcp" {
		checks[0].samples, checks[1].samples = b.TotalConns.Load(), s.Total.Load()
	}
	for _, c := range checks {
		if c.samples < core.TimeSamples+110 {
			t.Errorf("%s: %d requests counted, want %d (counted carried over)", c.what, c.samples, core.TimeSamples+110)
		}
		avg, mx := c.m.Times.Averages(c.samples), c.m.Times.Maxima()
		if avg[3] < min || (mode == "http" && avg[2] < min) {
			t.Errorf("%s after the reload: rtime %d ms, ttime %d ms, want >= %d (the backend answers in %v)", c.what, avg[2], avg[3], min, delay)
		}
		if mx[3] < min {
			t.Errorf("%s after the reload: ttime_max %d ms, want >= %d", c.what, mx[3], min)
		}
	}
	if got := e2.Frontend("web").Meters.Conn.Max(); got < connMax {
		t.Errorf("frontend conn_rate_max after the reload = %d, want >= %d (kept)", got, connMax)
	}
}

// TestReloadStartFailureKeepsHeir: a reload whose generation fails to
// start (a new bind's port is busy) must leave the serving engine as it
// was. Generation 1 still drains a slow request when generation 3 fails:
// generation 1's last count must reach generation 2, the one serving, not
// the discarded engine.
func TestReloadStartFailureKeepsHeir(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(700 * time.Millisecond)
		}
		io.WriteString(w, "ok")
	}))
	defer up.Close()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	web := freeLoopbackPort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", web)
	cfg := reloadCfg("http", web, up.Listener.Addr().String(), "")
	inv := &listen.Inventory{}
	g1 := reloadGen(t, inv, cfg)
	if err := g1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	getN(t, url, 5, 1)
	slow := make(chan error, 1)
	go func() {
		resp, err := http.Get(url + "slow")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		slow <- err
	}()
	e1 := EngineOf.Get(g1)
	waitFor(t, func() bool { return e1.Backend("app").Servers()[0].Active.Load() == 1 })
	g2 := reloadGen(t, inv, cfg)
	if err := g2.StartAfter(context.Background(), g1); err != nil {
		t.Fatal(err)
	}
	inv.CloseUnclaimed()
	defer g2.Stop()
	retired := make(chan error, 1)
	go func() { retired <- g1.Retire(context.Background()) }()

	bad := cfg + fmt.Sprintf("frontend extra\n    bind %s\n    default_backend app\n", busy.Addr())
	g3 := reloadGen(t, inv, bad)
	if err := g3.StartAfter(context.Background(), g2); err == nil {
		g3.Stop()
		t.Fatal("a generation binding a busy port started")
	}
	inv.CloseUnclaimed()
	e2 := EngineOf.Get(g2)
	if h := e2.heir.Load(); h != nil {
		t.Errorf("after a failed start the serving engine's heir is the failed engine")
	}
	if err := <-slow; err != nil {
		t.Fatalf("slow request during the drain: %v", err)
	}
	if err := <-retired; err != nil {
		t.Fatal(err)
	}
	getN(t, url, 1, 1)
	// hrsp_2xx is counted when a transaction ends: the slow one's by
	// generation 1, folded into its heir when its drain ends.
	// A transaction is counted once its answer is sent: give the last one
	// a moment.
	hrsp := &e2.Frontend("web").Status[2]
	for end := time.Now().Add(2 * time.Second); hrsp.Load() < 7 && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	if got := hrsp.Load(); got != 7 {
		t.Errorf("serving frontend hrsp_2xx = %d, want 7 (5 + the drained slow one + 1)", got)
	}
}
