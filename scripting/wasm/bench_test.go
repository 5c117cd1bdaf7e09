package wasm

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
)

// BenchmarkChooseServerCanary is one choose_server call of canary.wasm
// through core.Balancer.Pick, as the engine makes it (plain request: reads
// the X-Canary header, the canary and uid cookies, the client address, the
// shared table and five servers).
func BenchmarkChooseServerCanary(b *testing.B) {
	p := compileT(b, goPolicy(b, "canary"), time.Second)
	sc := p.ServerChooser()
	sc.Update(servers("s1", "canary1", "s2", "canary2", "s3"))
	r := req("10.0.0.1:5000", "Host", "example.com", "User-Agent", "bench")
	ctx := &core.PickContext{Req: r, Src: r.src.Addr()}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if sc.Pick(ctx) == nil {
			b.Fatal("no pick")
		}
	}
}

// BenchmarkChooseServerConst is the engine's floor: a hand-made module
// answering a constant name (no host calls).
func BenchmarkChooseServerConst(b *testing.B) {
	p := compileT(b, writeModule(b, "s2", answering("choose_server", "s2")), time.Second)
	sc := p.ServerChooser()
	sc.Update(servers("s1", "s2"))
	ctx := &core.PickContext{}
	b.ReportAllocs()
	for b.Loop() {
		if sc.Pick(ctx) == nil {
			b.Fatal("no pick")
		}
	}
}

func BenchmarkCompileCanary(b *testing.B) {
	path := goPolicy(b, "canary")
	compileT(b, path, 0) // warm the compilation cache
	b.ResetTimer()
	for b.Loop() {
		p, err := Compile(core.PolicySpec{Path: path})
		if err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
}

// BenchmarkChooseServerCanaryNoTermination is the same call without any
// termination guarantee (never in production: a runaway loop could not
// be cut), to show what the loop instrumentation costs.
func BenchmarkChooseServerCanaryNoTermination(b *testing.B) {
	instrumentLoops = false
	defer func() { instrumentLoops = true }()
	BenchmarkChooseServerCanary(b)
}

// BenchmarkChooseServerCanaryWazeroChecks is the same call with wazero's
// WithCloseOnContextDone instead of the instrumentation (what varde did
// before): a watcher goroutine per call and an exit to Go per loop header.
func BenchmarkChooseServerCanaryWazeroChecks(b *testing.B) {
	instrumentLoops, ensureTermination = false, true
	defer func() { instrumentLoops, ensureTermination = true, false }()
	BenchmarkChooseServerCanary(b)
}

// BenchmarkChooseServerGoEmpty is a Go-built guest answering a constant:
// the cost of entering and leaving the Go runtime.
func BenchmarkChooseServerGoEmpty(b *testing.B) {
	p := compileT(b, goGuest(b, "empty"), time.Second)
	sc := p.ServerChooser()
	sc.Update(servers("s1", "s2"))
	ctx := &core.PickContext{}
	b.ReportAllocs()
	for b.Loop() {
		if sc.Pick(ctx) == nil {
			b.Fatal("no pick")
		}
	}
}

// BenchmarkInstantiateCanary is the price of one pooled instance of a
// Go-built module (the Go runtime's start-up), paid at compile for every
// slot and off the request path after a failure. It reports the linear
// memory an instance starts with.
func BenchmarkInstantiateCanary(b *testing.B) {
	p := compileT(b, goPolicy(b, "canary"), time.Second)
	b.ReportAllocs()
	var mem uint32
	for b.Loop() {
		in, err := p.newInstance()
		if err != nil {
			b.Fatal(err)
		}
		mem = in.mem.Size()
		in.close()
	}
	b.ReportMetric(float64(mem)/(1<<20), "MiB-memory")
}

// BenchmarkChooseServerCanaryParallel: callers on every CPU sharing the
// pool, as the event loops do.
func BenchmarkChooseServerCanaryParallel(b *testing.B) {
	p := compileT(b, goPolicy(b, "canary"), time.Second)
	sc := p.ServerChooser()
	sc.Update(servers("s1", "canary1", "s2", "canary2", "s3"))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := req("10.0.0.1:5000", "Host", "example.com")
		ctx := &core.PickContext{Req: r, Src: r.src.Addr()}
		for pb.Next() {
			if sc.Pick(ctx) == nil {
				b.Error("no pick")
				return
			}
		}
	})
}

// BenchmarkEngineGET is a keep-alive GET through the real engine to
// loopback backends, the backend balanced by roundrobin alone and with
// canary.wasm's choose_server in front of it: the per-request price of a
// WASM policy (the backends and client dominate; the figures are noisy on
// a shared machine).
func BenchmarkEngineGET(b *testing.B) {
	for _, name := range []string{"roundrobin", "canary.wasm", "canary.wasm-no-termination", "canary.wasm-wazero-checks"} {
		withPolicy := name != "roundrobin"
		b.Run(name, func(b *testing.B) {
			switch name { // measurement only
			case "canary.wasm-no-termination":
				instrumentLoops = false
				defer func() { instrumentLoops = true }()
			case "canary.wasm-wazero-checks":
				instrumentLoops, ensureTermination = false, true
				defer func() { instrumentLoops, ensureTermination = true, false }()
			}
			var sc core.Balancer
			if withPolicy {
				sc = compileT(b, goPolicy(b, "canary"), 0).ServerChooser()
			}
			_, addr := engineWith(b, nil, sc, nil)
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			b.ResetTimer()
			for b.Loop() {
				resp, err := c.Get("http://" + addr + "/")
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
