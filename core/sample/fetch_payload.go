package sample

import "encoding/binary"

// Content fetches over the client's first bytes (§7.3.5): what `mode tcp`
// buffers while `tcp-request inspect-delay` lets it wait, such as the SNI
// of a TLS ClientHello that is routed without being terminated.

// Payloader is the request view of a connection whose first bytes are
// being inspected (mode tcp). Payload returns the bytes buffered so far
// and whether no more will be waited for; NeedMore is how a fetch says its
// answer may change with more bytes (HAProxy's SMP_F_MAY_CHANGE): a rule
// that did not match then waits instead of deciding.
type Payloader interface {
	Payload() (b []byte, final bool)
	NeedMore()
}

// payload returns the inspected bytes, ok false outside inspection.
func payload(c *Ctx) (b []byte, final, ok bool) {
	p, ok := c.Req.(Payloader)
	if !ok {
		return nil, true, false
	}
	b, final = p.Payload()
	return b, final, true
}

// short is a fetch's "not enough bytes yet": no sample, and the rule may
// wait for more unless the payload is final.
func short(c *Ctx, final bool) bool {
	if !final {
		c.Req.(Payloader).NeedMore()
	}
	return false
}

func init() {
	for _, n := range []string{"req.len", "req_len"} {
		RegisterFetch(&Fetch{Name: n, Out: TypeInt, Where: AtRequest,
			Doc: "the number of client bytes buffered (mode tcp content inspection)",
			Eval: func(c *Ctx, _ *Args, out *Value) bool {
				b, final, ok := payload(c)
				if !ok {
					return false
				}
				if !final {
					c.Req.(Payloader).NeedMore() // more may come: a bigger length
				}
				out.SetInt(int64(len(b)))
				return true
			}})
	}
	RegisterFetch(&Fetch{Name: "req.payload", MinArgs: 2, MaxArgs: 2, Out: TypeBin, Where: AtRequest,
		Doc: "LEN buffered client bytes from OFFSET (LEN 0: all from OFFSET), once that many are there", Compile: compileOffLen,
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			b, final, ok := payload(c)
			if !ok {
				return false
			}
			off, n := int(a.Int[0]), int(a.Int[1])
			if n == 0 {
				if off > len(b) {
					return short(c, final)
				}
				*out = Value{Type: TypeBin, Str: b[off:]}
				return true
			}
			if off+n > len(b) {
				return short(c, final)
			}
			*out = Value{Type: TypeBin, Str: b[off : off+n]}
			return true
		}})
	for _, n := range []string{"req.ssl_hello_type", "req_ssl_hello_type"} {
		RegisterFetch(&Fetch{Name: n, Out: TypeInt, Where: AtRequest,
			Doc:  "the handshake type of a complete first TLS handshake message (1: ClientHello)",
			Eval: fetchHelloType})
	}
	for _, n := range []string{"req.ssl_sni", "req_ssl_sni"} {
		RegisterFetch(&Fetch{Name: n, Out: TypeStr, Where: AtRequest,
			Doc:  "the server name (SNI) of the client's TLS ClientHello, read without terminating TLS",
			Eval: fetchSNI})
	}
	RegisterFetch(&Fetch{Name: "req.ssl_alpn", Out: TypeStr, Where: AtRequest,
		Doc:  "the protocols (ALPN) of the client's TLS ClientHello, read without terminating TLS: the first as a sample, each one for an ACL",
		Eval: fetchALPN, Each: eachALPN})
}

func compileOffLen(args []string, a *Args) error {
	for i, s := range args {
		n, ok := parseInt([]byte(s))
		if !ok || n < 0 || n > 1<<20 {
			return errorf("", "argument %q: want an integer from 0", s)
		}
		a.Int[i] = n
	}
	return nil
}

// fetchHelloType is req.ssl_hello_type: a TLS handshake record (SSLv3
// format, version 3.x) whose first handshake message is complete.
func fetchHelloType(c *Ctx, _ *Args, out *Value) bool {
	b, final, ok := payload(c)
	if !ok {
		return false
	}
	if len(b) == 0 {
		return short(c, final)
	}
	if b[0] < 0x14 || (b[0] > 0x17 && b[0] != 0xff) {
		return false
	}
	if len(b) < 9 {
		return short(c, final)
	}
	if b[1] < 3 || int(binary.BigEndian.Uint16(b[3:5])) < 4 {
		return false
	}
	hsLen := int(b[6])<<16 | int(b[7])<<8 | int(b[8])
	if len(b) < 9+hsLen {
		return short(c, final)
	}
	out.SetInt(int64(b[5]))
	return true
}

