package sample

import "bytes"

// Request body fetches (§7.3.6): what the request buffer holds of the
// body when the rule runs. A rule after `http-request wait-for-body` (or
// in a proxy with option http-buffer-request) sees the whole body when it
// fits the buffer; before it, whatever came with the head.

// BodyReader is a request view that can show its buffered body (dechunked
// when the body is chunked).
type BodyReader interface {
	ReqBody() []byte
}

func reqBody(c *Ctx) ([]byte, bool) {
	b, ok := c.Req.(BodyReader)
	if !ok || c.Response {
		return nil, false
	}
	return b.ReqBody(), true
}

func init() {
	RegisterFetch(&Fetch{Name: "req.body", Out: TypeBin, Where: AtRequest,
		Doc: "the request body bytes buffered (dechunked); see http-request wait-for-body",
		Eval: func(c *Ctx, _ *Args, out *Value) bool {
			b, ok := reqBody(c)
			if !ok {
				return false
			}
			*out = Value{Type: TypeBin, Str: b}
			return true
		}})
	RegisterFetch(&Fetch{Name: "req.body_len", Out: TypeInt, Where: AtRequest,
		Doc: "the number of request body bytes buffered",
		Eval: func(c *Ctx, _ *Args, out *Value) bool {
			b, ok := reqBody(c)
			if !ok {
				return false
			}
			out.SetInt(int64(len(b)))
			return true
		}})
	RegisterFetch(&Fetch{Name: "req.body_param", MaxArgs: 1, Out: TypeBin, Where: AtRequest,
		Doc: "the value of the first parameter NAME (the first one without a name) of a buffered url-encoded body, not decoded",
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			b, ok := reqBody(c)
			if !ok {
				return false
			}
			var first []byte
			found := eachBodyParam(b, a.Str[0], func(v []byte) bool { first = v; return true })
			*out = Value{Type: TypeBin, Str: first}
			return found
		}})
}

// eachBodyParam walks NAME=VALUE pairs separated by '&', as HAProxy's
// req.body_param.
func eachBodyParam(body []byte, name string, fn func(v []byte) bool) bool {
	return eachPair(body, name, ampAt, fn)
}

// ampAt is the index of the next '&' in b, or -1.
func ampAt(b []byte) int { return bytes.IndexByte(b, '&') }
