package sample

import "encoding/binary"

// Content fetches over the server's first bytes: what a mode tcp backend
// buffers while `tcp-response inspect-delay` lets its `tcp-response
// content` rules wait (core/proxy/tcpresponse.go).

// ResPayloader is the view of a connection whose server's first bytes are
// being inspected: as Payloader, for the response direction.
type ResPayloader interface {
	ResPayload() (b []byte, final bool)
	NeedMore()
}

// resPayload returns the inspected response bytes, ok false outside
// response inspection.
func resPayload(c *Ctx) (b []byte, final, ok bool) {
	p, ok := c.Req.(ResPayloader)
	if !ok {
		return nil, true, false
	}
	b, final = p.ResPayload()
	return b, final, true
}

// resShort is short for the response direction.
func resShort(c *Ctx, final bool) bool {
	if !final {
		c.Req.(ResPayloader).NeedMore()
	}
	return false
}

func init() {
	for _, n := range []string{"res.len"} {
		RegisterFetch(&Fetch{Name: n, Out: TypeInt, Where: AtResponse,
			Doc: "the number of server bytes buffered (mode tcp response inspection)",
			Eval: func(c *Ctx, _ *Args, out *Value) bool {
				b, final, ok := resPayload(c)
				if !ok {
					return false
				}
				if !final {
					c.Req.(ResPayloader).NeedMore()
				}
				out.SetInt(int64(len(b)))
				return true
			}})
	}
	RegisterFetch(&Fetch{Name: "res.payload", MinArgs: 2, MaxArgs: 2, Out: TypeBin, Where: AtResponse,
		Doc: "LEN buffered server bytes from OFFSET (LEN 0: all from OFFSET), once that many are there", Compile: compileOffLen,
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			b, final, ok := resPayload(c)
			if !ok {
				return false
			}
			off, n := int(a.Int[0]), int(a.Int[1])
			if n == 0 {
				n = len(b) - off
				if !final && n >= 0 {
					c.Req.(ResPayloader).NeedMore() // more may come
				}
			}
			if n < 0 || off+n > len(b) {
				return resShort(c, final)
			}
			*out = Value{Type: TypeBin, Str: b[off : off+n]}
			return true
		}})
	for _, n := range []string{"res.ssl_hello_type", "rep_ssl_hello_type"} {
		RegisterFetch(&Fetch{Name: n, Out: TypeInt, Where: AtResponse,
			Doc: "the handshake type of a complete first TLS handshake message from the server (2: ServerHello)",
			Eval: func(c *Ctx, _ *Args, out *Value) bool {
				b, final, ok := resPayload(c)
				if !ok {
					return false
				}
				t, st := helloTypeOf(b)
				switch st {
				case helloShort:
					return resShort(c, final)
				case helloOK:
					out.SetInt(t)
					return true
				}
				return false
			}})
	}
}

// helloTypeOf reads the type of the first handshake message of a TLS
// record (SSLv3 format, version 3.x) once it is complete.
func helloTypeOf(b []byte) (int64, int) {
	if len(b) == 0 {
		return 0, helloShort
	}
	if b[0] < 0x14 || (b[0] > 0x17 && b[0] != 0xff) {
		return 0, helloNo
	}
	if len(b) < 9 {
		return 0, helloShort
	}
	if b[1] < 3 || int(binary.BigEndian.Uint16(b[3:5])) < 4 {
		return 0, helloNo
	}
	hsLen := int(b[6])<<16 | int(b[7])<<8 | int(b[8])
	if len(b) < 9+hsLen {
		return 0, helloShort
	}
	return int64(b[5]), helloOK
}
