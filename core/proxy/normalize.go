package proxy

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/logrec"
)

// http-request normalize-uri NORMALIZER [full|strict] (HAProxy 2.6,
// experimental there and here: the configuration needs
// expose-experimental-directives). Each normalizer rewrites the path, the
// path and query, or the query of the current target, as HAProxy's
// uri_normalizer.c does; docs/rewrite.md lists them.

func init() { registerActor(buildNormalize, "normalize-uri") }

type normActor struct {
	fn  func(dst, in []byte, opt bool) ([]byte, bool) // ok false: invalid input (strict)
	opt bool                                          // full / strict
	// withQuery: the normalizer reads the path and the query; query: the
	// query only; else the path without the query.
	withQuery, query bool
}

func buildNormalize(r *config.HTTPRule) (Actor, error) {
	a := &normActor{opt: r.Value != ""}
	switch r.Name {
	case "path-merge-slashes":
		a.fn = mergeSlashes
	case "path-strip-dot":
		a.fn = stripDot
	case "path-strip-dotdot":
		a.fn = stripDotDot
	case "query-sort-by-name":
		a.fn, a.query = sortQuery, true
	case "percent-to-uppercase":
		a.fn, a.withQuery = percentUpper, true
	case "percent-decode-unreserved":
		a.fn, a.withQuery = percentDecodeUnreserved, true
	case "fragment-strip":
		a.fn, a.withQuery = fragmentStrip, true
	case "fragment-encode":
		a.fn, a.withQuery = fragmentEncode, true
	default:
		return nil, fmt.Errorf("unknown normalizer %q", r.Name)
	}
	return a, nil
}

func (a *normActor) Do(s *session, resp bool) Verdict {
	if resp {
		return Verdict{}
	}
	uri := s.view.URI()
	_, p := splitAuthority(uri)
	if len(p) > 0 && p[0] == '*' {
		return Verdict{} // HAProxy finds no path in "*"
	}
	in, kind := p, linePathQ
	switch {
	case a.query:
		i := bytes.IndexByte(p, '?')
		if i < 0 {
			return Verdict{}
		}
		in, kind = p[i+1:], lineQuery
	case !a.withQuery:
		if i := bytes.IndexByte(p, '?'); i >= 0 {
			in = p[:i]
		}
		kind = linePath
	}
	e := &s.reqE
	var out []byte
	ok := true
	if a.query {
		out = e.qsort.sort(e.tmp[:0], in) // the only query normalizer
	} else {
		out, ok = a.fn(e.tmp[:0], in, a.opt)
	}
	e.tmp = out
	if !ok {
		// HAProxy's ACT_RET_INV: the request is invalid.
		s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		return Verdict{Stop: true, Done: true, Keep: s.answer(400, nil)}
	}
	if bytes.Equal(out, in) {
		return Verdict{}
	}
	return s.lineResult(kind, out)
}

func mergeSlashes(dst, p []byte, _ bool) ([]byte, bool) {
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && len(dst) > 0 && dst[len(dst)-1] == '/' {
			continue
		}
		dst = append(dst, p[i])
	}
	return dst, true
}

// stripDot drops the "." segments (and the slash after each).
func stripDot(dst, p []byte, _ bool) ([]byte, bool) {
	for len(p) > 0 {
		seg, slash := p, false
		if i := bytes.IndexByte(p, '/'); i >= 0 {
			seg, p, slash = p[:i], p[i+1:], true
		} else {
			p = nil
		}
		if len(seg) == 1 && seg[0] == '.' {
			continue
		}
		dst = append(dst, seg...)
		if slash {
			dst = append(dst, '/')
		}
	}
	return dst, true
}

