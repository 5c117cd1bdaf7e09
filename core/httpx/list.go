package httpx

// Helpers for field values shared by the parser, the engine's rewrite and
// compression code and the sample fetches, so that every reader of a
// comma-separated list splits it the same way.

// ElementEnd returns the index of the comma ending the list element that
// starts at i, or len(v) for the last one. A comma inside a quoted-string
// (RFC 9110 5.6.4) does not split, and inside one a backslash escapes the
// next byte: `a, "b,c"` is two elements, as HAProxy's
// http_find_hdr_value_end counts them.
func ElementEnd(v []byte, i int) int {
	quoted := false
	for ; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return i
		}
	}
	return len(v)
}

// NextElement splits the first element off the comma-separated list v
// (see ElementEnd), trimmed of spaces and tabs. rest is nil once v is used
// up; an empty element (",," or a trailing comma) is returned as such, so
// a caller walks a list without allocating:
//
//	for rest := v; rest != nil; {
//		var e []byte
//		e, rest = httpx.NextElement(rest)
//	}
func NextElement(v []byte) (elem, rest []byte) {
	j := ElementEnd(v, 0)
	if j == len(v) {
		return TrimOWS(v), nil
	}
	return TrimOWS(v[:j]), v[j+1:]
}

// TrimOWS drops the spaces and tabs around b.
func TrimOWS(b []byte) []byte { return trimOWS(b) }

// IsTokenByte reports whether c may appear in an RFC 9110 token (tchar).
func IsTokenByte(c byte) bool { return tcharTable[c] }

// IsToken reports whether b is a non-empty RFC 9110 token.
func IsToken(b []byte) bool {
	for _, c := range b {
		if !tcharTable[c] {
			return false
		}
	}
	return len(b) > 0
}

// ToLower lower-cases an ASCII letter.
func ToLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// AppendLower appends b lower-cased (ASCII) to dst.
func AppendLower(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, ToLower(c))
	}
	return dst
}

// ContainsFold reports whether sub occurs in b, ignoring ASCII case.
func ContainsFold(b []byte, sub string) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if EqualFold(b[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
