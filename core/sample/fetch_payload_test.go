package sample

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// payloadReq is a mode tcp view for the tests.
type payloadReq struct {
	tcpReq
	b      []byte
	final  bool
	needed bool
}

func (p *payloadReq) Payload() ([]byte, bool) { return p.b, p.final }
func (p *payloadReq) NeedMore()               { p.needed = true }

// tcpReq is an empty core.Request.
type tcpReq struct{}

func (tcpReq) Method() []byte                    { return nil }
func (tcpReq) URI() []byte                       { return nil }
func (tcpReq) Path() []byte                      { return nil }
func (tcpReq) Query() []byte                     { return nil }
func (tcpReq) Header(string) ([]byte, bool)      { return nil, false }
func (tcpReq) NumHeaders() int                   { return 0 }
func (tcpReq) HeaderAt(int) (name, value []byte) { return nil, nil }
func (tcpReq) Src() netip.AddrPort               { return netip.AddrPort{} }
func (tcpReq) Dst() netip.AddrPort               { return netip.AddrPort{} }
func (tcpReq) TLS() bool                         { return false }

// clientHello returns the first bytes a Go TLS client sends for sni,
// offering the protocols alpn.
func clientHello(t testing.TB, sni string, alpn ...string) []byte {
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	go tls.Client(c, &tls.Config{ServerName: sni, InsecureSkipVerify: true, NextProtos: alpn}).Handshake()
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := s.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) >= 5 && len(out) >= 5+int(out[3])<<8|int(out[4]) {
			return out
		}
	}
}

func evalOn(t *testing.T, expr string, r *payloadReq) (string, bool) {
	t.Helper()
	e, err := Parse(expr, Options{Where: AtRequest})
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

func TestPayloadFetches(t *testing.T) {
	hello := clientHello(t, "a.example")
	noSNI := clientHello(t, "192.0.2.1") // an IP: no server_name extension
	withALPN := clientHello(t, "a.example", "h2", "http/1.1")
	tests := []struct {
		expr  string
		in    []byte
		final bool
		want  string
		ok    bool
		need  bool
	}{
		{expr: "req.ssl_sni", in: hello, want: "a.example", ok: true},
		{expr: "req_ssl_sni", in: hello, final: true, want: "a.example", ok: true},
		{expr: "req.ssl_sni", in: hello[:len(hello)-1], need: true},
		{expr: "req.ssl_sni", in: hello[:len(hello)-1], final: true},
		{expr: "req.ssl_sni", in: hello[:3], need: true},
		{expr: "req.ssl_sni", in: nil, need: true},
		{expr: "req.ssl_sni", in: noSNI},
		{expr: "req.ssl_sni", in: []byte("GET / HTTP/1.1\r\n")},
		{expr: "req.ssl_alpn", in: withALPN, want: "h2", ok: true},
		{expr: "req.ssl_alpn", in: hello},
		{expr: "req.ssl_alpn", in: withALPN[:len(withALPN)-1], need: true},
		{expr: "req.ssl_alpn", in: []byte("GET / HTTP/1.1\r\n")},
		{expr: "req.ssl_hello_type", in: hello, want: "1", ok: true},
		{expr: "req_ssl_hello_type", in: hello[:20], need: true},
		{expr: "req_ssl_hello_type", in: []byte("GET / HTTP/1.1\r\n")},
		{expr: "req.len", in: []byte("abc"), want: "3", ok: true, need: true},
		{expr: "req_len", in: []byte("abc"), final: true, want: "3", ok: true},
		{expr: "req.payload(1,2)", in: []byte("abcd"), want: "bc", ok: true},
		{expr: "req.payload(2,0)", in: []byte("abcd"), want: "cd", ok: true},
		{expr: "req.payload(2,5)", in: []byte("abcd"), need: true},
		{expr: "req.payload(2,5)", in: []byte("abcd"), final: true},
	}
	for _, tt := range tests {
		r := &payloadReq{b: tt.in, final: tt.final}
		got, ok := evalOn(t, tt.expr, r)
		if ok != tt.ok || got != tt.want || r.needed != tt.need {
			t.Errorf("%s on %d bytes (final %v): %q %v need=%v, want %q %v need=%v", tt.expr, len(tt.in), tt.final, got, ok, r.needed, tt.want, tt.ok, tt.need)
		}
	}
	// Outside inspection (an HTTP request view): no sample.
	if _, ok := evalOn(t, "req.ssl_sni", &payloadReq{}); ok {
		t.Error("req.ssl_sni on an empty payload gave a sample")
	}
}

// For an ACL, req.ssl_alpn gives every protocol offered, in order, as
// HAProxy's fetch does (`acl acme req.ssl_alpn acme-tls/1` matches a
// client offering it second).
func TestALPNEachProtocol(t *testing.T) {
	var c Ctx
	RequestCtx(&c, &payloadReq{b: clientHello(t, "a.example", "h2", "acme-tls/1", "http/1.1")})
	var got []string
	eachALPN(&c, nil, visitFunc(func(v *Value) bool {
		got = append(got, string(v.Str))
		return false
	}))
	if strings.Join(got, ",") != "h2,acme-tls/1,http/1.1" {
		t.Fatalf("protocols %q, want h2, acme-tls/1, http/1.1", got)
	}
}

// TestClientHelloEveryPrefix: a ClientHello cut anywhere is "short", never
// "not a ClientHello", so a slow client is waited for.
func TestClientHelloEveryPrefix(t *testing.T) {
	hello := clientHello(t, "b.example")
	for i := 0; i < len(hello); i++ {
		if _, st := clientHelloExt(hello[:i], extServerName); st != helloShort {
			t.Fatalf("prefix %d of %d: state %d, want short", i, len(hello), st)
		}
	}
}

func FuzzClientHelloSNI(f *testing.F) {
	f.Add(clientHello(f, "a.example"))
	f.Add([]byte{0x16, 3, 1, 0, 5, 1, 0, 0, 1, 3})
	f.Add(clientHello(f, "a.example", "h2", "http/1.1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sni, st := clientHelloExt(b, extServerName)
		if st == helloOK {
			sni, st = serverName(sni)
		}
		if st == helloOK && (len(sni) == 0 || !bytes.Contains(b, sni)) {
			t.Fatalf("sni %q not from the input", sni)
		}
		var vc Ctx
		RequestCtx(&vc, &payloadReq{b: b, final: true})
		eachALPN(&vc, nil, visitFunc(func(v *Value) bool {
			if len(v.Str) == 0 || !bytes.Contains(b, v.Str) {
				t.Fatalf("alpn %q not from the input", v.Str)
			}
			return false
		}))
		var c Ctx
		r := &payloadReq{b: b}
		RequestCtx(&c, r)
		var v Value
		fetchHelloType(&c, nil, &v)
	})
}
