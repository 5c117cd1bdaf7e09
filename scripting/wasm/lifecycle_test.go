package wasm

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/testenv"
	"github.com/varde-lb/varde/scripting"
)

// settle waits for goroutines to finish exiting and returns the heap in use
// after a collection.
func settle() (goroutines int, heap uint64) {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc
}

// TestCompileCloseCycles: 200 generations compiling and closing a policy
// (with calls, and with a failure that refills the pool) leave goroutines,
// live instances, shared tables and the heap flat.
func TestCompileCloseCycles(t *testing.T) {
	path := writeModule(t, "s2", answering("choose_server", "s2"))
	trap := writeModule(t, "trap", wmodule{funcs: []wfunc{{export: "choose_server", results: []byte{tI64}, body: opTrap}}}.encode())
	cycle := func(path string) {
		p, err := Compile(core.PolicySpec{Path: path, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		sc := p.ServerChooser()
		sc.Update(servers("s1", "s2"))
		sc.Pick(&core.PickContext{})
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if n := p.Instances(); n != 0 {
			t.Fatalf("%d instances alive after Close", n)
		}
	}
	cycle(path)
	cycle(trap)
	g0, h0 := settle()
	for i := range 200 {
		if i%10 == 0 {
			cycle(trap)
		} else {
			cycle(path)
		}
	}
	err := testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
		g1, h1 := settle()
		if g1 > g0+2 || h1 > h0+8<<20 {
			return errorf("goroutines %d -> %d, heap %d -> %d KiB", g0, g1, h0>>10, h1>>10)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if tb := scripting.SharedTables.Lookup(path); tb != nil {
		t.Error("shared table still held after the last Close")
	}
}

// TestGoPolicyReloads: the same with the Go-built canary (fewer cycles:
// each builds a Go runtime per pooled instance).
func TestGoPolicyReloads(t *testing.T) {
	path := goPolicy(t, "canary")
	cycle := func() {
		p, err := Compile(core.PolicySpec{Path: path, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		sc := p.ServerChooser()
		sc.Update(servers("s1", "canary1"))
		sc.Pick(&core.PickContext{Req: req("10.0.0.1:1")})
		p.Close()
	}
	cycle()
	g0, h0 := settle()
	for range 20 {
		cycle()
	}
	g1, h1 := settle()
	if g1 > g0+2 || h1 > h0+16<<20 {
		t.Errorf("goroutines %d -> %d, heap %d -> %d KiB over 20 reloads", g0, g1, h0>>10, h1>>10)
	}
}

// TestConcurrentCalls: callers on several goroutines share the pool; no
// instance is used by two at once (the race detector watches), every
// call answers, and the pool does not grow past its slots for long.
func TestConcurrentCalls(t *testing.T) {
	p := compileT(t, goPolicy(t, "canary"), time.Second)
	sc := p.ServerChooser()
	sc.Update(servers("s1", "s2", "canary1"))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				r := req("10.0.0.1:1")
				if i%2 == 0 {
					r = req("10.0.0.1:1", "X-Canary", "always")
				}
				s := sc.Pick(&core.PickContext{Req: r})
				if s == nil || (i%2 == 0) != (s.Name == "canary1") {
					t.Errorf("goroutine %d call %d: %v", g, i, s)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := p.Instances(); n > int64(poolSize()) {
		t.Errorf("%d instances alive after the burst, pool has %d slots", n, poolSize())
	}
}

// TestCloseWhileCalling: a generation closing while callers still ask its
// policy: Close waits for the calls in flight, later calls decline
// (counted), nothing races (under -race) and nothing is left alive.
func TestCloseWhileCalling(t *testing.T) {
	p, err := Compile(core.PolicySpec{Path: goPolicy(t, "canary"), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sc := p.ServerChooser()
	sc.Update(servers("s1", "canary1"))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sc.Pick(&core.PickContext{Req: req("10.0.0.1:1", "X-Canary", "always")})
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Error(err)
	}
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	if s := sc.Pick(&core.PickContext{Req: req("10.0.0.1:1")}); s != nil {
		t.Errorf("a closed policy picked %s", s.Name)
	}
	if n := p.Instances(); n != 0 {
		t.Errorf("%d instances alive after Close", n)
	}
	if n := p.Stats().Entry("choose_server").Errors()[scripting.ReasonError]; n == 0 {
		t.Error("calls after Close were not counted")
	}
}