// fetchSNI is req.ssl_sni: the host_name of the server_name extension of a
// ClientHello in the first TLS record. Every length is checked against
// what encloses it.
func fetchSNI(c *Ctx, _ *Args, out *Value) bool {
	b, final, ok := payload(c)
	if !ok {
		return false
	}
	sni, st := clientHelloExt(b, extServerName)
	if st == helloOK {
		sni, st = serverName(sni)
	}
	switch st {
	case helloShort:
		return short(c, final)
	case helloOK:
		out.SetStr(sni)
		return true
	}
	return false
}

const (
	helloOK = iota
	helloShort
	helloNo
)

// fetchALPN is req.ssl_alpn as a sample: the first protocol the client
// offers (HAProxy gives them one after the other; eachALPN does).
func fetchALPN(c *Ctx, _ *Args, out *Value) bool {
	found := false
	eachALPN(c, nil, visitFunc(func(v *Value) bool {
		*out, found = *v, true
		return true
	}))
	return found
}

// eachALPN gives every protocol name of the ClientHello's ALPN extension
// (RFC 7301) to v, as HAProxy's smp_fetch_ssl_hello_alpn does for an ACL.
func eachALPN(c *Ctx, _ *Args, v Visitor) bool {
	b, final, ok := payload(c)
	if !ok {
		return false
	}
	ext, st := clientHelloExt(b, extALPN)
	switch {
	case st == helloShort:
		return short(c, final)
	case st != helloOK || len(ext) < 3:
		return false
	}
	list := int(binary.BigEndian.Uint16(ext))
	names := ext[2:min(len(ext), 2+list)]
	for len(names) > 0 {
		l := int(names[0])
		if l == 0 || l > len(names)-1 {
			return false
		}
		var val Value
		val.SetStr(names[1 : 1+l])
		if v.Visit(&val) {
			return true
		}
		names = names[1+l:]
	}
	return false
}

type visitFunc func(v *Value) bool

func (f visitFunc) Visit(v *Value) bool { return f(v) }

// ClientHello extension types (RFC 6066, RFC 7301).
const (
	extServerName = 0
	extALPN       = 16
)

// clientHelloExt parses b as a TLS record holding a ClientHello and
// returns the body of its extension typ.
func clientHelloExt(b []byte, typ uint16) ([]byte, int) {
	if len(b) == 0 {
		return nil, helloShort
	}
	if b[0] != 0x16 {
		return nil, helloNo
	}
	if len(b) < 9 {
		return nil, helloShort
	}
	if b[1] != 3 || b[5] != 1 {
		return nil, helloNo
	}
	recLen := int(binary.BigEndian.Uint16(b[3:5]))
	hsLen := int(b[6])<<16 | int(b[7])<<8 | int(b[8])
	if hsLen+4 > recLen {
		return nil, helloNo // a ClientHello over several records: not read (as HAProxy)
	}
	if len(b) < 9+hsLen {
		return nil, helloShort
	}
	return helloExt(b[9:9+hsLen], typ)
}

// helloExt walks a ClientHello body (version, random, session id, cipher
// suites, compression methods, extensions) to extension typ.
func helloExt(h []byte, typ uint16) ([]byte, int) {
	if len(h) < 35 || h[0] != 3 {
		return nil, helloNo
	}
	h = h[34:]
	h, ok := skipVec(h, 1)
	if ok {
		h, ok = skipVec(h, 2)
	}
	if ok {
		h, ok = skipVec(h, 1)
	}
	if !ok || len(h) < 2 {
		return nil, helloNo
	}
	n := int(binary.BigEndian.Uint16(h))
	if n > len(h)-2 {
		return nil, helloNo
	}
	ext := h[2 : 2+n]
	for len(ext) >= 4 {
		t, l := binary.BigEndian.Uint16(ext), int(binary.BigEndian.Uint16(ext[2:]))
		if l > len(ext)-4 {
			return nil, helloNo
		}
		if t == typ {
			return ext[4 : 4+l], helloOK
		}
		ext = ext[4+l:]
	}
	return nil, helloNo
}

// serverName reads the first host_name of a server_name extension.
func serverName(e []byte) ([]byte, int) {
	if len(e) < 2 {
		return nil, helloNo
	}
	list := int(binary.BigEndian.Uint16(e))
	if list > len(e)-2 {
		return nil, helloNo
	}
	e = e[2 : 2+list]
	for len(e) >= 3 {
		typ, l := e[0], int(binary.BigEndian.Uint16(e[1:]))
		if l > len(e)-3 {
			return nil, helloNo
		}
		if typ == 0 && l > 0 {
			return e[3 : 3+l], helloOK
		}
		e = e[3+l:]
	}
	return nil, helloNo
}

// skipVec skips a vector with an n-byte length prefix.
func skipVec(b []byte, n int) ([]byte, bool) {
	if len(b) < n {
		return nil, false
	}
	l := int(b[0])
	if n == 2 {
		l = int(binary.BigEndian.Uint16(b))
	}
	if l > len(b)-n {
		return nil, false
	}
	return b[n+l:], true
}
