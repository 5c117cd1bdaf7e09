package sample

import (
	"bytes"
	"github.com/varde-lb/varde/core/httpx"
	"strings"
)

// Cookie and query-string fetches.

func registerCookieFetches() {
	compile := func(_ []string, a *Args) error { a.Str[0] = strings.TrimSpace(a.Str[0]); return nil }
	cook := &Fetch{Name: "req.cook", MaxArgs: 1, Out: TypeStr, Where: atReq, Compile: compile, ReqHeader: header("cookie"),
		Doc: "the value of the last cookie NAME in Cookie headers (the first cookie without a name)",
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			if c.Req == nil {
				return false
			}
			var last []byte
			found := eachCookie(c.Req, a.Str[0], func(v []byte) bool {
				last = v
				return a.Str[0] == "" // without a name, the first one
			})
			if a.Str[0] != "" {
				found = last != nil
			}
			out.SetStr(last)
			return found
		},
		Each: func(c *Ctx, a *Args, vis Visitor) bool {
			if c.Req == nil {
				return false
			}
			val := &c.each
			return eachCookie(c.Req, a.Str[0], func(v []byte) bool { val.SetStr(v); return vis.Visit(val) })
		}}
	RegisterFetch(cook)
	alias := *cook
	alias.Name, alias.Doc = "cook", "same as req.cook"
	RegisterFetch(&alias)
	for _, n := range []string{"req.cook_val", "cook_val"} {
		RegisterFetch(&Fetch{Name: n, MaxArgs: 1, Out: TypeInt, Where: atReq, Compile: compile, ReqHeader: header("cookie"),
			Doc: "req.cook read as an integer",
			Eval: func(c *Ctx, a *Args, out *Value) bool {
				if !cook.Eval(c, a, out) {
					return false
				}
				n, ok := parseInt(out.Str)
				out.SetInt(n)
				return ok
			},
			Each: func(c *Ctx, a *Args, vis Visitor) bool {
				if c.Req == nil {
					return false
				}
				val := &c.each
				return eachCookie(c.Req, a.Str[0], func(v []byte) bool {
					n, ok := parseInt(v)
					val.SetInt(n)
					return ok && vis.Visit(val)
				})
			}})
	}
	for _, n := range []string{"req.cook_cnt", "cook_cnt"} {
		RegisterFetch(&Fetch{Name: n, MaxArgs: 1, Out: TypeInt, Where: atReq, Compile: compile, ReqHeader: header("cookie"),
			Doc: "the number of cookies NAME (of all cookies without a name)",
			Eval: func(c *Ctx, a *Args, out *Value) bool {
				if c.Req == nil {
					return false
				}
				n := int64(0)
				eachCookie(c.Req, a.Str[0], func([]byte) bool { n++; return false })
				out.SetInt(n)
				return true
			}})
	}
}

// Cookie returns the value of the first cookie called name in req's Cookie
// headers (what req.cook(name) fetches); an empty name finds nothing. The
// policy engines' req:cookie and cookie host function use it.
func Cookie(req Headers, name string) (v []byte, ok bool) {
	if name == "" {
		return nil, false
	}
	ok = eachCookie(req, name, func(b []byte) bool { v = b; return true })
	return v, ok
}

// eachCookie calls fn with the value of every cookie called name ("" = all)
// in every Cookie header until fn returns true. Cookie names are
// case-sensitive; spaces around names and values are ignored (RFC 6265).
func eachCookie(req Headers, name string, fn func(v []byte) bool) bool {
	for i, n := 0, req.NumHeaders(); i < n; i++ {
		hn, line := req.HeaderAt(i)
		if !httpx.EqualFold(hn, "cookie") {
			continue
		}
		for len(line) > 0 {
			var kv []byte
			if j := bytes.IndexByte(line, ';'); j >= 0 {
				kv, line = line[:j], line[j+1:]
			} else {
				kv, line = line, nil
			}
			k, v, ok := bytes.Cut(kv, []byte{'='})
			if !ok {
				continue
			}
			if (name == "" || string(httpx.TrimOWS(k)) == name) && fn(httpx.TrimOWS(v)) {
				return true
			}
		}
	}
	return false
}

func registerParamFetches() {
	compile := func(_ []string, a *Args) error {
		if len(a.Str[1]) > 1 {
			a.Str[1] = a.Str[1][:1] // HAProxy uses the delimiter's first character
		}
		return nil
	}
	param := &Fetch{Name: "url_param", MaxArgs: 2, Out: TypeStr, Where: atReq, Compile: compile,
		Doc: "the value of the first query parameter NAME (of the first parameter without a name), not decoded",
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			if c.Req == nil {
				return false
			}
			var first []byte
			found := eachParam(c.Req.URI(), a.Str[0], a.Str[1], func(v []byte) bool { first = v; return true })
			out.SetStr(first)
			return found
		},
		Each: func(c *Ctx, a *Args, vis Visitor) bool {
			if c.Req == nil {
				return false
			}
			val := &c.each
			return eachParam(c.Req.URI(), a.Str[0], a.Str[1], func(v []byte) bool { val.SetStr(v); return vis.Visit(val) })
		}}
	RegisterFetch(param)
	alias := *param
	alias.Name, alias.Doc = "urlp", "same as url_param"
	RegisterFetch(&alias)
	RegisterFetch(&Fetch{Name: "urlp_val", MaxArgs: 2, Out: TypeInt, Where: atReq, Compile: compile,
		Doc: "url_param read as an integer",
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			if !param.Eval(c, a, out) {
				return false
			}
			n, ok := parseInt(out.Str)
			out.SetInt(n)
			return ok
		}})
}

// eachParam walks the parameters of uri's query string: it starts after
// the first '?' (or delim) and parameters end at '&', ';' or delim.
func eachParam(uri []byte, name, delim string, fn func(v []byte) bool) bool {
	start := bytes.IndexByte(uri, '?')
	if delim != "" {
		if j := bytes.IndexByte(uri, delim[0]); j >= 0 && (start < 0 || j < start) {
			start = j
		}
	}
	if start < 0 {
		return false
	}
	return eachPair(uri[start+1:], name, func(q []byte) int {
		for end := range q {
			if q[end] == '&' || q[end] == ';' || (delim != "" && q[end] == delim[0]) {
				return end
			}
		}
		return -1
	}, fn)
}

// eachPair calls fn with the value of each NAME=VALUE pair of q whose
// name is name (any name when name is ""), until fn returns true; pairs
// without '=' are skipped. sepAt is the index of the next separator in
// its argument, or -1: query strings (eachParam) and request bodies
// (eachBodyParam) split pairs on different bytes.
func eachPair(q []byte, name string, sepAt func([]byte) int, fn func(v []byte) bool) bool {
	for len(q) > 0 {
		kv := q
		if j := sepAt(q); j >= 0 {
			kv, q = q[:j], q[j+1:]
		} else {
			q = nil
		}
		k, v, ok := bytes.Cut(kv, []byte{'='})
		if !ok || (name != "" && string(k) != name) {
			continue
		}
		if fn(v) {
			return true
		}
	}
	return false
}
