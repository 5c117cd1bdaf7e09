package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
)

// The test balancer takes dynamic servers like roundrobin does.
func (b *testRR) DynamicServers() bool { return true }

// TestDynServersUnderTraffic adds, enables, drains and deletes servers
// while clients send requests: every request is answered 200 (none lost
// on the server that stays), the added servers take traffic while ready,
// and the list ends as configured. Run it with -race.
func TestDynServersUnderTraffic(t *testing.T) {
	lanes(t, func(t *testing.T) {
		stay, stayHits := backend(t, "stay", nil)
		dyn, dynHits := backend(t, "dyn", nil)
		e, addr := startEngine(t, simpleConfig(hostport(stay)))
		b := e.Backend("be")
		ap := netip.MustParseAddrPort(hostport(dyn))

		stop := make(chan struct{})
		var wg sync.WaitGroup
		var sent, failed atomic.Int64
		for c := 0; c < 4; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
				defer cl.CloseIdleConnections()
				for i := 0; i < 3000; i++ {
					select {
					case <-stop:
						return
					default:
					}
					sent.Add(1)
					resp, err := cl.Get("http://" + addr + "/x")
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Add(1)
		go func() { // a stats reader walking the lists meanwhile
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, s := range b.Servers() {
					_ = s.Active.Load()
				}
				_ = b.Pool().Servers()
				time.Sleep(time.Millisecond)
			}
		}()
		for round := 0; round < 8; round++ {
			cycleDynServer(t, b, DynServer{Name: fmt.Sprintf("d%d", round), Addr: ap, Weight: 1})
		}
		close(stop)
		wg.Wait()
		t.Logf("%d requests, %d failed; stay %d, added servers %d", sent.Load(), failed.Load(), stayHits.hits.Load(), dynHits.hits.Load())
		if failed.Load() != 0 {
			t.Errorf("%d of %d requests failed", failed.Load(), sent.Load())
		}
		if stayHits.hits.Load() == 0 || dynHits.hits.Load() == 0 {
			t.Errorf("hits: stay %d, dynamic %d; want both", stayHits.hits.Load(), dynHits.hits.Load())
		}
		if n := len(b.Servers()); n != 1 || len(b.Pool().Servers()) != 1 {
			t.Errorf("%d servers left (pool %d), want the configured one", n, len(b.Pool().Servers()))
		}
	})
}

// cycleDynServer adds d, enables it for a while, puts it in maintenance
// and deletes it once its sessions are over.
func cycleDynServer(t *testing.T, b *Backend, d DynServer) {
	t.Helper()
	cs, err := b.AddServer(d)
	if err != nil {
		t.Fatalf("add %s: %v", d.Name, err)
	}
	if cs.Admin() != core.AdminMaint {
		t.Fatalf("%s: added in %v, want maintenance", d.Name, cs.Admin())
	}
	cs.SetAdmin(core.AdminReady)
	b.Refresh()
	time.Sleep(60 * time.Millisecond)
	if _, err := b.DelServer(d.Name); !errors.Is(err, ErrNotInMaint) {
		t.Errorf("del of a ready server: %v", err)
	}
	cs.SetAdmin(core.AdminMaint)
	b.Refresh()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := b.DelServer(d.Name)
		if err == nil {
			return
		}
		if !errors.Is(err, ErrServerBusy) || time.Now().After(deadline) {
			t.Fatalf("del %s: %v", d.Name, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestDynServerRules: HAProxy's refusals and ids.
func TestDynServerRules(t *testing.T) {
	stay, _ := backend(t, "stay", nil)
	cfg := simpleConfig(hostport(stay), hostport(stay))
	fixed := &BackendConfig{Name: "fixed", Mode: ModeHTTP, Balance: core.BalanceSpec{Algorithm: "proxytest-fixed"}}
	cfg.Backends = append(cfg.Backends, fixed)
	e, _ := startEngine(t, cfg)
	b := e.Backend("be")
	ap := netip.MustParseAddrPort(hostport(stay))
	if _, err := e.Backend("fixed").AddServer(DynServer{Name: "x", Addr: ap}); !errors.Is(err, ErrDynamicAlgo) {
		t.Errorf("algorithm without dynamic servers: %v", err)
	}
	if _, err := b.AddServer(DynServer{Name: "s1", Addr: ap}); !errors.Is(err, ErrServerExists) {
		t.Errorf("duplicate name: %v", err)
	}
	if _, err := b.AddServer(DynServer{Name: "x", Addr: ap, ID: 2}); !errors.Is(err, ErrServerIDInUse) {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := b.DelServer("nope"); !errors.Is(err, ErrNoSuchServer) {
		t.Errorf("missing server: %v", err)
	}
	// Deleting s1 frees id 1, which the next server takes (HAProxy's
	// lowest free id); an explicit id is kept.
	b.Servers()[0].SetAdmin(core.AdminMaint)
	b.Refresh()
	if _, err := b.DelServer("s1"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d    DynServer
		want int
	}{{DynServer{Name: "a", Addr: ap, Weight: 1}, 1}, {DynServer{Name: "b", Addr: ap, Weight: 1, ID: 40}, 40}, {DynServer{Name: "c", Addr: ap, Weight: 1}, 3}} {
		cs, err := b.AddServer(tc.d)
		if err != nil || cs.ID != tc.want {
			t.Errorf("%s: id %v %v, want %d", tc.d.Name, cs, err, tc.want)
		}
	}
	names := ""
	for _, s := range b.Servers() {
		names += s.Name + " "
	}
	if names != "s2 a b c " {
		t.Errorf("order %q, want configured then added", names)
	}
}

// fixedRR is testRR without core.DynamicServers: a backend using it
// refuses `add server`, as static-rr does in HAProxy.
type fixedRR struct{ testRR }

func (*fixedRR) DynamicServers() bool { return false }

func init() {
	core.RegisterBalancer("proxytest-fixed", func(core.BalanceSpec) (core.Balancer, error) {
		b := &fixedRR{}
		b.pool.Store(new([]*core.Server))
		return b, nil
	})
}

// TestDynServerTCP: in mode tcp an added server takes connections once
// ready, and none after it is deleted.
func TestDynServerTCP(t *testing.T) {
	tagged := func(tag string) string {
		return rawServer(t, func(c net.Conn) {
			b, _ := io.ReadAll(c)
			io.WriteString(c, tag+string(b))
		})
	}
	cfg := simpleConfig(tagged("A:"))
	cfg.Frontends[0].Mode, cfg.Backends[0].Mode = ModeTCP, ModeTCP
	e, addr := startEngine(t, cfg)
	b := e.Backend("be")
	conns := func(n int) map[string]int {
		seen := map[string]int{}
		for i := 0; i < n; i++ {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "x")
			c.(*net.TCPConn).CloseWrite()
			got, _ := io.ReadAll(c)
			c.Close()
			seen[string(got)]++
		}
		return seen
	}
	cs, err := b.AddServer(DynServer{Name: "dyn", Addr: netip.MustParseAddrPort(tagged("B:")), Weight: 1, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := conns(4); got["A:x"] != 2 || got["B:x"] != 2 {
		t.Fatalf("with the added server ready: %v, want 2 each", got)
	}
	cs.SetAdmin(core.AdminMaint)
	b.Refresh()
	if _, err := b.DelServer("dyn"); err != nil {
		t.Fatal(err)
	}
	if got := conns(3); got["A:x"] != 3 {
		t.Fatalf("after the delete: %v, want every connection on A", got)
	}
}
