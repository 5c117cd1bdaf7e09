package proxy

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/varde-lb/varde/core/httpx"
)

// Vary support, as HAProxy 2.6's cache (process-vary on): a response that
// varies on accept-encoding and/or referer (any other header: not stored)
// is kept under a secondary key of 8 bytes, the request's Accept-Encoding
// as a bitmap of known codings then the CRC32 of its first Referer.

const secKeyLen = 8

// Vary signature bits.
const (
	varyAcceptEncoding uint32 = 1 << 0
	varyReferer        uint32 = 1 << 1
)

// Content-coding bits (HAProxy's enum vary_encoding).
const (
	encGzip uint32 = 1 << iota
	encDeflate
	encBr
	encCompress
	encAES128GCM
	encEXI
	encPack200Gzip
	encZstd
	encIdentity
	encStar
	encOther
)

// acceptEncodingMax is how many Accept-Encoding values HAProxy reads; a
// request with that many gets no secondary key.
const acceptEncodingMax = 16

var encNames = []struct {
	name string
	bit  uint32
}{
	{"aes128gcm", encAES128GCM}, {"br", encBr}, {"compress", encCompress}, {"deflate", encDeflate},
	{"exi", encEXI}, {"gzip", encGzip}, {"identity", encIdentity}, {"pack200-gzip", encPack200Gzip},
	{"x-gzip", encGzip}, {"x-compress", encCompress}, {"zstd", encZstd},
}

// parseEncoding is HAProxy's parse_encoding_value: a known coding (matched
// by prefix, as HAProxy does) with an optional weight. bit is 0 for a
// coding that starts like a known one but is not one; ok is false for an
// unknown first letter or junk after the coding. zeroWeight reports q=0.
func parseEncoding(v []byte) (bit uint32, zeroWeight, ok bool) {
	if len(v) == 0 {
		return 0, false, false
	}
	if v[0] == '*' {
		bit, v = encStar, v[1:]
	} else {
		known := false
		for _, e := range encNames {
			if e.name[0] != v[0] {
				continue
			}
			known = true
			if len(v) >= len(e.name) && string(v[:len(e.name)]) == e.name {
				bit, v = e.bit, v[len(e.name):]
				break
			}
		}
		if !known {
			return 0, false, false
		}
	}
	if bit == 0 {
		return 0, false, true
	}
	v = httpx.TrimOWS(v)
	if len(v) == 0 {
		return bit, false, true
	}
	if v[0] != ';' {
		return bit, false, false
	}
	return bit, string(httpx.TrimOWS(v[1:])) == "q=0", true
}

// acceptEncodingBitmap is HAProxy's accept_encoding_normalizer: the codings
// the request accepts (identity unless refused; every one with no header
// or with *); ok is false when the request lists 16 values or more.
func acceptEncodingBitmap(h headerSource) (uint32, bool) {
	bitmap, reject := encIdentity, ^uint32(0)
	count := 0
	var lower [64]byte
	for i, n := 0, h.NumHeaders(); i < n && count < acceptEncodingMax; i++ {
		name, val := h.HeaderAt(i)
		if !httpx.EqualFold(name, "accept-encoding") {
			continue
		}
		for rest := val; rest != nil && count < acceptEncodingMax; {
			var e []byte
			e, rest = httpx.NextElement(rest)
			count++
			if len(e) == 0 {
				continue
			}
			l := lowerInto(lower[:0], e)
			bit, zero, ok := parseEncoding(l)
			switch {
			case !ok:
				bitmap |= encOther
			case zero:
				reject &^= bit
			default:
				bitmap |= bit
			}
		}
	}
	if bitmap&encStar != 0 {
		bitmap = ^uint32(0)
	}
	bitmap &= reject
	if count == 0 {
		bitmap = ^uint32(0)
	}
	return bitmap, count < acceptEncodingMax
}

// lowerInto lower-cases e into dst (a value longer than dst's capacity is
// cut: no known coding is that long).
func lowerInto(dst, e []byte) []byte {
	for _, c := range e {
		if len(dst) == cap(dst) {
			break
		}
		dst = append(dst, httpx.ToLower(c))
	}
	return dst
}

// headerSource is a head's fields in order (the request view, the response).
type headerSource interface {
	NumHeaders() int
	HeaderAt(i int) ([]byte, []byte)
}

// buildSecKey is HAProxy's http_request_build_secondary_key for the
// signature sig (all ones: every part, before the response is known).
func buildSecKey(h headerSource, sig uint32) (key [secKeyLen]byte, ok bool) {
	if sig&varyAcceptEncoding != 0 {
		bm, good := acceptEncodingBitmap(h)
		if !good {
			return key, false
		}
		binary.LittleEndian.PutUint32(key[0:4], bm)
	}
	if sig&varyReferer != 0 {
		for i, n := 0, h.NumHeaders(); i < n; i++ {
			name, val := h.HeaderAt(i)
			if httpx.EqualFold(name, "referer") {
				binary.LittleEndian.PutUint32(key[4:8], crc32.ChecksumIEEE(val))
				break
			}
		}
	}
	return key, true
}

// reduceSecKey keeps only the parts of a prebuilt key the signature names.
func reduceSecKey(key *[secKeyLen]byte, sig uint32) {
	if sig&varyAcceptEncoding == 0 {
		clear(key[0:4])
	}
	if sig&varyReferer == 0 {
		clear(key[4:8])
	}
}

// secMatch is HAProxy's secondary_key_cmp: the stored response's codings
// must all be accepted by the request; the Referer parts must be equal.
func secMatch(ref, req *[secKeyLen]byte) bool {
	rb := binary.LittleEndian.Uint32(ref[0:4])
	nb := binary.LittleEndian.Uint32(req[0:4])
	if rb&encOther != 0 || rb&nb != rb {
		return false
	}
	return string(ref[4:8]) == string(req[4:8])
}

// varySignature reads the response's Vary values: ok is false when one
// names a header other than accept-encoding and referer.
func varySignature(h headerSource) (sig uint32, ok bool) {
	for i, n := 0, h.NumHeaders(); i < n; i++ {
		name, val := h.HeaderAt(i)
		if !httpx.EqualFold(name, "vary") {
			continue
		}
		for rest := val; rest != nil; {
			var e []byte
			e, rest = httpx.NextElement(rest)
			switch {
			case httpx.EqualFold(e, "accept-encoding"):
				sig |= varyAcceptEncoding
			case httpx.EqualFold(e, "referer"):
				sig |= varyReferer
			default:
				return sig, false
			}
		}
	}
	return sig, true
}

// responseEncoding is HAProxy's set_secondary_key_encoding: the bitmap of
// the response's Content-Encoding (identity when none); ok is false for
// a coding HAProxy does not know (the response is then not stored).
func responseEncoding(h headerSource) (uint32, bool) {
	var bm uint32
	for i, n := 0, h.NumHeaders(); i < n; i++ {
		name, val := h.HeaderAt(i)
		if !httpx.EqualFold(name, "content-encoding") {
			continue
		}
		for rest := val; rest != nil; {
			var e []byte
			e, rest = httpx.NextElement(rest)
			bit, _, ok := parseEncoding(e)
			if !ok {
				return 0, false
			}
			bm |= bit
		}
	}
	if bm == 0 {
		bm = encIdentity
	}
	return bm, true
}
