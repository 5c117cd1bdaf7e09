package proxy

// HTTP response compression with HAProxy 2.6's meaning (its flt_http_comp.c
// filter): the algorithm is chosen on the request (Accept-Encoding), the
// response decides whether it applies, and a compressed body is streamed
// chunk by chunk, flushed after every read as HAProxy flushes every data
// block. docs/compression.md lists the rules and what differs.
//
// Cost when unused: compRequest returns at once when neither the frontend
// nor the backend has a `compression` line, and s.comp.on stays false, so
// the ordinary relay path (copyBody) runs untouched.

import (
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/httpx"
)

// compAlgo is one `compression algo` word.
type compAlgo uint8

const (
	compNone compAlgo = iota
	compIdentity
	compGzip
	compDeflate    // zlib (RFC 1950), announced as "deflate"
	compRawDeflate // raw deflate (RFC 1951), announced as "deflate" too
)

// token is the content-coding the client asks for and the response names
// (HAProxy's ua_name).
func (a compAlgo) token() string {
	switch a {
	case compIdentity:
		return "identity"
	case compGzip:
		return "gzip"
	case compDeflate, compRawDeflate:
		return "deflate"
	}
	return ""
}

// compCfg is a proxy's compression settings. algos and types are in
// HAProxy's list order (the last word written first).
type compCfg struct {
	algos   []compAlgo
	types   []string
	offload bool
}

// compFromConfig returns nil for a proxy without compression lines.
func compFromConfig(c *config.Compression) *compCfg {
	if c == nil {
		return nil
	}
	cc := &compCfg{types: c.Types, offload: c.Offload}
	for _, a := range c.Algos {
		switch a {
		case "identity":
			cc.algos = append(cc.algos, compIdentity)
		case "gzip":
			cc.algos = append(cc.algos, compGzip)
		case "deflate":
			cc.algos = append(cc.algos, compDeflate)
		case "raw-deflate":
			cc.algos = append(cc.algos, compRawDeflate)
		}
	}
	return cc
}

// compState is one request's compression: chosen on the request, applied
// (on) or not on the response.
type compState struct {
	algo   compAlgo
	dropAE bool // compression offload: Accept-Encoding is not forwarded
	on     bool // this response's body is being transformed
	level  int
	enc    *compEncoder // taken from a pool while on
}

// transformsResponseBody reports whether the response body the engine is
// relaying must pass through the session (it is compressed): such a body
// must never be spliced or copied as is.
func (s *session) transformsResponseBody() bool { return s.comp.on }

// compSettings merges frontend and backend as HAProxy does: the backend's
// algorithms (and types) when it has any, else the frontend's; offload
// when either says so.
func compSettings(f, b *compCfg) (algos []compAlgo, types []string, offload bool) {
	for _, c := range []*compCfg{b, f} {
		if c == nil {
			continue
		}
		offload = offload || c.offload
		if algos == nil {
			algos = c.algos
		}
		if types == nil {
			types = c.types
		}
	}
	return algos, types, offload
}

// compRequest chooses the algorithm for this request (HAProxy's
// select_compression_request_header). It runs before the request head is
// built, so offload can drop Accept-Encoding.
func (s *session) compRequest(b *Backend) {
	s.comp = compState{}
	fc, bc := s.f.cfg.comp, b.cfg.comp
	if fc == nil && bc == nil {
		return
	}
	if s.oldMozilla() {
		return
	}
	algos, _, offload := compSettings(fc, bc)
	s.comp.level = max(s.e.cfg.CompLevel, 1) // tune.comp.maxlevel, HAProxy's default 1
	// The fields as the http-request rules left them: a deleted
	// Accept-Encoding is not read, one a rule added is (as HAProxy reads
	// the rewritten message).
	v := &s.view
	best := 0
	for i, n := 0, v.NumHeaders(); i < n; i++ {
		name, val := v.HeaderAt(i)
		if !httpx.EqualFold(name, "accept-encoding") {
			continue
		}
		s.comp.algo, best = acceptCoding(val, algos, s.comp.algo, best)
	}
	if s.comp.algo != compNone {
		s.comp.dropAE = offload
		return
	}
	// identity needs no Accept-Encoding: HAProxy takes it when listed.
	for _, a := range algos {
		if a == compIdentity {
			s.comp.algo = compIdentity
			return
		}
	}
}

// acceptCoding reads one Accept-Encoding field value: each element whose
// q-value beats best and that names an algorithm replaces cur.
func acceptCoding(v []byte, algos []compAlgo, cur compAlgo, best int) (compAlgo, int) {
	for rest := v; rest != nil; {
		var e []byte
		e, rest = httpx.NextElement(rest)
		if a, q := pickCoding(e, algos, best); a != compNone {
			cur, best = a, q
		}
	}
	return cur, best
}

// oldMozilla is HAProxy's exception for old browsers announcing
// "Mozilla/4" (except MSIE 6 with XP SP2 and MSIE 7 and later).
func (s *session) oldMozilla() bool {
	v, ok := s.req.Field("user-agent")
	if !ok || len(v) < 9 || string(v[:9]) != "Mozilla/4" {
		return false
	}
	return len(v) < 31 || string(v[25:30]) != "MSIE " || v[30] < '6' ||
		(v[30] == '6' && (len(v) < 54 || string(v[51:54]) != "SV1"))
}

// pickCoding reads one Accept-Encoding element: the first algorithm of the
// list it names ("*" names the first one) if its q-value beats best.
func pickCoding(v []byte, algos []compAlgo, best int) (compAlgo, int) {
	tok := 0
	for tok < len(v) && httpx.IsTokenByte(v[tok]) {
		tok++
	}
	q := elementQ(v[tok:])
	if q <= best || len(v) == 0 {
		return compNone, 0
	}
	for _, a := range algos {
		if v[0] == '*' || wordMatch(v[:tok], a.token()) {
			return a, q
		}
	}
	return compNone, 0
}

// elementQ finds the first "q=" parameter behind the token (1000 when
// none), as HAProxy's loop over ';' parameters does.
func elementQ(p []byte) int {
	for {
		p = httpx.TrimOWS(p)
		if len(p) == 0 || p[0] != ';' {
			return 1000
		}
		p = httpx.TrimOWS(p[1:])
		if len(p) == 0 {
			return 1000
		}
		if p[0] == 'q' && (len(p) == 1 || p[1] == '=') {
			if len(p) < 2 {
				return 1000
			}
			return parseQValue(p[2:])
		}
		for len(p) > 0 && p[0] != ';' {
			p = p[1:]
		}
	}
}

// parseQValue is HAProxy's http_parse_qvalue: "1", "0.5", "0.123" in
// thousandths, stopping at the first unexpected byte; unparsable is 1000.
func parseQValue(p []byte) int {
	if len(p) == 0 || !isDigit(p[0]) {
		return 1000
	}
	q := int(p[0]-'0') * 1000
	mult := 100
	if len(p) > 1 && p[1] == '.' {
		for _, c := range p[2:min(len(p), 5)] {
			if !isDigit(c) {
				break
			}
			q += int(c-'0') * mult
			mult /= 10
		}
	}
	return min(q, 1000)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// wordMatch is HAProxy's word_match on a token: same length, bytes equal
// or differing only by the ASCII case bit. It is not httpx.EqualFold on
// purpose: HAProxy also equates bytes such as '@' and '`'.
func wordMatch(tok []byte, word string) bool {
	if len(tok) != len(word) {
		return false
	}
	for i := range tok {
		if c := tok[i] ^ word[i]; c != 0 && c != 'A'^'a' {
			return false
		}
	}
	return true
}
