package sample

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// HTTP request and response fetches (configuration.txt §7.3.6).

const atReq = AtRequest | AtResponse | AtLog // the request stays readable

func init() {
	reqStr := func(name, doc string, get func(c *Ctx) ([]byte, bool)) {
		RegisterFetch(&Fetch{Name: name, Out: TypeStr, Where: atReq, Doc: doc,
			Eval: func(c *Ctx, _ *Args, out *Value) bool {
				if c.Req == nil {
					return false
				}
				b, ok := get(c)
				if ok {
					out.SetStr(b)
				}
				return ok
			}})
	}
	reqStr("method", "the request method", func(c *Ctx) ([]byte, bool) { return c.Req.Method(), true })
	reqStr("path", "the path: from the first slash to before the question mark", func(c *Ctx) ([]byte, bool) { return c.Req.Path(), true })
	reqStr("url", "the request target as received", func(c *Ctx) ([]byte, bool) { return c.Req.URI(), true })
	reqStr("pathq", "the path with the query string", func(c *Ctx) ([]byte, bool) { return originForm(c.Req.URI()), true })
	reqStr("query", "the query string without '?'; no sample without '?'", func(c *Ctx) ([]byte, bool) {
		return c.Req.Query(), bytes.IndexByte(c.Req.URI(), '?') >= 0
	})
	RegisterFetch(&Fetch{Name: "base", Out: TypeStr, Where: atReq, EvalBuf: fetchBase, ReqHeader: header("host"),
		Doc: "the first Host header's value followed by the path"})
	RegisterFetch(&Fetch{Name: "req.proto_http", Out: TypeBool, Where: atReq,
		Doc: "true when the request is HTTP",
		Eval: func(c *Ctx, _ *Args, out *Value) bool {
			out.SetBool(c.Req != nil && len(c.Req.Method()) > 0)
			return true
		}})
	registerHeaderFetches()
	registerCookieFetches()
	registerParamFetches()
}

// compileHdr reads ([name[,occ]]): the name is lowered, an occurrence
// selects one value.
func compileHdr(args []string, a *Args) error {
	a.Str[0] = strings.ToLower(strings.TrimSpace(a.Str[0]))
	a.Int[1] = -1
	if len(args) > 1 {
		n, err := strconv.Atoi(strings.TrimSpace(args[1]))
		if err != nil || n == 0 {
			return fmt.Errorf("occurrence %q: want a non-zero integer (1 = first, -1 = last)", args[1])
		}
		a.Int[1], a.Single = int64(n), true
	}
	return nil
}

// header is the ReqHeader of a fetch that reads one fixed header.
func header(name string) func(*Args) (string, bool) {
	return func(*Args) (string, bool) { return name, false }
}

// namedHeader is the ReqHeader of the header fetches: their first
// argument, every header without one.
func namedHeader(a *Args) (string, bool) { return a.Str[0], a.Str[0] == "" }

func reqHeaders(c *Ctx) Headers {
	if c.Req == nil {
		return nil
	}
	return c.Req
}

func resHeaders(c *Ctx) Headers { return c.Res }

func registerHeaderFetches() {
	for _, d := range []struct {
		prefix string
		where  Stage
		hdrs   func(*Ctx) Headers
	}{{"req.", atReq, reqHeaders}, {"res.", AtResponse | AtLog, resHeaders}} {
		registerHdr(d.prefix+"hdr", d.prefix+"hdr_cnt", false, d.where, d.hdrs)
		registerHdr(d.prefix+"fhdr", d.prefix+"fhdr_cnt", true, d.where, d.hdrs)
		registerHdrParsed(d.prefix+"hdr_val", TypeInt, "the header's value (as req.hdr) read as an integer", d.where, d.hdrs, parseHdrInt)
		registerHdrParsed(d.prefix+"hdr_ip", TypeAddr, "the header's value (as req.hdr) read as an IP address; an IPv4 address may carry a :port", d.where, d.hdrs, parseHdrIP)
	}
	for _, name := range []string{"req.hdr", "req.hdr_cnt", "req.fhdr", "req.fhdr_cnt", "req.hdr_val", "req.hdr_ip"} {
		fetches[name].ReqHeader = namedHeader // before the copies below
	}
	for _, name := range []string{"hdr", "hdr_cnt", "hdr_val", "hdr_ip"} {
		registerEitherDirection(name)
	}
	f := *fetches["res.hdr"]
	f.Name, f.Doc = "shdr", "same as res.hdr"
	RegisterFetch(&f)
}

