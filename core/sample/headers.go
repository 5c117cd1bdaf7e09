package sample

import (
	"github.com/varde-lb/varde/core/httpx"
)

// Header walking shared by req.hdr, req.fhdr, res.hdr and friends. name is
// already lower case; "" means every header. With full, a line is one value;
// otherwise each comma-separated part is a value (HAProxy's hdr vs fhdr).
// HAProxy splits hdr, hdr_cnt, hdr_val and hdr_ip values with
// http_find_hdr_value_end, which skips commas inside quoted strings:
// `a1, "a,2" ,c` is three values; httpx.NextElement splits the same way.

// nextValue splits the first value off v: the whole line when full, else up
// to the next comma outside quotes. rest is nil when v is used up.
func nextValue(v []byte, full bool) (val, rest []byte) {
	if full {
		return httpx.TrimOWS(v), nil
	}
	return httpx.NextElement(v)
}

// eachHeader calls fn with every value of the named header, in order, until
// fn returns true; it reports whether fn stopped the walk.
func eachHeader(h Headers, name string, full bool, fn func(val []byte) bool) bool {
	for i, n := 0, h.NumHeaders(); i < n; i++ {
		hn, v := h.HeaderAt(i)
		if name != "" && !httpx.EqualFold(hn, name) {
			continue
		}
		for {
			var val []byte
			val, v = nextValue(v, full)
			if fn(val) {
				return true
			}
			if v == nil {
				break
			}
		}
	}
	return false
}

// countHeader counts the values of the named header.
func countHeader(h Headers, name string, full bool) int {
	n := 0
	for i, nh := 0, h.NumHeaders(); i < nh; i++ {
		hn, v := h.HeaderAt(i)
		if name != "" && !httpx.EqualFold(hn, name) {
			continue
		}
		if full {
			n++
			continue
		}
		for rest := v; rest != nil; n++ {
			_, rest = httpx.NextElement(rest)
		}
	}
	return n
}

// headerOcc returns the occ-th value (1 = first, -1 = last).
func headerOcc(h Headers, name string, full bool, occ int) ([]byte, bool) {
	if occ < 0 {
		occ = countHeader(h, name, full) + 1 + occ
	}
	if occ <= 0 {
		return nil, false
	}
	i := 0
	for hi, nh := 0, h.NumHeaders(); hi < nh; hi++ {
		hn, v := h.HeaderAt(hi)
		if name != "" && !httpx.EqualFold(hn, name) {
			continue
		}
		for {
			var val []byte
			val, v = nextValue(v, full)
			if i++; i == occ {
				return val, true
			}
			if v == nil {
				break
			}
		}
	}
	return nil, false
}
