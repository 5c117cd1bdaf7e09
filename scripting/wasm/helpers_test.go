package wasm

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/testenv"
)

// A tiny WebAssembly encoder, so that every failure mode has a module that
// does exactly that (spin, trap, grow, answer garbage) without a toolchain.

type wfunc struct {
	export  string
	results []byte // value types: 0x7f i32, 0x7e i64
	body    []byte // instructions, without locals and the final end
}

type wimport struct {
	mod, name       string
	params, results []byte
}

type wmodule struct {
	imports []wimport
	funcs   []wfunc
	pages   int
	data    map[uint32]string // active data segments
	noMem   bool
}

func uleb(n uint64) []byte {
	var out []byte
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			out = append(out, b|0x80)
			continue
		}
		return append(out, b)
	}
}

func sleb(n int64) []byte {
	var out []byte
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if (n == 0 && b&0x40 == 0) || (n == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

func wname(s string) []byte { return append(uleb(uint64(len(s))), s...) }

func vec(items ...[]byte) []byte {
	out := uleb(uint64(len(items)))
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

func section(id byte, payload []byte) []byte {
	return append(append([]byte{id}, uleb(uint64(len(payload)))...), payload...)
}

func functype(params, results []byte) []byte {
	return append(append([]byte{0x60}, vec(bytesOf(params)...)...), vec(bytesOf(results)...)...)
}

func bytesOf(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

func (m wmodule) encode() []byte {
	var types, imports, funcs, exports, codes [][]byte
	for i, im := range m.imports {
		types = append(types, functype(im.params, im.results))
		imports = append(imports, append(append(wname(im.mod), wname(im.name)...), 0x00, byte(i)))
	}
	for i, f := range m.funcs {
		ti := len(types)
		types = append(types, functype(nil, f.results))
		funcs = append(funcs, uleb(uint64(ti)))
		exports = append(exports, append(append(wname(f.export), 0x00), uleb(uint64(len(m.imports)+i))...))
		body := append(append([]byte{0x00}, f.body...), 0x0b)
		codes = append(codes, append(uleb(uint64(len(body))), body...))
	}
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	out = append(out, section(1, vec(types...))...)
	if len(imports) > 0 {
		out = append(out, section(2, vec(imports...))...)
	}
	out = append(out, section(3, vec(funcs...))...)
	if !m.noMem {
		out = append(out, section(5, vec(append([]byte{0x00}, uleb(uint64(max(m.pages, 1)))...)))...)
		exports = append(exports, append(wname("memory"), 0x02, 0x00))
	}
	out = append(out, section(7, vec(exports...))...)
	out = append(out, section(10, vec(codes...))...)
	var segs [][]byte
	for off, s := range m.data {
		seg := append([]byte{0x00, 0x41}, sleb(int64(off))...)
		seg = append(append(seg, 0x0b), wname(s)...)
		segs = append(segs, seg)
	}
	if len(segs) > 0 {
		out = append(out, section(11, vec(segs...))...)
	}
	return out
}

const (
	tI32 = 0x7f
	tI64 = 0x7e
)

// Instruction snippets.
var (
	opSpin = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b} // loop br 0 end
	opTrap = []byte{0x00}                         // unreachable
	// grow by 16 pages until memory.grow fails, then trap.
	opGrow = []byte{0x03, 0x40, 0x41, 0x10, 0x40, 0x00, 0x41, 0x7f, 0x47, 0x0d, 0x00, 0x0b, 0x00}
)

// retStr returns the data-segment string at off as ptr<<32|len.
func retStr(off uint32, s string) []byte {
	return append([]byte{0x42}, sleb(int64(uint64(off)<<32|uint64(len(s))))...)
}

func retI64(v int64) []byte { return append([]byte{0x42}, sleb(v)...) }
func retI32(v int32) []byte { return append([]byte{0x41}, sleb(int64(v))...) }

// writeModule writes m to a .wasm file in a test directory.
func writeModule(t testing.TB, name string, bin []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".wasm")
	if err := os.WriteFile(path, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// answering is a module whose entry point export returns a string from
// its data segment (or 0 for "" : no opinion).
func answering(export, answer string) []byte {
	m := wmodule{data: map[uint32]string{}}
	body := retI64(0)
	if answer != "" {
		m.data[1024] = answer
		body = retStr(1024, answer)
	}
	m.funcs = []wfunc{{export: export, results: []byte{tI64}, body: body}}
	return m.encode()
}

// compileT compiles path; a zero timeout means 200 ms, so that functional
// tests on a loaded machine are not failed by the 1 ms default.
func compileT(t testing.TB, path string, timeout time.Duration) *Policy {
	t.Helper()
	if timeout == 0 {
		timeout = 200 * time.Millisecond
	}
	p, err := Compile(core.PolicySpec{Path: path, Timeout: timeout, Proxy: "be", Backend: true, Frontend: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// The Go-built policies of policies/wasm, built once per test binary with
// the local toolchain (GOOS=wasip1 GOARCH=wasm, reactor), into a
// directory removed at exit.
var goBuilt struct {
	sync.Mutex
	dir string
	m   map[string]string
}

func goPolicy(t testing.TB, name string) string {
	t.Helper()
	return goBuild(t, "policies/wasm", name)
}

// goGuest builds a test guest of testdata/guests.
func goGuest(t testing.TB, name string) string {
	t.Helper()
	return goBuild(t, "scripting/wasm/testdata/guests", name)
}

func goBuild(t testing.TB, dir, name string) string {
	t.Helper()
	goBuilt.Lock()
	defer goBuilt.Unlock()
	key := dir + "/" + name
	if p, ok := goBuilt.m[key]; ok {
		return p
	}
	if goBuilt.dir == "" {
		d, err := os.MkdirTemp("", "varde-wasm-policies-")
		if err != nil {
			t.Fatal(err)
		}
		goBuilt.dir, goBuilt.m = d, map[string]string{}
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(goBuilt.dir, strings.ReplaceAll(key, "/", "_")+".wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-buildmode=c-shared", "-o", out, "./"+name)
	cmd.Dir = filepath.Join(root, dir)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", key, err, b)
	}
	goBuilt.m[key] = out
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if goBuilt.dir != "" {
		os.RemoveAll(goBuilt.dir)
	}
	os.Exit(code)
}

// fakeReq is a core.Request for calls outside the engine.
// Its byte slices are made once so that benchmarks count the engine's
// allocations, not the fake's.
type fakeReq struct {
	method, path, query []byte
	hdr                 [][2][]byte
	src                 netip.AddrPort
	tls                 bool
	note                string // core.PolicyNoter, as the engine's view
}

func (r *fakeReq) NotePolicy(v string) { r.note = v }
func (r *fakeReq) PolicyNote() string  { return r.note }

func (r *fakeReq) Method() []byte { return r.method }
func (r *fakeReq) URI() []byte {
	if len(r.query) == 0 {
		return r.path
	}
	return []byte(string(r.path) + "?" + string(r.query))
}
func (r *fakeReq) Path() []byte  { return r.path }
func (r *fakeReq) Query() []byte { return r.query }
func (r *fakeReq) Header(name string) ([]byte, bool) {
	for _, h := range r.hdr {
		if strings.EqualFold(string(h[0]), name) {
			return h[1], true
		}
	}
	return nil, false
}
func (r *fakeReq) NumHeaders() int { return len(r.hdr) }
func (r *fakeReq) HeaderAt(i int) ([]byte, []byte) {
	return r.hdr[i][0], r.hdr[i][1]
}
func (r *fakeReq) Src() netip.AddrPort { return r.src }
func (r *fakeReq) Dst() netip.AddrPort { return netip.MustParseAddrPort("127.0.0.1:80") }
func (r *fakeReq) TLS() bool           { return r.tls }

func req(src string, hdr ...string) *fakeReq {
	r := &fakeReq{method: []byte("GET"), path: []byte("/"), src: netip.MustParseAddrPort(src)}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.hdr = append(r.hdr, [2][]byte{[]byte(hdr[i]), []byte(hdr[i+1])})
	}
	return r
}

func servers(names ...string) []*core.Server {
	out := make([]*core.Server, len(names))
	for i, n := range names {
		out[i] = core.NewServer("be", n, i+1, netip.MustParseAddrPort("127.0.0.1:1"), 1, 0)
	}
	return out
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
