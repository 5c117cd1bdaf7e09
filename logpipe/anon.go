package logpipe

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"github.com/varde-lb/varde/core/httpx"
	"hash"
	"net/netip"
	"strconv"
	"time"

	"github.com/varde-lb/varde/core/config"
)

// AnonMode is what `anonymize` on a log line asks for.
type AnonMode uint8

const (
	AnonNone AnonMode = iota // addresses written as received
	AnonIP                   // keep V4Bits/V6Bits of prefix, zero the rest
	AnonHMAC                 // keyed pseudonym, key rotated and destroyed
)

func (m AnonMode) String() string {
	switch m {
	case AnonIP:
		return "ip"
	case AnonHMAC:
		return "hmac"
	}
	return "none"
}

// AnonSpec is the parsed `anonymize ...` option of one log target.
type AnonSpec struct {
	Mode    AnonMode
	V4Bits  int           // AnonIP: prefix bits kept for IPv4 (0..32)
	V6Bits  int           // AnonIP: prefix bits kept for IPv6 (0..128)
	KeyFile string        // AnonHMAC: where the keys live
	Rotate  time.Duration // AnonHMAC: key period; 0 = one key forever
	// PII is the personal data masked besides addresses (pii.go); the
	// hash mask uses the hmac keys.
	PII PIISpec
}

// InvalidMarker replaces an address-like field that does not parse (a
// malformed X-Forwarded-For element): writing it raw could leak a
// half-valid address, so it is never copied.
const InvalidMarker = "invalid"

// pseudonymPrefix starts every HMAC pseudonym; audit recognises it.
const pseudonymPrefix = "h-"

// anonymizer rewrites addresses for one target. It is owned by that target's
// writer goroutine (the HMAC state is not safe for concurrent use).
type anonymizer struct {
	spec AnonSpec
	keys *keyRing
	mac  hash.Hash
	kid  int64 // period of the key mac was built with
	sum  [sha256.Size + 16]byte
	ab   [16]byte
	pbuf []byte // the text with personal data masked, before addresses
}

func newAnonymizer(spec AnonSpec, keys *keyRing) *anonymizer {
	return &anonymizer{spec: spec, keys: keys, kid: -1}
}

// on reports whether addresses are rewritten at all.
func (a *anonymizer) on() bool { return a != nil && a.spec.Mode != AnonNone }

// active reports whether anything is rewritten: addresses or other
// personal data.
func (a *anonymizer) active() bool { return a != nil && (a.spec.Mode != AnonNone || a.spec.PII.on()) }

// appendAddr writes ip, anonymised. The zone (interface name) is dropped in
// every mode but none.
func (a *anonymizer) appendAddr(dst []byte, ip netip.Addr, now time.Time) []byte {
	if !a.on() {
		return ip.AppendTo(dst)
	}
	if !ip.IsValid() {
		return append(dst, InvalidMarker...)
	}
	ip = ip.WithZone("")
	switch a.spec.Mode {
	case AnonIP:
		if ip.Is4() {
			return a.appendMasked4(dst, ip.As4())
		}
		return maskAddr(ip, a.spec.V4Bits, a.spec.V6Bits).AppendTo(dst)
	default:
		return a.appendPseudonym(dst, ip, now)
	}
}

// appendMasked4 is the IPv4 fast path of appendAddr for mode ip: mask and
// print the four octets without going through netip.Prefix.
func (a *anonymizer) appendMasked4(dst []byte, b [4]byte) []byte {
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if n := a.spec.V4Bits; n < 32 {
		v &^= (1 << (32 - n)) - 1
	}
	dst = appendSmall(dst, int64(v>>24))
	dst = append(dst, '.')
	dst = appendSmall(dst, int64(v>>16&0xff))
	dst = append(dst, '.')
	dst = appendSmall(dst, int64(v>>8&0xff))
	dst = append(dst, '.')
	return appendSmall(dst, int64(v&0xff))
}

