package sample

import (
	"bytes"
	"strings"

	"github.com/varde-lb/varde/core/httpx"
)

// res.cook and its family read the response's Set-Cookie lines. As in
// HAProxy, each Set-Cookie line carries one cookie: its first NAME=VALUE
// before any ';' attribute (Path=, Expires= with its comma, ...), and the
// line is never split at commas. With a name, res.cook is the last such
// cookie; without one, the first cookie of the response.

func init() {
	compile := func(_ []string, a *Args) error { a.Str[0] = strings.TrimSpace(a.Str[0]); return nil }
	where := AtResponse | AtLog
	cook := &Fetch{Name: "res.cook", MaxArgs: 1, Out: TypeStr, Where: where, Compile: compile,
		Doc: "the value of the last Set-Cookie cookie NAME of the response (the first cookie without a name)",
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			v, ok := lastSetCookie(c.Res, a.Str[0])
			out.SetStr(v)
			return ok
		},
		Each: func(c *Ctx, a *Args, vis Visitor) bool {
			val := &c.each
			return eachSetCookie(c.Res, a.Str[0], func(v []byte) bool { val.SetStr(v); return vis.Visit(val) })
		}}
	RegisterFetch(cook)
	alias := *cook
	alias.Name, alias.Doc = "scook", "same as res.cook"
	RegisterFetch(&alias)
	RegisterFetch(&Fetch{Name: "res.cook_val", MaxArgs: 1, Out: TypeInt, Where: where, Compile: compile,
		Doc: "res.cook read as an integer",
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			v, ok := lastSetCookie(c.Res, a.Str[0])
			if !ok {
				return false
			}
			n, ok := parseInt(v)
			out.SetInt(n)
			return ok
		}})
	RegisterFetch(&Fetch{Name: "res.cook_cnt", MaxArgs: 1, Out: TypeInt, Where: where, Compile: compile,
		Doc: "the number of Set-Cookie cookies NAME (of all without a name)",
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			if c.Res == nil {
				return false
			}
			n := int64(0)
			eachSetCookie(c.Res, a.Str[0], func([]byte) bool { n++; return false })
			out.SetInt(n)
			return true
		}})
}

func lastSetCookie(h Headers, name string) ([]byte, bool) {
	if h == nil {
		return nil, false
	}
	var last []byte
	found := false
	eachSetCookie(h, name, func(v []byte) bool {
		last, found = v, true
		return name == "" // without a name, the first one
	})
	return last, found
}

// eachSetCookie calls fn with the value of each Set-Cookie line's cookie
// called name (every cookie when name is empty) until fn returns true;
// it reports whether any was seen.
func eachSetCookie(h Headers, name string, fn func(v []byte) bool) bool {
	if h == nil {
		return false
	}
	seen := false
	for i, n := 0, h.NumHeaders(); i < n; i++ {
		hn, line := h.HeaderAt(i)
		if !httpx.EqualFold(hn, "set-cookie") {
			continue
		}
		if j := bytes.IndexByte(line, ';'); j >= 0 {
			line = line[:j]
		}
		k, v, ok := bytes.Cut(line, []byte{'='})
		if !ok {
			continue
		}
		if name != "" && string(bytes.TrimSpace(k)) != name {
			continue
		}
		seen = true
		if fn(bytes.TrimSpace(v)) {
			return true
		}
	}
	return seen
}
