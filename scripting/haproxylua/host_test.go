package haproxylua

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/proxy"
	"github.com/varde-lb/varde/core/sample"
)

// fakeTxn is a ScriptTxn over fixed request headers, recording edits.
type fakeTxn struct {
	req   fakeReq
	vars  sample.Vars
	priv  any
	set   map[string]string
	reply int
}

type fakeReq struct{ hdr [][2]string }

func (r *fakeReq) Method() []byte { return []byte("GET") }
func (r *fakeReq) URI() []byte    { return []byte("/p?q=1") }
func (r *fakeReq) Path() []byte   { return []byte("/p") }
func (r *fakeReq) Query() []byte  { return []byte("q=1") }
func (r *fakeReq) Header(name string) ([]byte, bool) {
	for _, h := range r.hdr {
		if h[0] == name {
			return []byte(h[1]), true
		}
	}
	return nil, false
}
func (r *fakeReq) NumHeaders() int                 { return len(r.hdr) }
func (r *fakeReq) HeaderAt(i int) ([]byte, []byte) { return []byte(r.hdr[i][0]), []byte(r.hdr[i][1]) }
func (r *fakeReq) Src() netip.AddrPort             { return netip.MustParseAddrPort("192.0.2.1:1234") }
func (r *fakeReq) Dst() netip.AddrPort             { return netip.MustParseAddrPort("127.0.0.1:80") }
func (r *fakeReq) TLS() bool                       { return false }

var _ core.Request = (*fakeReq)(nil)

func (t *fakeTxn) Request() core.Request { return &t.req }
func (t *fakeTxn) InResponse() bool      { return false }
func (t *fakeTxn) EvalCtx(c *sample.Ctx) { sample.RequestCtx(c, &t.req); c.Vars = &t.vars }
func (t *fakeTxn) Vars() *sample.Vars    { return &t.vars }
func (t *fakeTxn) Priv() *any            { return &t.priv }
func (t *fakeTxn) Headers(fn func(n, v []byte)) {
	for i := range t.req.hdr {
		fn(t.req.HeaderAt(i))
	}
}
func (t *fakeTxn) SetHeader(n, v string)                       { t.set[n] = v }
func (t *fakeTxn) AddHeader(n, v string)                       { t.set[n] = v }
func (t *fakeTxn) DelHeader(n string)                          { delete(t.set, n) }
func (t *fakeTxn) SetMethod(string)                            {}
func (t *fakeTxn) SetTarget(string)                            {}
func (t *fakeTxn) SetStatus(int, string)                       {}
func (t *fakeTxn) Reply(s int, _ string, _ []string, _ []byte) { t.reply = s }
func (t *fakeTxn) Close()                                      { t.reply = -1 }