// maskAddr keeps the first v4/v6 bits. An IPv4-mapped IPv6 address is
// masked as the IPv4 address it carries, and stays mapped.
func maskAddr(ip netip.Addr, v4, v6 int) netip.Addr {
	switch {
	case ip.Is4():
		p, _ := ip.Prefix(v4)
		return p.Addr()
	case ip.Is4In6():
		p, _ := ip.Unmap().Prefix(v4)
		return netip.AddrFrom16(p.Addr().As16())
	default:
		p, _ := ip.Prefix(v6)
		return p.Addr()
	}
}

func (a *anonymizer) appendPseudonym(dst []byte, ip netip.Addr, now time.Time) []byte {
	kid, key := a.keys.current(now)
	if a.mac == nil || kid != a.kid {
		a.mac = hmac.New(sha256.New, key)
		a.kid = kid
	}
	a.mac.Reset()
	a.ab = ip.Unmap().As16()
	a.mac.Write(a.ab[:])
	s := a.mac.Sum(a.sum[:0])
	dst = append(dst, pseudonymPrefix...)
	var hx [16]byte
	hex.Encode(hx[:], s[:8])
	return append(dst, hx[:]...)
}

// appendAddrText anonymises a textual address (from a header), with an
// optional port ("1.2.3.4:80", "[2001:db8::1]:443"); anything unparsable
// becomes InvalidMarker.
func (a *anonymizer) appendAddrText(dst []byte, s []byte, now time.Time) []byte {
	if a.spec.Mode == AnonIP && len(s) <= 15 {
		var b [4]byte
		if parse4(s, b[:]) {
			return a.appendMasked4(dst, b)
		}
	}
	if ip, ok := parseAddrBytes(s); ok {
		return a.appendAddr(dst, ip, now)
	}
	if len(s) > 0 && s[0] == '[' {
		for i := len(s) - 1; i > 0; i-- {
			if s[i] == ']' {
				if ip, ok := parseAddrBytes(s[1:i]); ok && ip.Is6() && validPort(s[i+1:]) {
					dst = append(dst, '[')
					dst = a.appendAddr(dst, ip, now)
					dst = append(dst, ']')
					return append(dst, s[i+1:]...)
				}
				break
			}
		}
		return append(dst, InvalidMarker...)
	}
	for i := len(s) - 1; i > 0; i-- {
		if s[i] == ':' {
			if ip, ok := parseAddrBytes(s[:i]); ok && ip.Is4() && validPort(s[i:]) {
				dst = a.appendAddr(dst, ip, now)
				return append(dst, s[i:]...)
			}
			break
		}
	}
	return append(dst, InvalidMarker...)
}

// validPort accepts "" or ":NNNNN".
func validPort(s []byte) bool {
	if len(s) == 0 {
		return true
	}
	if s[0] != ':' || len(s) < 2 || len(s) > 6 {
		return false
	}
	n := 0
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}

// parseAddrBytes parses an IPv4 or IPv6 address (with an optional %zone)
// without allocating, failures included (netip.ParseAddr allocates its
// error, and failures are the common case when scanning text).
func parseAddrBytes(b []byte) (netip.Addr, bool) {
	if len(b) == 0 || len(b) > 64 {
		return netip.Addr{}, false
	}
	if indexByte(b, ':') < 0 {
		var a4 [4]byte
		if !parse4(b, a4[:]) {
			return netip.Addr{}, false
		}
		return netip.AddrFrom4(a4), true
	}
	zone := -1
	if z := indexByte(b, '%'); z >= 0 {
		if z == len(b)-1 {
			return netip.Addr{}, false
		}
		zone, b = z, b[:z]
	}
	var a16 [16]byte
	ellipsis := -1
	i, n := 0, 0 // input index, output bytes
	if len(b) >= 2 && b[0] == ':' && b[1] == ':' {
		ellipsis, i = 0, 2
		if len(b) == 2 {
			return finish6(a16, zone, b), true
		}
	}
	for i < len(b) {
		// hex group, or a trailing dotted IPv4
		j, v := i, 0
		for j < len(b) && j-i < 4 {
			c := b[j]
			var d int
			switch {
			case c >= '0' && c <= '9':
				d = int(c - '0')
			case c >= 'a' && c <= 'f':
				d = int(c-'a') + 10
			case c >= 'A' && c <= 'F':
				d = int(c-'A') + 10
			default:
				goto done
			}
			v = v<<4 | d
			j++
		}
	done:
		if j < len(b) && b[j] == '.' {
			if n > 12 || !parse4(b[i:], a16[n:n+4]) {
				return netip.Addr{}, false
			}
			n += 4
			i = len(b)
			break
		}
		if j == i || n > 14 {
			return netip.Addr{}, false
		}
		a16[n], a16[n+1] = byte(v>>8), byte(v)
		n += 2
		i = j
		if i == len(b) {
			break
		}
		if b[i] != ':' || i+1 == len(b) {
			return netip.Addr{}, false
		}
		i++
		if b[i] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = n
			i++
			if i == len(b) {
				break
			}
		}
	}
	if ellipsis >= 0 {
		if n == 16 {
			return netip.Addr{}, false
		}
		shift := 16 - n
		for k := n - 1; k >= ellipsis; k-- {
			a16[k+shift] = a16[k]
		}
		for k := ellipsis; k < ellipsis+shift; k++ {
			a16[k] = 0
		}
	} else if n != 16 {
		return netip.Addr{}, false
	}
	return finish6(a16, zone, b), true
}

