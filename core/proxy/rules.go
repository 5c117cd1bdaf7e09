package proxy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/httpx"
)

// fmtPart is one piece of a compiled header value: literal text or a sample
// fetch HAProxy writes as %[...].
type fmtPart struct {
	lit   string
	fetch fetchKind
	arg   string
}

type fetchKind uint8

const (
	fetchNone fetchKind = iota
	fetchSrc
	fetchSrcPort
	fetchDst
	fetchDstPort
	fetchReqHdr
	fetchMethod
	fetchPath
	fetchSSL
)

// compile turns Value into parts; unknown fetches are an error so a rule
// never silently sends the raw %[...] text.
func (r *HTTPRule) compile() error {
	if r.Action != ActSetHeader && r.Action != ActAddHeader {
		return nil
	}
	v := r.Value
	r.value = r.value[:0]
	for len(v) > 0 {
		i := strings.Index(v, "%[")
		if i < 0 {
			r.value = append(r.value, fmtPart{lit: v})
			break
		}
		if i > 0 {
			r.value = append(r.value, fmtPart{lit: v[:i]})
		}
		j := strings.IndexByte(v[i:], ']')
		if j < 0 {
			return fmt.Errorf("header %s: unterminated %%[ in %q", r.Name, r.Value)
		}
		expr := v[i+2 : i+j]
		p := fmtPart{}
		switch {
		case expr == "src":
			p.fetch = fetchSrc
		case expr == "src_port":
			p.fetch = fetchSrcPort
		case expr == "dst":
			p.fetch = fetchDst
		case expr == "dst_port":
			p.fetch = fetchDstPort
		case expr == "method":
			p.fetch = fetchMethod
		case expr == "path":
			p.fetch = fetchPath
		case expr == "ssl_fc":
			p.fetch = fetchSSL
		case strings.HasPrefix(expr, "req.hdr(") && strings.HasSuffix(expr, ")"),
			strings.HasPrefix(expr, "hdr(") && strings.HasSuffix(expr, ")"):
			p.fetch = fetchReqHdr
			p.arg = strings.ToLower(expr[strings.IndexByte(expr, '(')+1 : len(expr)-1])
		default:
			return fmt.Errorf("header %s: unsupported sample fetch %%[%s]", r.Name, expr)
		}
		r.value = append(r.value, p)
		v = v[i+j+1:]
	}
	return nil
}

// appendValue appends the rule's value for this request.
func (r *HTTPRule) appendValue(dst []byte, s *session) []byte {
	for i := range r.value {
		p := &r.value[i]
		switch p.fetch {
		case fetchNone:
			dst = append(dst, p.lit...)
		case fetchSrc:
			dst = s.src.Addr().AppendTo(dst)
		case fetchSrcPort:
			dst = strconv.AppendUint(dst, uint64(s.src.Port()), 10)
		case fetchDst:
			dst = s.dst.Addr().AppendTo(dst)
		case fetchDstPort:
			dst = strconv.AppendUint(dst, uint64(s.dst.Port()), 10)
		case fetchMethod:
			dst = append(dst, s.view.Method()...)
		case fetchPath:
			dst = append(dst, s.view.Path()...)
		case fetchSSL:
			dst = append(dst, '0')
		case fetchReqHdr:
			if v, ok := s.req.Field(p.arg); ok {
				dst = append(dst, v...)
			}
		}
	}
	return dst
}

// edits is the effective header edit list of one message after the
// matching set/add/del rules ran in order. HAProxy has no limit on header
// rules, so neither has this: del and add start on the inline arrays (no
// allocation for up to editsInline edits per message, the common case) and
// grow past them; the grown slices stay with the pooled session.
type edits struct {
	del  []string // names removed from the original message; del[:nDel] valid
	nDel int
	add  []*HTTPRule // set/add rules whose lines are appended; add[:nAdd] valid
	nAdd int

	delArr [editsInline]string
	addArr [editsInline]*HTTPRule
}

const editsInline = 16

func (e *edits) reset() {
	e.nDel, e.nAdd = 0, 0
	if e.del == nil {
		e.del, e.add = e.delArr[:], e.addArr[:]
	}
}

func (e *edits) apply(r *HTTPRule) {
	switch r.Action {
	case ActDelHeader, ActSetHeader:
		if e.nDel < len(e.del) {
			e.del[e.nDel] = r.Name
		} else {
			e.del = append(e.del, r.Name)
		}
		e.nDel++
		// Earlier additions of the same name go too.
		k := 0
		for i := 0; i < e.nAdd; i++ {
			if !strings.EqualFold(e.add[i].Name, r.Name) {
				e.add[k] = e.add[i]
				k++
			}
		}
		e.nAdd = k
		if r.Action == ActDelHeader {
			return
		}
		fallthrough
	case ActAddHeader:
		if e.nAdd < len(e.add) {
			e.add[e.nAdd] = r
		} else {
			e.add = append(e.add, r)
		}
		e.nAdd++
	}
}

func (e *edits) deleted(name []byte) bool {
	for i := 0; i < e.nDel; i++ {
		if httpx.EqualFold(name, e.del[i]) {
			return true
		}
	}
	return false
}

func (e *edits) appendAdds(dst []byte, s *session) []byte {
	for i := 0; i < e.nAdd; i++ {
		r := e.add[i]
		dst = append(dst, r.Name...)
		dst = append(dst, ':', ' ')
		dst = r.appendValue(dst, s)
		dst = append(dst, '\r', '\n')
	}
	return dst
}
