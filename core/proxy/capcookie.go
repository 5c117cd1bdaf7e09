package proxy

import (
	"bytes"

	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
)

// captureCookie fills dst (%CC or %CS) as HAProxy's `capture cookie NAME
// len N` does: the first cookie whose name starts with NAME, logged as
// "name=value" and truncated to N bytes. header is "cookie" (every
// name=value pair of every Cookie field is a candidate) or "set-cookie"
// (only the leading pair of each field; what follows are attributes).
// It allocates nothing.
func captureCookie(dst *logrec.Cookie, h *httpx.Head, header string, cc *Capture) {
	set := header == "set-cookie"
	for i := range h.Fields {
		if !httpx.EqualFold(h.Name(i), header) {
			continue
		}
		v := h.Value(i)
		for len(v) > 0 {
			pair := v
			if j := bytes.IndexByte(v, ';'); j >= 0 {
				pair, v = v[:j], v[j+1:]
			} else {
				v = nil
			}
			pair = bytes.TrimSpace(pair)
			eq := bytes.IndexByte(pair, '=')
			if eq >= len(cc.Name) && string(pair[:len(cc.Name)]) == cc.Name {
				n := min(len(pair), cc.Len)
				dst.Set(pair[:n])
				return
			}
			if set {
				break
			}
		}
	}
}
