package logpipe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// maskPII returns v with every finding of the target's PIISpec masked
// (into a.pbuf), or v itself when there is nothing to mask.
func (a *anonymizer) maskPII(v []byte, now time.Time) []byte {
	if a == nil || !a.spec.PII.on() || !a.spec.PII.mayHoldPII(v) {
		return v
	}
	p := &a.spec.PII
	out := a.pbuf[:0]
	last := 0
	for from := 0; ; {
		s, e, cl, ok := p.nextPII(v, from)
		if !ok {
			break
		}
		out = append(out, v[last:s]...)
		out = a.appendMask(out, v[s:e], cl, now)
		last, from = e, e
	}
	if last == 0 {
		return v
	}
	a.pbuf = append(out, v[last:]...)
	return a.pbuf
}

// appendMask writes one finding as its class's mask says.
func (a *anonymizer) appendMask(dst, v []byte, cl PIIClass, now time.Time) []byte {
	switch a.spec.PII.Masks[cl.index()] {
	case MaskHash:
		if a.keys != nil {
			return a.appendHashed(dst, v, cl, now)
		}
	case MaskTruncate:
		return truncateFinding(dst, v, cl)
	}
	dst = append(dst, '[')
	dst = append(dst, piiNames[cl.index()].name...)
	return append(dst, ']')
}

// appendHashed is the pseudonym of a finding: HMAC-SHA256 of its class
// and bytes with the target's current key, truncated to 64 bits, so the
// same value is linkable within a key period and never after the key is
// destroyed.
func (a *anonymizer) appendHashed(dst, v []byte, cl PIIClass, now time.Time) []byte {
	kid, key := a.keys.current(now)
	if a.mac == nil || kid != a.kid {
		a.mac = hmac.New(sha256.New, key)
		a.kid = kid
	}
	a.mac.Reset()
	a.ab[0] = byte(cl)
	a.mac.Write(a.ab[:1])
	a.mac.Write(v)
	s := a.mac.Sum(a.sum[:0])
	dst = append(dst, pseudonymPrefix...)
	var hx [16]byte
	hex.Encode(hx[:], s[:8])
	return append(dst, hx[:]...)
}

// truncateFinding keeps what identifies nobody: an e-mail address's
// domain, a phone number's country code or first two digits, a card's
// issuer prefix and last four digits (what PCI DSS allows to be shown), a
// parameter's first two bytes; a fødselsnummer keeps nothing (its first
// six digits are the birth date). Removed characters become '*'.
func truncateFinding(dst, v []byte, cl PIIClass) []byte {
	switch cl {
	case PIIEmail:
		for i := len(v) - 1; i >= 0; i-- { // the last '@': the domain has none
			if v[i] == '@' || v[i] == '%' && i+2 < len(v) && v[i+1] == '4' && v[i+2] == '0' {
				dst = append(dst, '*')
				return append(dst, v[i:]...)
			}
		}
	case PIIPhone:
		keep := 2
		switch {
		case v[0] == '+':
			keep = 3
		case v[0] == '%':
			keep = 5
		case len(v) > 2 && v[0] == '0' && v[1] == '0':
			keep = 4
		}
		return appendStars(append(dst, v[:keep]...), v[keep:])
	case PIICard:
		var buf [20]byte
		d := buf[:0]
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case c == '%':
				i += 2 // %20, %2D: a separator
			case isDigit(c) && len(d) < len(buf):
				d = append(d, c)
			}
		}
		dst = append(dst, d[:6]...)
		for range d[6 : len(d)-4] {
			dst = append(dst, '*')
		}
		return append(dst, d[len(d)-4:]...)
	case PIIParam:
		n := 0
		if len(v) > 2 {
			n = 2
		}
		dst = append(dst, v[:n]...)
		for range v[n:] {
			dst = append(dst, '*')
		}
		return dst
	}
	return appendStars(dst, v)
}

// appendStars writes a '*' for each digit or letter of v, keeping
// separators.
func appendStars(dst, v []byte) []byte {
	for _, c := range v {
		if isAlnum(c) || c == '%' {
			c = '*'
		}
		dst = append(dst, c)
	}
	return dst
}