func finish6(a16 [16]byte, zone int, b []byte) netip.Addr {
	ip := netip.AddrFrom16(a16)
	if zone >= 0 {
		// Zones are dropped by every anonymising mode; keeping the address
		// zone-less here avoids allocating the zone string.
		_ = b
	}
	return ip
}

// parse4 parses a dotted quad with no leading zeros into out.
func parse4(b []byte, out []byte) bool {
	part, v, digits := 0, 0, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && v == 0 {
				return false // leading zero
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return false
			}
		case c == '.':
			if digits == 0 || part == 3 {
				return false
			}
			out[part] = byte(v)
			part, v, digits = part+1, 0, 0
		default:
			return false
		}
	}
	if part != 3 || digits == 0 {
		return false
	}
	out[3] = byte(v)
	return true
}

// headerKind says how a captured header's value is anonymised.
type headerKind uint8

const (
	hdrText      headerKind = iota // free text: every address-looking token is rewritten
	hdrAddrList                    // X-Forwarded-For style: comma-separated addresses
	hdrForwarded                   // RFC 7239 Forwarded: for=/by= parameters
)

func kindOf(name string) headerKind {
	switch lowerASCII(name) {
	case "x-forwarded-for", "x-real-ip", "x-client-ip", "true-client-ip", "cf-connecting-ip",
		"x-cluster-client-ip", "fastly-client-ip", "x-original-forwarded-for":
		return hdrAddrList
	case "forwarded":
		return hdrForwarded
	}
	return hdrText
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// appendHeader anonymises one captured header value of the given kind:
// personal data first, then addresses.
func (a *anonymizer) appendHeader(dst, v []byte, kind headerKind, now time.Time) []byte {
	v = a.maskPII(v, now)
	if !a.on() {
		return append(dst, v...)
	}
	switch kind {
	case hdrAddrList:
		return a.appendList(dst, v, now)
	case hdrForwarded:
		return a.appendForwarded(dst, v, now)
	}
	return a.appendAddrs(dst, v, now)
}

func (a *anonymizer) appendList(dst, v []byte, now time.Time) []byte {
	for len(v) > 0 {
		i := indexByte(v, ',')
		elem := v
		if i >= 0 {
			elem, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		l, r := 0, len(elem)
		for l < r && (elem[l] == ' ' || elem[l] == '\t') {
			l++
		}
		for r > l && (elem[r-1] == ' ' || elem[r-1] == '\t') {
			r--
		}
		dst = append(dst, elem[:l]...)
		switch tok := elem[l:r]; {
		case len(tok) == 0:
		case string(tok) == "unknown":
			dst = append(dst, tok...)
		default:
			dst = a.appendAddrText(dst, tok, now)
		}
		dst = append(dst, elem[r:]...)
		if i >= 0 {
			dst = append(dst, ',')
		}
	}
	return dst
}

// appendForwarded rewrites for= and by= nodes of an RFC 7239 header;
// obfuscated identifiers ("_abc") and "unknown" are kept, other parameters
// (proto, host) are passed through the free-text scanner.
func (a *anonymizer) appendForwarded(dst, v []byte, now time.Time) []byte {
	start := 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) && v[i] != ';' && v[i] != ',' {
			if v[i] == '"' { // skip a quoted string
				for i++; i < len(v) && v[i] != '"'; i++ {
				}
			}
			continue
		}
		pair := v[start:i]
		eq := indexByte(pair, '=')
		key := pair
		if eq >= 0 {
			key = pair[:eq]
		}
		if eq >= 0 && (equalFoldTrim(key, "for") || equalFoldTrim(key, "by")) {
			dst = append(dst, pair[:eq+1]...)
			val := pair[eq+1:]
			quoted := len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"'
			if quoted {
				val = val[1 : len(val)-1]
				dst = append(dst, '"')
			}
			if string(val) == "unknown" || (len(val) > 0 && val[0] == '_') {
				dst = append(dst, val...)
			} else {
				dst = a.appendAddrText(dst, val, now)
			}
			if quoted {
				dst = append(dst, '"')
			}
		} else {
			dst = a.appendAddrs(dst, pair, now)
		}
		if i < len(v) {
			dst = append(dst, v[i])
		}
		start = i + 1
	}
	return dst
}