// stripDotDot merges each "/../" with the segment before it, scanning from
// the end as HAProxy does; "/.." segments left over at the start stay
// unless full.
func stripDotDot(dst, p []byte, full bool) ([]byte, bool) {
	start := len(dst)
	off, up := len(p)-1, 0
	if bytes.HasSuffix(p, []byte("/..")) {
		up++
		off -= 2
	}
	for off >= 0 {
		if off >= 3 && string(p[off-3:off+1]) == "/../" {
			up++
			off -= 3
			continue
		}
		if up > 0 {
			off-- // the slash
			if off >= 0 {
				up--
				for off >= 0 && p[off] != '/' {
					off--
				}
			}
			continue
		}
		dst = append(dst, p[off]) // built backwards, reversed below
		off--
		for off >= 0 && p[off] != '/' {
			dst = append(dst, p[off])
			off--
		}
	}
	if up > 0 {
		dst = append(dst, '/')
		for ; !full && up > 0; up-- {
			dst = append(dst, '.', '.', '/')
		}
	}
	r := dst[start:]
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return dst, true
}

// sortQuery orders the &-separated parameters by name, as HAProxy's
// query-sort-by-name; see querySorter. The engine uses the session's
// sorter; this form is for tests and the fuzz target.
func sortQuery(dst, q []byte, _ bool) ([]byte, bool) {
	var qs querySorter
	return qs.sort(dst, q), true
}

// querySorter sorts a query's parameters by name (bytes up to '='),
// stably, through a list of spans kept with the session's edits, so a warm
// sort allocates nothing. Like HAProxy's uri_normalizer_query_sort, it
// splits with istsplit: an empty parameter in the middle is kept and
// sorts first, but a trailing '&' ends the scan without adding one
// ("z=1&=3&" gives "=3&z=1").
type querySorter struct {
	q []byte
	p [][2]int32
}

func (qs *querySorter) sort(dst, q []byte) []byte {
	qs.q, qs.p = q, qs.p[:0]
	for off := 0; off < len(q); {
		end := bytes.IndexByte(q[off:], '&')
		if end < 0 {
			end = len(q) - off
		}
		qs.p = append(qs.p, [2]int32{int32(off), int32(off + end)})
		off += end + 1
	}
	sort.Stable(qs)
	for i, sp := range qs.p {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, q[sp[0]:sp[1]]...)
	}
	qs.q = nil
	return dst
}

func (qs *querySorter) Len() int      { return len(qs.p) }
func (qs *querySorter) Swap(i, j int) { qs.p[i], qs.p[j] = qs.p[j], qs.p[i] }
func (qs *querySorter) Less(i, j int) bool {
	return bytes.Compare(qs.name(i), qs.name(j)) < 0
}

func (qs *querySorter) name(i int) []byte {
	p := qs.q[qs.p[i][0]:qs.p[i][1]]
	if k := bytes.IndexByte(p, '='); k >= 0 {
		return p[:k]
	}
	return p
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// percentUpper upper-cases the hex digits of %XX; a '%' without two hex
// digits is kept, or makes the request invalid when strict.
func percentUpper(dst, p []byte, strict bool) ([]byte, bool) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			dst = append(dst, c)
			continue
		}
		if i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			dst = append(dst, '%', upper(p[i+1]), upper(p[i+2]))
			i += 2
			continue
		}
		if strict {
			return dst, false
		}
		dst = append(dst, c)
	}
	return dst, true
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// percentDecodeUnreserved decodes %XX when XX is an unreserved character.
func percentDecodeUnreserved(dst, p []byte, strict bool) ([]byte, bool) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			dst = append(dst, c)
			continue
		}
		if i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			if d := hexNibble(p[i+1])<<4 | hexNibble(p[i+2]); unreserved(d) {
				dst = append(dst, d)
			} else {
				dst = append(dst, p[i:i+3]...)
			}
			i += 2
			continue
		}
		if strict {
			return dst, false
		}
		dst = append(dst, c)
	}
	return dst, true
}

func fragmentStrip(dst, p []byte, _ bool) ([]byte, bool) {
	if i := bytes.IndexByte(p, '#'); i >= 0 {
		p = p[:i]
	}
	return append(dst, p...), true
}

func fragmentEncode(dst, p []byte, _ bool) ([]byte, bool) {
	for _, c := range p {
		if c == '#' {
			dst = append(dst, "%23"...)
			continue
		}
		dst = append(dst, c)
	}
	return dst, true
}
