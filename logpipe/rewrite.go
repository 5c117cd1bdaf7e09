package logpipe

import (
	"fmt"
	"time"
)

// Rewriter anonymises existing log lines (`varde logs anonymize`), e.g.
// years of HAProxy httplog files, keeping every other byte as it was.
type Rewriter struct {
	a   *anonymizer
	loc *time.Location
}

// NewRewriter builds a rewriter for spec (ip or hmac; hmac uses one key,
// created in spec.KeyFile when missing, since old lines have no period).
func NewRewriter(spec AnonSpec) (*Rewriter, error) {
	if spec.Mode == AnonNone {
		return nil, fmt.Errorf("anonymize: mode none rewrites nothing")
	}
	if spec.PII.usesHash() && spec.Mode != AnonHMAC {
		return nil, fmt.Errorf("anonymize: the hash mask needs an hmac key file")
	}
	var ring *keyRing
	if spec.Mode == AnonHMAC {
		var err error
		if ring, err = openKeyRing(spec.KeyFile, 0, 0, time.Now()); err != nil {
			return nil, err
		}
	}
	return &Rewriter{a: newAnonymizer(spec, ring), loc: time.Local}, nil
}

// Line appends the anonymised form of one line (without its newline) to
// dst. httplog/tcplog lines get their client address, captured headers,
// request line and syslog header rewritten; any other line has every
// address-looking token rewritten.
func (w *Rewriter) Line(dst, b []byte) []byte {
	now := time.Now()
	l, ok := ParseLine(b, w.loc)
	if !ok {
		return w.a.appendText(dst, b, now)
	}
	dst = w.a.appendText(dst, b[:l.Client.Start], now)
	client := b[l.Client.Start:l.Client.End]
	switch {
	case string(client) == "unix" || string(client) == "-" || string(client) == InvalidMarker ||
		(len(client) > len(pseudonymPrefix) && string(client[:len(pseudonymPrefix)]) == pseudonymPrefix):
		dst = append(dst, client...)
	default:
		if ip, ok := parseAddrBytes(client); ok {
			dst = w.a.appendAddr(dst, ip, now)
		} else {
			dst = append(dst, InvalidMarker...)
		}
	}
	pos := l.Client.End
	spans := []Span{l.ReqHeaders, l.ResHeaders, l.Request}
	if l.HTTP && len(l.Fields) > 8 {
		// %CC %CS: the fields after the byte count, after the date.
		if cc, ok := cookieSpans(b, l); ok {
			spans = append(cc[:], spans...)
		}
	}
	for _, s := range spans {
		if s.End <= s.Start {
			continue
		}
		dst = append(dst, b[pos:s.Start]...)
		dst = w.a.appendText(dst, b[s.Start:s.End], now)
		pos = s.End
	}
	return append(dst, b[pos:]...)
}

// cookieSpans finds the captured cookie fields (%CC %CS) of an httplog
// line: the 8th and 9th fields from the client.
func cookieSpans(b []byte, l Line) ([2]Span, bool) {
	var out [2]Span
	f := fieldsWithSpans(b[l.Client.Start:], l.Client.Start)
	if len(f) < 9 || (l.ReqHeaders.End > l.ReqHeaders.Start && f[8].End > l.ReqHeaders.Start) {
		return out, false
	}
	out[0], out[1] = f[7], f[8]
	return out, true
}