func equalFoldTrim(b []byte, s string) bool {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return len(b) == len(s) && httpx.EqualFold(b, s)
}

func indexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// appendText copies free text (a request line, a Referer) with personal
// data masked and every embedded IPv4/IPv6 address anonymised.
func (a *anonymizer) appendText(dst, v []byte, now time.Time) []byte {
	return a.appendAddrs(dst, a.maskPII(v, now), now)
}

// appendAddrs copies text with every embedded address anonymised.
func (a *anonymizer) appendAddrs(dst, v []byte, now time.Time) []byte {
	if !a.on() || !mayHoldAddr(v) {
		return append(dst, v...)
	}
	last := 0
	for {
		s, e, ip, ok := nextAddr(v, last)
		if !ok {
			break
		}
		dst = append(dst, v[last:s]...)
		dst = a.appendAddr(dst, ip, now)
		last = e
	}
	return append(dst, v[last:]...)
}

var addrChars = func() (t [256]bool) {
	for _, c := range []byte("0123456789abcdefABCDEF.:") {
		t[c] = true
	}
	return t
}()

func isAddrChar(c byte) bool { return addrChars[c] }

// mayHoldAddr is a quick vectorised pre-check: an address needs a ':' or at
// least three '.', which most request lines and headers do not have.
func mayHoldAddr(v []byte) bool {
	return bytes.IndexByte(v, ':') >= 0 || bytes.Count(v, dotSep) >= 3
}

var dotSep = []byte{'.'}

// nextAddr finds the first IPv4 or IPv6 address embedded in text at or
// after from. It is a scanner, not a parser (like rsyslog's mmanon): it
// looks at maximal runs of [0-9a-fA-F.:], takes a run that is a whole
// address, else an IPv6 address followed by ":port", else dotted quads
// inside it. It errs on the side of finding too much. The audit uses the
// same scanner, so what the anonymiser leaves, the audit accepts.
func nextAddr(v []byte, from int) (start, end int, ip netip.Addr, ok bool) {
	for i := from; i < len(v); {
		if !isAddrChar(v[i]) {
			i++
			continue
		}
		j, dots, colons := i, 0, 0
		for j < len(v) && isAddrChar(v[j]) {
			switch v[j] {
			case '.':
				dots++
			case ':':
				colons++
			}
			j++
		}
		if dots >= 3 || colons >= 2 {
			if s, e, ip, ok := scanRun(v[i:j]); ok {
				return i + s, i + e, ip, true
			}
		}
		i = j
	}
	return 0, 0, netip.Addr{}, false
}

