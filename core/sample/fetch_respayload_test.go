package sample

import (
	"encoding/hex"
	"testing"
)

// resPayloadReq is a view of a connection whose server bytes are
// inspected (tcp-response content rules).
type resPayloadReq struct {
	tcpReq
	b      []byte
	final  bool
	needed bool
}

func (p *resPayloadReq) ResPayload() ([]byte, bool) { return p.b, p.final }
func (p *resPayloadReq) NeedMore()                  { p.needed = true }

func evalRes(t *testing.T, expr string, r *resPayloadReq) (string, bool) {
	t.Helper()
	e, err := Parse(expr, Options{Where: AtResponse})
	if err != nil {
		t.Fatal(err)
	}
	var c Ctx
	RequestCtx(&c, r)
	v, _, ok := e.Eval(&c, nil)
	if !ok {
		return "", false
	}
	return string(AppendString(nil, &v)), true
}

func TestResPayloadFetches(t *testing.T) {
	hello, _ := hex.DecodeString("16030300080200000403030000")
	tests := []struct {
		expr  string
		in    []byte
		final bool
		want  string
		ok    bool
		need  bool
	}{
		{expr: "res.len", in: []byte("abc"), want: "3", ok: true, need: true},
		{expr: "res.len", in: nil, final: true, want: "0", ok: true},
		{expr: "res.payload(1,2)", in: []byte("abcd"), want: "bc", ok: true},
		{expr: "res.payload(2,0)", in: []byte("abcd"), want: "cd", ok: true, need: true},
		{expr: "res.payload(2,0)", in: []byte("abcd"), final: true, want: "cd", ok: true},
		{expr: "res.payload(5,0)", in: []byte("abcd"), need: true},
		{expr: "res.payload(2,5)", in: []byte("abcd"), need: true},
		{expr: "res.payload(2,5)", in: []byte("abcd"), final: true},
		{expr: "res.ssl_hello_type", in: hello, want: "2", ok: true},
		{expr: "rep_ssl_hello_type", in: hello[:10], need: true},
		{expr: "res.ssl_hello_type", in: hello[:10], final: true},
		{expr: "res.ssl_hello_type", in: nil, need: true},
		{expr: "res.ssl_hello_type", in: []byte("HTTP/1.0 200 OK\r\n")},
	}
	for _, tt := range tests {
		r := &resPayloadReq{b: tt.in, final: tt.final}
		got, ok := evalRes(t, tt.expr, r)
		if ok != tt.ok || got != tt.want || r.needed != tt.need {
			t.Errorf("%s on %d bytes (final %v): %q %v need=%v, want %q %v need=%v", tt.expr, len(tt.in), tt.final, got, ok, r.needed, tt.want, tt.ok, tt.need)
		}
	}
	// An empty response view has a sample (0); a request view has none.
	if _, ok := evalRes(t, "res.len", &resPayloadReq{}); !ok {
		t.Error("res.len on a response view gave no sample")
	}
	var c Ctx
	RequestCtx(&c, &payloadReq{b: []byte("abc")})
	e, _ := Parse("res.len", Options{Where: AtResponse})
	if _, _, ok := e.Eval(&c, nil); ok {
		t.Error("res.len read the client's bytes")
	}
}

func FuzzResHelloType(f *testing.F) {
	hello, _ := hex.DecodeString("16030300080200000403030000")
	f.Add(hello)
	f.Add([]byte{0x16, 3, 1, 0, 5, 1, 0, 0, 1, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, st := helloTypeOf(b)
		if st == helloOK && (len(b) < 9 || typ != int64(b[5])) {
			t.Fatalf("type %d from %x", typ, b)
		}
		var c Ctx
		RequestCtx(&c, &resPayloadReq{b: b})
		for _, name := range []string{"res.ssl_hello_type", "res.len"} {
			e, _ := Parse(name, Options{Where: AtResponse})
			e.Eval(&c, nil)
		}
	})
}