// registerHdr registers a value fetch and its count: hdr/hdr_cnt split
// values at commas, fhdr/fhdr_cnt take whole lines (full).
func registerHdr(name, cnt string, full bool, where Stage, hdrs func(*Ctx) Headers) {
	RegisterFetch(&Fetch{Name: name, MaxArgs: 2, Out: TypeStr, Where: where, Compile: compileHdr,
		Doc: "the last value (or occurrence N) of the header; hdr splits at commas, fhdr does not",
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			h := hdrs(c)
			if h == nil {
				return false
			}
			v, ok := headerOcc(h, a.Str[0], full, int(a.Int[1]))
			out.SetStr(v)
			return ok
		},
		Each: func(c *Ctx, a *Args, vis Visitor) bool {
			h := hdrs(c)
			if h == nil {
				return false
			}
			val := &c.each
			return eachHeader(h, a.Str[0], full, func(b []byte) bool { val.SetStr(b); return vis.Visit(val) })
		}})
	RegisterFetch(&Fetch{Name: cnt, MaxArgs: 1, Out: TypeInt, Where: where, Compile: compileHdr,
		Doc: "the number of values of the header (of every header without a name)",
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			h := hdrs(c)
			if h == nil {
				return false
			}
			out.SetInt(int64(countHeader(h, a.Str[0], full)))
			return true
		}})
}

// registerHdrParsed registers a fetch of a header's value (as req.hdr)
// read by parse: hdr_val as an integer, hdr_ip as an address.
func registerHdrParsed(name string, out Type, doc string, where Stage, hdrs func(*Ctx) Headers, parse func([]byte, *Value) bool) {
	RegisterFetch(&Fetch{Name: name, MaxArgs: 2, Out: out, Where: where, Compile: compileHdr, Doc: doc,
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			h := hdrs(c)
			if h == nil {
				return false
			}
			v, ok := headerOcc(h, a.Str[0], false, int(a.Int[1]))
			return parse(v, out) && ok
		},
		Each: func(c *Ctx, a *Args, vis Visitor) bool {
			h := hdrs(c)
			if h == nil {
				return false
			}
			val := &c.each
			return eachHeader(h, a.Str[0], false, func(b []byte) bool { return parse(b, val) && vis.Visit(val) })
		}})
}

// parseHdrInt reads a header value as an integer; the sample is set even
// when the value is not one (as before: Eval reports false then).
func parseHdrInt(b []byte, out *Value) bool {
	n, ok := parseInt(b)
	out.SetInt(n)
	return ok
}

// registerEitherDirection registers hdr(), hdr_cnt()...: req.* on the
// request, res.* while http-response rules run (Ctx.Response), as HAProxy.
// The ACL keywords hdr, hdr_beg... always read the request.
func registerEitherDirection(name string) {
	req, res := fetches["req."+name], fetches["res."+name]
	f := *req
	f.Name, f.Doc = name, "req."+name+" on requests, res."+name+" in http-response rules"
	f.Eval = func(c *Ctx, a *Args, out *Value) bool {
		if c.Response {
			return res.Eval(c, a, out)
		}
		return req.Eval(c, a, out)
	}
	if req.Each != nil {
		f.Each = func(c *Ctx, a *Args, v Visitor) bool {
			if c.Response && res.Each != nil {
				return res.Each(c, a, v)
			}
			return req.Each(c, a, v)
		}
	}
	RegisterFetch(&f)
}

// parseHdrIP reads an address, dropping the :port HAProxy tolerates after
// an IPv4 address.
func parseHdrIP(b []byte, out *Value) bool {
	out.Type, out.Str = TypeStr, b
	if castAddr(out) {
		return true
	}
	if i := bytes.LastIndexByte(b, ':'); i > 0 && bytes.IndexByte(b[:i], ':') < 0 {
		if _, ok := parseInt(b[i+1:]); ok {
			*out = Value{Type: TypeStr, Str: b[:i]}
			return castAddr(out)
		}
	}
	return false
}

func fetchBase(c *Ctx, _ *Args, out *Value, scratch []byte) ([]byte, bool) {
	if c.Req == nil {
		return scratch, false
	}
	host, ok := headerOcc(c.Req, "host", true, 1)
	if !ok {
		return scratch, false
	}
	start := len(scratch)
	scratch = append(append(scratch, host...), c.Req.Path()...)
	out.SetStr(scratch[start:])
	return scratch, true
}

// originForm skips the scheme and authority of an absolute-form target
// (http://host/p?q gives /p?q), as HAProxy's pathq.
func originForm(u []byte) []byte {
	if len(u) == 0 || u[0] == '/' {
		return u
	}
	i := bytes.Index(u, []byte("://"))
	if i < 0 {
		return u
	}
	rest := u[i+3:]
	if j := bytes.IndexAny(rest, "/?"); j >= 0 {
		return rest[j:]
	}
	return rest[len(rest):]
}