// scanRun returns the first address in one run.
func scanRun(run []byte) (int, int, netip.Addr, bool) {
	// Trim dots that cannot end an address ("1.2.3.4." at a sentence end).
	end := len(run)
	for end > 0 && run[end-1] == '.' {
		end--
	}
	colons := countByte(run[:end], ':')
	if ip, ok := parseAddrBytes(run[:end]); ok && (ip.Is4() || colons >= 2) {
		return 0, end, ip, true
	}
	if colons >= 2 {
		// IPv6 followed by :port.
		if k := lastIndexByte(run[:end], ':'); k > 0 {
			if ip, ok := parseAddrBytes(run[:k]); ok && ip.Is6() {
				return 0, k, ip, true
			}
		}
	}
	// Dotted quads inside the run: digits.digits.digits.digits, octets <= 255,
	// not preceded or followed by another digit.
	for i := 0; i < len(run); i++ {
		if run[i] < '0' || run[i] > '9' || (i > 0 && run[i-1] >= '0' && run[i-1] <= '9') {
			continue
		}
		if n, ok := dottedQuad(run[i:]); ok {
			if ip, ok := parseAddrBytes(run[i : i+n]); ok {
				return i, i + n, ip, true
			}
			return i, i + n, netip.IPv4Unspecified(), true // leading zeros: still an address
		}
	}
	return 0, 0, netip.Addr{}, false
}

// dottedQuad matches d{1,3}(.d{1,3}){3} with octets <= 255 at the start of b.
func dottedQuad(b []byte) (int, bool) {
	i := 0
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= len(b) || b[i] != '.' {
				return 0, false
			}
			i++
		}
		n, v := 0, 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' && n < 4 {
			v = v*10 + int(b[i]-'0')
			i++
			n++
		}
		if n == 0 || n > 3 || v > 255 {
			return 0, false
		}
	}
	if i < len(b) && b[i] >= '0' && b[i] <= '9' {
		return 0, false
	}
	return i, true
}

func countByte(b []byte, c byte) int {
	n := 0
	for _, x := range b {
		if x == c {
			n++
		}
	}
	return n
}

func lastIndexByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// ParseAnon parses the words after `anonymize`: "none", "ip V4,V6",
// "hmac KEYFILE [rotate DUR]". It returns how many words it used.
func ParseAnon(words []string) (AnonSpec, int, error) {
	if len(words) == 0 {
		return AnonSpec{}, 0, errorf("anonymize: missing mode (none, ip V4BITS,V6BITS, hmac KEYFILE [rotate DUR])")
	}
	switch words[0] {
	case "none":
		return AnonSpec{Mode: AnonNone}, 1, nil
	case "ip":
		if len(words) < 2 {
			return AnonSpec{}, 1, errorf("anonymize ip: missing V4BITS,V6BITS (e.g. 24,48)")
		}
		v4s, v6s, ok := cut(words[1], ',')
		if !ok {
			return AnonSpec{}, 2, errorf("anonymize ip %q: want V4BITS,V6BITS (e.g. 24,48)", words[1])
		}
		v4, err1 := strconv.Atoi(v4s)
		v6, err2 := strconv.Atoi(v6s)
		if err1 != nil || err2 != nil || v4 < 0 || v4 > 32 || v6 < 0 || v6 > 128 {
			return AnonSpec{}, 2, errorf("anonymize ip %q: bits must be 0..32,0..128", words[1])
		}
		return AnonSpec{Mode: AnonIP, V4Bits: v4, V6Bits: v6}, 2, nil
	case "hmac":
		if len(words) < 2 {
			return AnonSpec{}, 1, errorf("anonymize hmac: missing KEYFILE")
		}
		s := AnonSpec{Mode: AnonHMAC, KeyFile: words[1]}
		n := 2
		if len(words) >= 4 && words[2] == "rotate" {
			d, err := config.ParseDuration(words[3])
			if err != nil || d < time.Second {
				return AnonSpec{}, 4, errorf("anonymize hmac rotate %q: want a duration >= 1s (e.g. 1d)", words[3])
			}
			s.Rotate, n = d, 4
		}
		return s, n, nil
	}
	return AnonSpec{}, 1, errorf("anonymize %q: unknown mode (none, ip, hmac)", words[0])
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
