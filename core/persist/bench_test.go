package persist_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/varde-lb/varde/core/persist"
)

// fastReq holds its bytes already, like the engine's view over its buffer,
// so allocation counts measure persist and not the test double.
type fastReq struct {
	method []byte
	hdrs   [][2][]byte
}

func newFastReq(method string, hdrs ...string) fastReq {
	r := fastReq{method: []byte(method)}
	for i := 0; i+1 < len(hdrs); i += 2 {
		r.hdrs = append(r.hdrs, [2][]byte{[]byte(hdrs[i]), []byte(hdrs[i+1])})
	}
	return r
}

func (r fastReq) Method() []byte { return r.method }
func (r fastReq) URI() []byte    { return nil }
func (r fastReq) Path() []byte   { return nil }
func (r fastReq) Query() []byte  { return nil }
func (r fastReq) Header(n string) ([]byte, bool) {
	for _, h := range r.hdrs {
		if bytes.EqualFold(h[0], []byte(n)) {
			return h[1], true
		}
	}
	return nil, false
}
func (r fastReq) NumHeaders() int                 { return len(r.hdrs) }
func (r fastReq) HeaderAt(i int) ([]byte, []byte) { return r.hdrs[i][0], r.hdrs[i][1] }
func (r fastReq) Src() netip.AddrPort             { return netip.AddrPort{} }
func (r fastReq) Dst() netip.AddrPort             { return netip.AddrPort{} }
func (r fastReq) TLS() bool                       { return false }

// Lookup and ResponseFields run on every request of a backend with cookie
// persistence: they must not allocate.
func TestHotPathAllocs(t *testing.T) {
	c, _ := persist.New(persist.Config{Name: "SERVERID", Mode: "insert", Indirect: true, NoCache: true})
	ss := servers()
	r := newFastReq("GET", "Host", "x", "Cookie", "lang=en; SERVERID=s3; theme=dark")
	dst := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(200, func() {
		if c.Lookup(&r, ss) != ss[2] {
			t.Fatal("lookup")
		}
		_ = c.ResponseFields(dst[:0], &r, 200, ss[1], false)
	}); n != 0 {
		t.Fatalf("%v allocations per request, want 0", n)
	}
}

func BenchmarkLookup(b *testing.B) {
	c, _ := persist.New(persist.Config{Name: "SERVERID", Mode: "insert", Indirect: true})
	ss := servers()
	r := newFastReq("GET", "Host", "x", "Accept", "*/*", "Cookie", "lang=en; SERVERID=s3; theme=dark")
	b.ReportAllocs()
	for b.Loop() {
		if c.Lookup(&r, ss) == nil {
			b.Fatal("no server")
		}
	}
}

func BenchmarkResponseFields(b *testing.B) {
	c, _ := persist.New(persist.Config{Name: "SERVERID", Mode: "insert", NoCache: true, HTTPOnly: true})
	ss := servers()
	dst := make([]byte, 0, 256)
	r := newFastReq("GET")
	b.ReportAllocs()
	for b.Loop() {
		dst = c.ResponseFields(dst[:0], &r, 200, ss[0], false)
	}
}
