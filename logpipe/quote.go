package logpipe

import "github.com/varde-lb/varde/core/logrec"

// HAProxy 2.6 (log.c sess_build_logline) honours the +Q flag only for the
// variables it writes as text: addresses, names, cookies, captures, the
// request line and its parts, samples. Numbers (ports, timers, counters,
// sizes, status), dates and the termination state stay bare, so
// `option httplog clf`, which sets +Q for the whole line, quotes only
// those. quotable lists the text variables.
var quotable = map[varID]bool{
	vCI: true, vFI: true, vSI: true, vFT: true, vF: true, vB: true, vS: true,
	vSSLV: true, vSSLC: true, vCC: true, vCS: true, vHR: true, vHS: true,
	vR: true, vHM: true, vHU: true, vHP: true, vHV: true, vHPO: true, vHQ: true,
	vH: true, vID: true, vSample: true,
}

// quotedItem sets it's quoting as HAProxy applies quote to it: %hrl and
// %hsl quote every value on its own, other text variables are quoted as
// a whole, numbers never.
func quotedItem(it item, quote bool) item {
	switch {
	case it.id == vHRL || it.id == vHSL:
		it.qlist = quote
	default:
		it.quote = quote && quotable[it.id]
	}
	return it
}

// emptyText reports whether a text variable has no value, which HAProxy
// writes "-" bare but "" when quoted (lf_text with no source).
func emptyText(id varID, r *logrec.Record) bool {
	switch id {
	case vCC:
		return len(r.ReqCookie.Bytes()) == 0
	case vCS:
		return len(r.ResCookie.Bytes()) == 0
	case vSSLV:
		return r.TLSVersion == 0
	case vSSLC:
		return r.TLSCipher == 0
	}
	return false
}

// appendCaptureList writes %hrl or %hsl: the captured values separated by
// spaces, an empty one "-"; quoted, every value is quoted on its own and
// an empty one is "". Nothing when no capture is configured.
func appendCaptureList(dst []byte, cp *logrec.Captures, kinds []headerKind, c *encodeCtx, quote bool) []byte {
	for i := 0; i < cp.Len(); i++ {
		if i > 0 {
			dst = append(dst, ' ')
		}
		v := cp.At(i)
		switch {
		case quote:
			dst = append(dst, '"')
			dst = appendCaptureValue(dst, v, i, kinds, c)
			dst = append(dst, '"')
		case len(v) == 0:
			dst = append(dst, '-')
		default:
			dst = appendCaptureValue(dst, v, i, kinds, c)
		}
	}
	return dst
}
