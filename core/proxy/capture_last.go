package proxy

import "github.com/varde-lb/varde/core/httpx"

// lastField is the value a `capture request|response header` keeps when
// the header is repeated: the last line's, as HAProxy's
// http_capture_headers overwrites the slot at each line it matches. No
// allocation; an absent header is nil.
func lastField(h *httpx.Head, name string) []byte {
	var v []byte
	for i := range h.Fields {
		if httpx.EqualFold(h.Name(i), name) {
			v = h.Value(i)
		}
	}
	return v
}