func newTestHost(t testing.TB, src string) *Host {
	t.Helper()
	f := filepath.Join(t.TempDir(), "s.lua")
	os.WriteFile(f, []byte(src), 0o644)
	c := &config.Config{}
	c.Global.LuaLoad = []*config.LuaLoad{{File: f}}
	h, errs := NewHost(c, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	t.Cleanup(h.Close)
	return h
}

const benchScript = `
core.register_action("tag", {"http-req"}, function(txn)
  txn.http:req_set_header("x-host", txn.sf:req_hdr("host"))
  txn:set_var("txn.n", 200)
end)
core.register_fetches("f", function(txn) return txn.sf:req_hdr("host") end)
`

func TestActionThroughHost(t *testing.T) {
	h := newTestHost(t, benchScript)
	a, err := h.Action("tag", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	tx := &fakeTxn{req: fakeReq{hdr: [][2]string{{"host", "example.org"}}}, set: map[string]string{}}
	if v := a.Run(tx); v != proxy.ScriptContinue {
		t.Fatalf("verdict %d", v)
	}
	if tx.set["x-host"] != "example.org" {
		t.Fatalf("set %v", tx.set)
	}
	if v, ok := tx.vars.Get("txn.n"); !ok || v.Type != sample.TypeInt || v.Int != 200 {
		t.Fatalf("txn.n = %+v %v: a whole number must be stored as an integer", v, ok)
	}
	if _, err := h.Action("tag", nil, true); err == nil {
		t.Fatal("an http-req action bound to http-response")
	}
}

// BenchmarkAction measures one lua action call (a fetch, a header set, a
// variable) through the host, pooled state included.
func BenchmarkAction(b *testing.B) {
	h := newTestHost(b, benchScript)
	a, _ := h.Action("tag", nil, false)
	tx := &fakeTxn{req: fakeReq{hdr: [][2]string{{"host", "example.org"}}}, set: map[string]string{}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tx.vars.Reset()
		a.Run(tx)
	}
}

func BenchmarkFetch(b *testing.B) {
	h := newTestHost(b, benchScript)
	tx := &fakeTxn{req: fakeReq{hdr: [][2]string{{"host", "example.org"}}}}
	var c sample.Ctx
	tx.EvalCtx(&c)
	var out sample.Value
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !h.Fetch(&c, "lua.f", &sample.Args{}, &out) {
			b.Fatal("no sample")
		}
	}
}

// TestErrorsCountedAndContinue: a failing action and a runaway one are
// counted, and the rules go on (ScriptContinue), as HAProxy.
func TestErrorsCountedAndContinue(t *testing.T) {
	h := newTestHost(t, `core.register_action("bad", {"http-req"}, function(txn) error("no") end)
core.register_action("spin", {"http-req"}, function(txn) while true do end end)`)
	tx := &fakeTxn{set: map[string]string{}}
	for _, name := range []string{"bad", "spin"} {
		a, _ := h.Action(name, nil, false)
		start := time.Now()
		if v := a.Run(tx); v != proxy.ScriptContinue {
			t.Errorf("%s: verdict %d, want continue", name, v)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s took %v", name, d)
		}
	}
	if h.Errors.Load() != 2 || h.Calls.Load() != 2 {
		t.Fatalf("errors %d calls %d, want 2 and 2", h.Errors.Load(), h.Calls.Load())
	}
}

// TestTCPLoopbackOnly: core.tcp refuses any address but loopback, and
// refuses sockets while the script loads (as HAProxy's body context).
func TestTCPLoopbackOnly(t *testing.T) {
	h := newTestHost(t, `core.register_action("out", {"http-req"}, function(txn)
  local s = core.tcp()
  s:connect("192.0.2.1", 80)
end)`)
	a, _ := h.Action("out", nil, false)
	a.Run(&fakeTxn{set: map[string]string{}})
	if h.Errors.Load() != 1 {
		t.Fatalf("a connect outside loopback did not fail the call (errors %d)", h.Errors.Load())
	}
	f := filepath.Join(t.TempDir(), "s.lua")
	os.WriteFile(f, []byte("local s = core.tcp()\n"), 0o644)
	c := &config.Config{}
	c.Global.LuaLoad = []*config.LuaLoad{{File: f}}
	if _, errs := NewHost(c, nil); len(errs) != 1 || !strings.Contains(errs[0].Error(), "no socket while the script loads") {
		t.Fatalf("got %v", errs)
	}
}

// TestNoMessageSplitting: CR, LF or NUL in a header name or value, a
// reason or a method fail the call; nothing reaches the message.
func TestNoMessageSplitting(t *testing.T) {
	bad := []string{
		`txn.http:req_set_header("x", "a\r\nInjected: 1")`,
		`txn.http:req_add_header("x\r\ny", "a")`,
		`txn.http:req_set_header("bad name", "a")`,
		`txn.http:req_set_method("GET /x HTTP/1.1\r\n")`,
		`txn.http:req_set_uri("/a b")`,
		`local r = txn:reply(); r:add_header("x", "a\nb"); txn:done(r)`,
		`local r = txn:reply(); r.headers = {["x\ny"] = {"v"}}; txn:done(r)`,
		`local r = txn:reply(); r.reason = "OK\r\nX: y"; txn:done(r)`,
	}
	for i, code := range bad {
		h := newTestHost(t, `core.register_action("a", {"http-req"}, function(txn) `+code+` end)`)
		a, _ := h.Action("a", nil, false)
		tx := &fakeTxn{set: map[string]string{}}
		a.Run(tx)
		if len(tx.set) != 0 || tx.reply != 0 || h.Errors.Load() != 1 {
			t.Errorf("%d %s: set %v reply %d errors %d", i, code, tx.set, tx.reply, h.Errors.Load())
		}
	}
}

// With lua-load's shared state, a call waits for the state at most its
// deadline: behind a call that holds it longer, the call fails as a
// timeout (counted) instead of queueing without bound, and the next call
// gets the state once it is free.
func TestSharedStateWaitIsBounded(t *testing.T) {
	h := newTestHost(t, `core.register_fetches("x", function(txn) return "y" end)`)
	if !h.shared {
		t.Fatal("lua-load should share one state")
	}
	h.timeout = 50 * time.Millisecond
	h.slot <- struct{}{} // a call in progress
	start := time.Now()
	if v := h.get(); v != nil {
		t.Fatal("got the shared state while another call held it")
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > time.Second {
		t.Errorf("waited %v, want the 50 ms deadline", d)
	}
	if h.Errors.Load() != 1 {
		t.Errorf("errors %d, want the timeout counted", h.Errors.Load())
	}
	<-h.slot
	v := h.get()
	if v == nil {
		t.Fatal("no state once it was free")
	}
	h.put(v)
}
