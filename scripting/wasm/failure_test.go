package wasm

import (
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/scripting"
)

// TestFailureModes: every way a module can fail declines (the built-in
// decides), is counted under its reason, never outlives the deadline by
// much, and leaves the policy working: the failed instance is replaced.
func TestFailureModes(t *testing.T) {
	const deadline = 5 * time.Millisecond
	m := func(body []byte) []byte {
		return wmodule{funcs: []wfunc{{export: "choose_server", results: []byte{tI64}, body: body}}}.encode()
	}
	tests := []struct {
		name   string
		module func(t *testing.T) string
		path   string // request path (hog's switch)
		reason string // "" = declined (no opinion)
		slow   bool   // growing 64 MiB or printing a Go panic may take longer than the short deadline
	}{
		{"infinite loop", func(t *testing.T) string { return writeModule(t, "spin", m(append(opSpin, retI64(0)...))) }, "/", scripting.ReasonTimeout, false},
		{"memory growth beyond cap", func(t *testing.T) string { return writeModule(t, "grow", m(opGrow)) }, "/", scripting.ReasonMemory, true},
		{"trap (unreachable)", func(t *testing.T) string { return writeModule(t, "trap", m(opTrap)) }, "/", scripting.ReasonError, false},
		{"unknown server", func(t *testing.T) string { return writeModule(t, "ghost", answering("choose_server", "ghost")) }, "/", scripting.ReasonUnknown, false},
		{"result outside memory", func(t *testing.T) string { return writeModule(t, "wild", m(retI64(-1))) }, "/", scripting.ReasonType, false},
		{"no opinion", func(t *testing.T) string { return writeModule(t, "none", answering("choose_server", "")) }, "/", "", false},
		{"Go: allocates without end", func(t *testing.T) string { return goGuest(t, "hog") }, "/a", scripting.ReasonMemory, true},
		{"Go: panic", func(t *testing.T) string { return goGuest(t, "hog") }, "/p", scripting.ReasonError, true},
		{"Go: spin", func(t *testing.T) string { return goGuest(t, "hog") }, "/s", scripting.ReasonTimeout, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deadline
			if tt.slow {
				d = 5 * time.Second
			}
			p := compileT(t, tt.module(t), d)
			sc := p.ServerChooser()
			sc.Update(servers("s1", "s2"))
			r := req("10.0.0.1:1")
			r.path = []byte(tt.path)
			for i := range 3 { // the replacement instances fail the same way
				start := time.Now()
				s := sc.Pick(&core.PickContext{Req: r})
				took := time.Since(start)
				if s != nil {
					t.Fatalf("call %d picked %s, want a decline", i, s.Name)
				}
				// the reason reaches the log's policy.verdict; a plain
				// decline is noted by core's wrapper, not the engine
				if want := core.PolicyFallback(tt.reason); (tt.reason == "" && r.note != "") || (tt.reason != "" && r.note != want) {
					t.Errorf("call %d noted %q, want %q", i, r.note, want)
				}
				r.note = ""
				if tt.reason == scripting.ReasonTimeout && took > 40*deadline {
					t.Errorf("call %d took %v with a %v deadline", i, took, deadline)
				}
			}
			e := p.Stats().Entry("choose_server")
			errs := e.Errors()
			want := map[string]uint64{}
			if tt.reason != "" {
				want[tt.reason] = 3
			}
			for _, reason := range scripting.Reasons {
				if errs[reason] != want[reason] {
					t.Errorf("%s errors = %d, want %d (all: %v)", reason, errs[reason], want[reason], errs)
				}
			}
			if wantDecl := uint64(3 - e.ErrorTotal()); e.Declined.Load() != wantDecl || e.Calls.Load() != 3 {
				t.Errorf("calls %d declined %d, want 3 and %d", e.Calls.Load(), e.Declined.Load(), wantDecl)
			}
			if n := p.Instances(); n > int64(poolSize())+1 {
				t.Errorf("%d instances alive, pool holds %d", n, poolSize())
			}
		})
	}
}

// TestRecoversAfterFailure: the same policy answers again once a failed
// instance was dropped (hog answers "s1" for any other path).
func TestRecoversAfterFailure(t *testing.T) {
	p := compileT(t, goGuest(t, "hog"), time.Second)
	sc := p.ServerChooser()
	sc.Update(servers("s1", "s2"))
	for _, path := range []string{"/p", "/", "/s", "/", "/a", "/"} {
		r := req("10.0.0.1:1")
		r.path = []byte(path)
		s := sc.Pick(&core.PickContext{Req: r})
		if want := path == "/"; (s != nil) != want || (s != nil && s.Name != "s1") {
			t.Errorf("path %s picked %v", path, s)
		}
	}
}

// TestCompileErrors: a module that cannot work is refused at compile time
// (`varde check`), naming what is wrong.
func TestCompileErrors(t *testing.T) {
	sig := wmodule{funcs: []wfunc{{export: "choose_server", results: []byte{tI32}, body: retI32(0)}}}.encode()
	noEntry := wmodule{funcs: []wfunc{{export: "pick", results: []byte{tI64}, body: retI64(0)}}}.encode()
	badImport := wmodule{imports: []wimport{{mod: "varde", name: "open_socket", results: []byte{tI32}}},
		funcs: []wfunc{{export: "choose_server", results: []byte{tI64}, body: retI64(0)}}}.encode()
	envImport := wmodule{imports: []wimport{{mod: "env", name: "abort"}},
		funcs: []wfunc{{export: "choose_server", results: []byte{tI64}, body: retI64(0)}}}.encode()
	command := wmodule{funcs: []wfunc{{export: "choose_server", results: []byte{tI64}, body: retI64(0)},
		{export: "_start", body: nil}}}.encode()
	noMem := wmodule{noMem: true, funcs: []wfunc{{export: "choose_server", results: []byte{tI64}, body: retI64(0)}}}.encode()
	tests := []struct {
		name string
		bin  []byte
		want string
	}{
		{"not wasm", []byte("print('hi')"), "not a valid WebAssembly module"},
		{"wrong signature", sig, "export choose_server: signature [] -> [i32], want () -> i64"},
		{"no entry point", noEntry, "exports none of choose_backend"},
		{"unknown host function", badImport, "imports varde.open_socket, which varde does not provide"},
		{"foreign import", envImport, `imports env.abort: only module "varde"`},
		{"command module", command, "build a reactor"},
		{"no memory", noMem, `exports no memory named "memory"`},
	}
	for _, tt := range tests {
		path := writeModule(t, strings.ReplaceAll(tt.name, " ", "-"), tt.bin)
		_, err := core.CompilePolicy(core.PolicySpec{Path: path})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want it to name %s and say %q", tt.name, err, path, tt.want)
		}
	}
	if _, err := core.CompilePolicy(core.PolicySpec{Path: "/nonexistent/x.wasm"}); err == nil {
		t.Error("a missing file compiled")
	}
}
