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
	for _, s := range []Span{l.ReqHeaders, l.ResHeaders, l.Request} {
		if s.End <= s.Start {
			continue
		}
		dst = append(dst, b[pos:s.Start]...)
		dst = w.a.appendText(dst, b[s.Start:s.End], now)
		pos = s.End
	}
	return append(dst, b[pos:]...)
}
