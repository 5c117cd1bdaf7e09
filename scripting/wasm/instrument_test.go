package wasm

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// TestInstrument rewrites modules and checks with wazero that the result
// is valid, exports the stop global, and that the global stops a loop.
func TestInstrument(t *testing.T) {
	cases := []struct {
		name  string
		bin   []byte
		loops int
		err   string
	}{
		{"no loop", answering("choose_server", "s2"), 0, ""},
		{"spin", wmodule{funcs: []wfunc{{export: "health", results: []byte{tI32}, body: append(opSpin, 0x41, 0x01)}}}.encode(), 1, ""},
		{"grow loop, immediates", wmodule{funcs: []wfunc{{export: "health", results: []byte{tI32}, body: append(opGrow, 0x41, 0x01)}}}.encode(), 1, ""},
		{"nested loops", wmodule{funcs: []wfunc{{export: "health", results: []byte{tI32},
			body: []byte{0x03, 0x40, 0x03, 0x40, 0x0b, 0x0b, 0x41, 0x01}}}}.encode(), 2, ""},
		{"SIMD refused", wmodule{funcs: []wfunc{{export: "health", results: []byte{tI32},
			body: []byte{0xfd, 0x0c, 0x41, 0x01}}}}.encode(), 0, "opcode 0xfd"},
		{"not wasm", []byte("hello"), 0, "not a WebAssembly binary"},
		{"truncated", answering("choose_server", "s2")[:30], 0, "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := instrument(c.bin)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			check := loopCheck(1, 0)
			if got := bytes.Count(out, check); got != c.loops {
				t.Fatalf("%d loop checks, want %d", got, c.loops)
			}
			ctx := context.Background()
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			mod, err := rt.Instantiate(ctx, out)
			if err != nil {
				t.Fatalf("instrumented module invalid: %v", err)
			}
			g, ok := mod.ExportedGlobal(stopGlobal).(api.MutableGlobal)
			if !ok || g.Get() != 0 {
				t.Fatalf("stop global missing or set: %v", g)
			}
		})
	}
}

// TestStopGlobalStopsSpin sets the stop global from another goroutine
// while the guest spins: the compiled loop reloads it and traps.
func TestStopGlobalStopsSpin(t *testing.T) {
	bin, err := instrument(wmodule{funcs: []wfunc{{export: "health", results: []byte{tI32}, body: append(opSpin, 0x41, 0x01)}}}.encode())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	g := mod.ExportedGlobal(stopGlobal).(api.MutableGlobal)
	done := make(chan error, 1)
	go func() { _, err := mod.ExportedFunction("health").Call(ctx); done <- err }()
	time.Sleep(20 * time.Millisecond) // the loop runs, and exits to Go: the GC's stop-the-world goes through
	runtime.GC()
	select {
	case err := <-done:
		t.Fatalf("spin returned before the stop: %v", err)
	default:
	}
	g.Set(1)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("err = %v, want the unreachable trap", err)
	}
}

// FuzzInstrument: any input is refused or rewritten, never a panic; a
// rewrite of a module wazero accepts is accepted too.
func FuzzInstrument(f *testing.F) {
	f.Add(answering("choose_server", "s2"))
	f.Add(wmodule{funcs: []wfunc{{export: "health", results: []byte{tI32}, body: append(opGrow, 0x41, 0x01)}}}.encode())
	f.Fuzz(func(t *testing.T, bin []byte) {
		ctx := context.Background()
		rt := wazero.NewRuntime(ctx)
		defer rt.Close(ctx)
		if _, err := rt.CompileModule(ctx, bin); err != nil {
			_, _ = instrument(bin)
			return
		}
		out, err := instrument(bin)
		if err != nil {
			return // refused: fails closed
		}
		if _, err := rt.CompileModule(ctx, out); err != nil {
			t.Fatalf("a valid module's rewrite is invalid: %v", err)
		}
	})
}
