package wasm

import (
	"slices"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/scripting"
)

// TestSpinCutLatency: with the watchdog's deadline (no timer per call) a
// runaway loop, hand-made or Go, is never cut before its timeout and is
// cut soon after it. The upper bound is loose: the watchdog and wazero's
// watcher goroutine need a CPU on a shared machine.
func TestSpinCutLatency(t *testing.T) {
	const deadline = time.Millisecond
	spin := wmodule{funcs: []wfunc{{export: "choose_server", results: []byte{tI64}, body: append(opSpin, retI64(0)...)}}}.encode()
	for _, tc := range []struct {
		name, path string
		module     func(t *testing.T) string
	}{
		{"loop br 0", "/", func(t *testing.T) string { return writeModule(t, "spin", spin) }},
		{"Go for {}", "/s", func(t *testing.T) string { return goGuest(t, "hog") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := compileT(t, tc.module(t), deadline)
			sc := p.ServerChooser()
			sc.Update(servers("s1", "s2"))
			r := req("10.0.0.1:1")
			r.path = []byte(tc.path)
			var took []time.Duration
			for range 20 {
				start := time.Now()
				if s := sc.Pick(&core.PickContext{Req: r}); s != nil {
					t.Fatalf("picked %s, want a decline", s.Name)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			t.Logf("cut after min %v, median %v, max %v", took[0], took[len(took)/2], took[len(took)-1])
			if took[0] < deadline {
				t.Errorf("a call was cut after %v, before its %v deadline", took[0], deadline)
			}
			if med := took[len(took)/2]; med > 20*deadline && !raceOn {
				t.Errorf("median cut after %v with a %v deadline", med, deadline)
			}
			if n := p.Stats().Entry("choose_server").Errors()[scripting.ReasonTimeout]; n != 20 {
				t.Errorf("%d timeouts counted, want 20", n)
			}
		})
	}
}
