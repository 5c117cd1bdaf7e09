package logpipe

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

// The rest of HAProxy 2.6's log-format variables (configuration.txt
// §8.2.6) and the +X / +E flags.

// appendMoreVar renders the variables appendVar leaves to it.
func appendMoreVar(dst []byte, it *item, r *logrec.Record, c *encodeCtx) []byte {
	switch it.id {
	case vHPO:
		if r.RequestLine.Len() == 0 {
			return append(dst, "<BADREQ>"...)
		}
		_, uri, _ := requestParts(r.RequestLine.Bytes())
		return appendRequest(dst, pathOnly(uri), c)
	case vHQ:
		if r.RequestLine.Len() == 0 {
			return append(dst, "<BADREQ>"...)
		}
		_, uri, _ := requestParts(r.RequestLine.Bytes())
		if q := indexByte(uri, '?'); q >= 0 {
			return appendRequest(dst, uri[q:], c)
		}
		return dst // no query: nothing, as HAProxy
	case vID:
		// Without unique-id-format, or for a request never read, HAProxy
		// writes "-" (nothing between quotes).
		if id := r.UniqueIDOf(); len(id) > 0 {
			return append(dst, id...)
		}
		if it.quote {
			return dst
		}
		return append(dst, '-')
	case vTd:
		return appendTimer(dst, tdOf(r))
	case vTu:
		tt := ttOf(r)
		if tt < 0 {
			return appendTimer(dst, -1)
		}
		return appendTimer(dst, tt-max(r.Ti, 0))
	case vTl:
		return appendLocalDate(dst, r.Accept, c.loc)
	case vTRL:
		return appendLocalDate(dst, requestNS(r), c.loc)
	case vLC, vRT:
		n := uint64(r.LogCount)
		if it.id == vRT {
			n = uint64(r.ReqCount)
		}
		if it.hex {
			return appendHex(dst, n, 4)
		}
		return strconv.AppendUint(dst, n, 10)
	}
	return dst
}

// pathOnly is HAProxy's %HPO: the path of an origin-form URI, or of an
// absolute one after its authority, without the query.
func pathOnly(uri []byte) []byte {
	if len(uri) > 0 && uri[0] != '/' {
		if i := indexString(uri, "://"); i >= 0 {
			rest := uri[i+3:]
			if j := indexByte(rest, '/'); j >= 0 {
				uri = rest[j:]
			} else {
				uri = nil
			}
		}
	}
	if q := indexByte(uri, '?'); q >= 0 {
		uri = uri[:q]
	}
	return uri
}

func indexString(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}

// ttOf is %Tt: the engine measures it for TCP; for HTTP it is the active
// time plus the handshake and idle times before the request (HAProxy:
// Ta = Tt - Th - Ti).
func ttOf(r *logrec.Record) int32 {
	if r.Mode == logrec.ModeTCP || r.Tt >= 0 {
		return r.Tt
	}
	if r.Ta < 0 {
		return -1
	}
	return r.Ta + max(r.Th, 0) + max(r.Ti, 0)
}

// tdOf is %Td, the data transfer time: after the response headers (HTTP)
// or after the connection to the server (TCP), -1 when not reached.
func tdOf(r *logrec.Record) int32 {
	tt := ttOf(r)
	if r.Mode == logrec.ModeTCP {
		if r.Tc < 0 || tt < 0 {
			return -1
		}
		return tt - max(r.Th, 0) - max(r.Tw, 0) - r.Tc
	}
	if r.Tr < 0 || r.Ta < 0 {
		return -1
	}
	return r.Ta - max(r.TR, 0) - max(r.Tw, 0) - max(r.Tc, 0) - r.Tr
}

// appendLocalDate is HAProxy's localdate2str_log: "07/Dec/2026:20:05:00
// +0100", local time with its UTC offset, no milliseconds.
func appendLocalDate(dst []byte, ns int64, loc *time.Location) []byte {
	t := time.Unix(0, ns).In(loc)
	dst = appendClock(dst, t)
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, ' ', sign)
	dst = append2(dst, off/3600)
	return append2(dst, off/60%60)
}

// appendHex writes v in upper-case hexadecimal, at least width digits
// (HAProxy's "%04X", "%08X").
func appendHex(dst []byte, v uint64, width int) []byte {
	var b [16]byte
	i := len(b)
	for v > 0 || len(b)-i < width {
		i--
		b[i] = hexDigits[v&15]
		v >>= 4
	}
	return append(dst, b[i:]...)
}

// appendHexAddr is lf_ip with +X: the address's bytes in hexadecimal,
// most significant first.
func appendHexAddr(dst []byte, ip netip.Addr) []byte {
	if ip.Is4() {
		a := ip.As4()
		for _, x := range a {
			dst = append(dst, hexDigits[x>>4], hexDigits[x&15])
		}
		return dst
	}
	a := ip.As16()
	for _, x := range a {
		dst = append(dst, hexDigits[x>>4], hexDigits[x&15])
	}
	return dst
}

// appendHexVar renders the variables +X changes; ok false for the others.
func appendHexVar(dst []byte, it *item, r *logrec.Record, c *encodeCtx) ([]byte, bool) {
	var ap netip.AddrPort
	switch it.id {
	case vCI, vCP:
		ap = r.Client
	case vFI, vFP:
		ap = r.FrontendAddr
	case vSI, vSP:
		ap = r.ServerAddr
	case vBI, vBP:
		ap = r.BackendSrc
	case vTS:
		return appendHex(dst, uint64(floorDiv(r.Accept, 1e9)), 8), true
	case vPID:
		return appendHex(dst, uint64(c.pid), 4), true
	default:
		return dst, false
	}
	if !ap.IsValid() {
		return append(dst, '-'), true
	}
	switch it.id {
	case vCP, vFP, vSP, vBP:
		return appendHex(dst, uint64(ap.Port()), 4), true
	case vCI:
		if c.anon.on() {
			if c.anon.spec.Mode != AnonIP {
				return c.anon.appendAddr(dst, ap.Addr(), c.now), true // a pseudonym has no hex form
			}
			return appendHexAddr(dst, maskAddr(ap.Addr().Unmap(), c.anon.spec.V4Bits, c.anon.spec.V6Bits)), true
		}
	}
	return appendHexAddr(dst, ap.Addr().Unmap()), true
}

// escapeFrom is +E: '"', '\' and ']' written from offset from on are
// escaped with a backslash (RFC 5424 structured data), in place.
func escapeFrom(dst []byte, from int) []byte {
	n := 0
	for _, c := range dst[from:] {
		if c == '"' || c == '\\' || c == ']' {
			n++
		}
	}
	if n == 0 {
		return dst
	}
	old := len(dst)
	for k := 0; k < n; k++ {
		dst = append(dst, 0)
	}
	w := len(dst)
	for i := old - 1; i >= from; i-- {
		c := dst[i]
		w--
		dst[w] = c
		if c == '"' || c == '\\' || c == ']' {
			w--
			dst[w] = '\\'
		}
	}
	return dst
}
