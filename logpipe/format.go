package logpipe

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/core/tlsx"
)

// The formats behind `option httplog` and `option tcplog`, exactly as HAProxy
// defines them (configuration.txt §8.2.3, §8.2.2).
const (
	HTTPLogFormat = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r"
	TCPLogFormat  = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"
	// CLFLogFormat is `option httplog clf`.
	CLFLogFormat = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl"
)

type varID uint8

const (
	vLiteral varID = iota
	vSep           // a run of spaces: at most one space, none after an empty item
	vCI
	vCP
	vFI
	vFP
	vSI
	vSP
	vT    // accept date, local
	vTR   // request date, local
	vTRG  // request date, GMT, CLF style
	vTS   // accept, unix seconds
	vMS   // accept, milliseconds part
	vTGMT // %T accept date GMT
	vFT
	vF
	vB
	vS
	vTh
	vTi
	vTRt
	vTq
	vTw
	vTc
	vTr
	vTa
	vTt
	vST
	vBytes
	vU
	vCC
	vCS
	vTS2 // %ts
	vTSC // %tsc
	vAC
	vFC
	vBC
	vSC
	vRC
	vSQ
	vBQ
	vHR
	vHS
	vHRL
	vHSL
	vR
	vHM
	vHU
	vHP
	vHV
	vPID
	vH
	vSample
	vSSLV
	vSSLC
	vHPO // path only, no host, no query
	vHQ  // query string with its '?'
	vID  // unique-id
	vTd  // data transmission time
	vTu  // total time seen by the user: Tt - Ti
	vTl  // accept date, local, with UTC offset
	vTRL // request date, local, with UTC offset
	vLC  // the frontend's log counter
	vRT  // the request counter
	vBI  // the server connection's local address
	vBP  // the server connection's local port
)

var varNames = map[string]varID{
	"ci": vCI, "cp": vCP, "fi": vFI, "fp": vFP, "si": vSI, "sp": vSP,
	"t": vT, "tr": vTR, "trg": vTRG, "Ts": vTS, "ms": vMS, "T": vTGMT,
	"ft": vFT, "f": vF, "b": vB, "s": vS,
	"Th": vTh, "Ti": vTi, "TR": vTRt, "Tq": vTq, "Tw": vTw, "Tc": vTc, "Tr": vTr, "Ta": vTa, "Tt": vTt,
	"ST": vST, "B": vBytes, "U": vU, "CC": vCC, "CS": vCS, "ts": vTS2, "tsc": vTSC,
	"ac": vAC, "fc": vFC, "bc": vBC, "sc": vSC, "rc": vRC, "sq": vSQ, "bq": vBQ,
	"hr": vHR, "hs": vHS, "hrl": vHRL, "hsl": vHSL, "r": vR,
	"HM": vHM, "HU": vHU, "HP": vHP, "HV": vHV, "pid": vPID, "H": vH,
	"sslv": vSSLV, "sslc": vSSLC,
	"HPO": vHPO, "HQ": vHQ, "ID": vID, "Td": vTd, "Tu": vTu, "Tl": vTl, "trl": vTRL, "lc": vLC, "rt": vRT,
	"bi": vBI, "bp": vBP,
}

type item struct {
	id    varID
	quote bool
	qlist bool // %hrl, %hsl under +Q: every value quoted on its own
	esc   bool // +E: '"', '\\' and ']' escaped with '\\' (RFC 5424 structured data)
	hex   bool // +X: addresses, ports and counters in hexadecimal
	lit   string
	// vSample: %[expr], a core/sample expression evaluated at log time.
	expr     *sample.Expr
	anonAddr bool // an address result is the client's: anonymise it
}

// Format is a compiled log-format string.
type Format struct {
	src   string
	items []item
	fast  bool // exactly HTTPLogFormat: use appendHTTPLog
}

// String returns the source format.
func (f *Format) String() string { return f.src }

// CompileFormat parses a log-format string (HAProxy §8.2.6): %var, %{+Q}var,
// %{-Q}var, %% and literal text; runs of spaces are separators. %[expr] is
// a core/sample expression evaluated at log time (see samplefetch.go).
func CompileFormat(s string) (*Format, error) {
	f := &Format{src: s}
	quoteAll, escAll, hexAll := false, false, false
	lit := []byte{}
	flush := func() {
		if len(lit) > 0 {
			f.items = append(f.items, item{id: vLiteral, lit: string(lit)})
			lit = lit[:0]
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			flush()
			for i < len(s) && s[i] == ' ' {
				i++
			}
			f.items = append(f.items, item{id: vSep})
		case c == '\\' && i+1 < len(s):
			lit = append(lit, s[i+1])
			i += 2
		case c == '%' && i+1 < len(s) && s[i+1] == '%':
			lit = append(lit, '%')
			i += 2
		case c == '%':
			flush()
			i++
			quote, esc, hex := quoteAll, escAll, hexAll
			if i < len(s) && s[i] == '{' {
				end := i
				for end < len(s) && s[end] != '}' {
					end++
				}
				if end == len(s) {
					return nil, fmt.Errorf("log-format: unterminated %%{ at offset %d", i-1)
				}
				for _, fl := range splitComma(s[i+1 : end]) {
					switch fl {
					case "+Q":
						quote = true
					case "-Q":
						quote = false
					case "+E", "-E":
						esc = fl[0] == '+'
					case "+X", "-X":
						hex = fl[0] == '+'
					default:
						return nil, fmt.Errorf("log-format: unknown flag %q at offset %d", fl, i)
					}
				}
				i = end + 1
			}
			if i < len(s) && s[i] == '[' {
				// The expression's parser finds its end, so a ']' inside
				// an argument (regsub('[ab]',x)) does not close it.
				it, n, err := compileSample(s[i+1:])
				if err != nil {
					return nil, fmt.Errorf("log-format: %%[ at offset %d: %w", i-1, err)
				}
				it.quote = quote
				f.items = append(f.items, it)
				i += n + 2
				continue
			}
			// The name is the whole run of letters and digits, as in
			// HAProxy ("%ci:%cp" ends at the ':').
			j := i
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			name := s[i:j]
			if name == "o" { // %o: the flags apply to every following item
				quoteAll, escAll, hexAll = quote, esc, hex
				i = j
				continue
			}
			id, ok := varNames[name]
			if !ok {
				return nil, fmt.Errorf("log-format: unknown variable %%%s at offset %d", name, i-1)
			}
			f.items = append(f.items, quotedItem(item{id: id, esc: esc, hex: hex}, quote))
			i = j
		default:
			lit = append(lit, c)
			i++
		}
	}
	flush()
	f.fast = s == HTTPLogFormat
	return f, nil
}

func splitComma(s string) []string {
	var out []string
	for {
		a, b, ok := cut(s, ',')
		out = append(out, a)
		if !ok {
			return out
		}
		s = b
	}
}

// encodeCtx carries what an encoder needs beyond the Record.
type encodeCtx struct {
	anon     *anonymizer
	reqKinds []headerKind
	resKinds []headerKind
	now      time.Time
	loc      *time.Location
	pid      int
	host     string
	dates    *dateCache
	scratch  []byte
	// For %[expr]: the capture names (req.hdr at log time reads captures),
	// "backend/server" -> srv_id, and the evaluation state.
	reqNames, resNames []string
	logNames           []string // Record.LogHeaders names
	srvIDs             map[string]int
	sample             sampleCtx
}

// dateCache keeps the formatted date of the last second seen, so most
// records only append milliseconds.
type dateCache struct {
	sec  int64
	loc  *time.Location
	buf  [32]byte
	n    int
	gsec int64
	gbuf [40]byte
	gn   int
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// appendClock writes t as "21/Nov/2026:19:55:00", the part every HAProxy
// date format shares.
func appendClock(b []byte, t time.Time) []byte {
	b = append2(b, t.Day())
	b = append(b, '/')
	b = append(b, months[t.Month()-1]...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(t.Year()), 10)
	b = append(b, ':')
	b = append2(b, t.Hour())
	b = append(b, ':')
	b = append2(b, t.Minute())
	b = append(b, ':')
	b = append2(b, t.Second())
	return b
}

// appendDate writes "21/Nov/2026:19:55:00.123" in loc (HAProxy's %t/%tr).
func (d *dateCache) appendDate(dst []byte, ns int64, loc *time.Location) []byte {
	sec := floorDiv(ns, 1e9)
	if sec != d.sec || d.n == 0 || loc != d.loc {
		t := time.Unix(sec, 0).In(loc)
		b := appendClock(d.buf[:0], t)
		d.sec, d.loc, d.n = sec, loc, len(b)
	}
	dst = append(dst, d.buf[:d.n]...)
	dst = append(dst, '.')
	return append3(dst, int((ns-sec*1e9)/1e6))
}

// appendGMT writes "21/Nov/2026:19:55:00 +0000" (%T, %trg).
func (d *dateCache) appendGMT(dst []byte, ns int64) []byte {
	sec := floorDiv(ns, 1e9)
	if sec != d.gsec || d.gn == 0 {
		t := time.Unix(sec, 0).UTC()
		b := appendClock(d.gbuf[:0], t)
		b = append(b, " +0000"...)
		d.gsec, d.gn = sec, len(b)
	}
	return append(dst, d.gbuf[:d.gn]...)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10%10), byte('0'+v%10)) }
func append3(b []byte, v int) []byte {
	return append(b, byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// Escape maps (HAProxy log.c init_log): header captures escape control
// bytes, bytes >= 127 and "#{|}; the request line escapes control bytes,
// bytes >= 127, '"' and '#'. Escaped bytes become #XX.
var hdrEscape, urlEscape [256]bool

func init() {
	for i := 0; i < 32; i++ {
		hdrEscape[i], urlEscape[i] = true, true
	}
	for i := 127; i < 256; i++ {
		hdrEscape[i], urlEscape[i] = true, true
	}
	for _, c := range []byte("\"#{|}") {
		hdrEscape[c] = true
	}
	for _, c := range []byte("\"#") {
		urlEscape[c] = true
	}
}

const hexDigits = "0123456789ABCDEF"

func appendEscaped(dst, v []byte, m *[256]bool) []byte {
	i := 0
	for i < len(v) && !m[v[i]] {
		i++
	}
	dst = append(dst, v[:i]...)
	for _, c := range v[i:] {
		if m[c] {
			dst = append(dst, '#', hexDigits[c>>4], hexDigits[c&15])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

func requestParts(line []byte) (method, uri, version []byte) {
	sp1 := indexByte(line, ' ')
	if sp1 < 0 {
		return line, nil, nil
	}
	method = line[:sp1]
	rest := line[sp1+1:]
	sp2 := lastIndexByte(rest, ' ')
	if sp2 < 0 {
		return method, rest, nil
	}
	return method, rest[:sp2], rest[sp2+1:]
}

// Append encodes r with f onto dst.
func (f *Format) appendRecord(dst []byte, r *logrec.Record, c *encodeCtx) []byte {
	if f.fast {
		return appendHTTPLog(dst, r, c)
	}
	lastSpace := true // HAProxy drops leading separators and collapses runs
	for i := range f.items {
		it := &f.items[i]
		if it.id == vSep {
			if !lastSpace {
				dst = append(dst, ' ')
				lastSpace = true
			}
			continue
		}
		before := len(dst)
		if it.quote && emptyText(it.id, r) {
			// HAProxy's lf_text: a quoted absent text is "", not "-".
			dst = append(dst, '"', '"')
			lastSpace = false
			continue
		}
		if it.quote {
			dst = append(dst, '"')
		}
		start := len(dst)
		dst = appendVar(dst, it, r, c)
		if it.esc {
			dst = escapeFrom(dst, start)
		}
		if it.quote {
			dst = append(dst, '"')
		}
		if len(dst) > before {
			lastSpace = false
		}
	}
	return dst
}

func appendTimer(dst []byte, v int32) []byte { return strconv.AppendInt(dst, int64(v), 10) }

func sumTimers(vs ...int32) int32 {
	var s int32
	for _, v := range vs {
		if v < 0 {
			return -1
		}
		s += v
	}
	return s
}

func requestNS(r *logrec.Record) int64 {
	if r.Request != 0 {
		return r.Request
	}
	return r.Accept
}

func appendVar(dst []byte, it *item, r *logrec.Record, c *encodeCtx) []byte {
	if it.hex {
		if out, ok := appendHexVar(dst, it, r, c); ok {
			return out
		}
	}
	switch it.id {
	case vLiteral:
		return append(dst, it.lit...)
	case vCI:
		if !r.Client.IsValid() {
			return append(dst, '-')
		}
		return c.anon.appendAddr(dst, r.Client.Addr(), c.now)
	case vCP:
		if !r.Client.IsValid() {
			return append(dst, '-')
		}
		return strconv.AppendUint(dst, uint64(r.Client.Port()), 10)
	case vFI:
		return appendAddrOrDash(dst, r.FrontendAddr)
	case vFP:
		return appendPortOrDash(dst, r.FrontendAddr)
	case vSI:
		return appendAddrOrDash(dst, r.ServerAddr)
	case vSP:
		return appendPortOrDash(dst, r.ServerAddr)
	case vBI:
		return appendAddrOrDash(dst, r.BackendSrc)
	case vBP:
		return appendPortOrDash(dst, r.BackendSrc)
	case vT:
		return c.dates.appendDate(dst, r.Accept, c.loc)
	case vTR:
		return c.dates.appendDate(dst, requestNS(r), c.loc)
	case vTRG:
		return c.dates.appendGMT(dst, requestNS(r))
	case vTGMT:
		return c.dates.appendGMT(dst, r.Accept)
	case vTS:
		return strconv.AppendInt(dst, floorDiv(r.Accept, 1e9), 10)
	case vMS:
		return append3(dst, int((r.Accept-floorDiv(r.Accept, 1e9)*1e9)/1e6))
	case vSSLV:
		if r.TLSVersion == 0 {
			return append(dst, '-')
		}
		return append(dst, tlsx.VersionName(r.TLSVersion)...)
	case vSSLC:
		if r.TLSCipher == 0 {
			return append(dst, '-')
		}
		return append(dst, tlsx.CipherName(r.TLSCipher)...)
	case vFT:
		dst = append(dst, r.Frontend...)
		if r.TLS {
			dst = append(dst, '~')
		}
		return dst
	case vF:
		return append(dst, r.Frontend...)
	case vB:
		if r.Backend == "" {
			return append(dst, r.Frontend...)
		}
		return append(dst, r.Backend...)
	case vS:
		if r.Server == "" {
			return append(dst, "<NOSRV>"...)
		}
		return append(dst, r.Server...)
	case vTh:
		return appendTimer(dst, r.Th)
	case vTi:
		return appendTimer(dst, r.Ti)
	case vTRt:
		return appendTimer(dst, r.TR)
	case vTq:
		return appendTimer(dst, sumTimers(r.Th, r.Ti, r.TR))
	case vTw:
		return appendTimer(dst, r.Tw)
	case vTc:
		return appendTimer(dst, r.Tc)
	case vTr:
		return appendTimer(dst, r.Tr)
	case vTa:
		return appendTimer(asap(dst, r), r.Ta)
	case vTt:
		return appendTimer(asap(dst, r), ttOf(r))
	case vST:
		return strconv.AppendInt(dst, int64(r.Status), 10)
	case vBytes:
		return strconv.AppendInt(asap(dst, r), r.BytesOut, 10)
	case vU:
		return strconv.AppendInt(dst, r.BytesIn, 10)
	case vCC:
		return appendCookie(dst, r.ReqCookie.Bytes(), c)
	case vCS:
		return appendCookie(dst, r.ResCookie.Bytes(), c)
	case vTS2:
		return append(dst, r.Term[:2]...)
	case vTSC:
		return append(dst, r.Term[:]...)
	case vAC:
		return strconv.AppendInt(dst, int64(r.ActConn), 10)
	case vFC:
		return strconv.AppendInt(dst, int64(r.FeConn), 10)
	case vBC:
		return strconv.AppendInt(dst, int64(r.BeConn), 10)
	case vSC:
		return strconv.AppendInt(dst, int64(r.SrvConn), 10)
	case vRC:
		if r.Redispatched {
			dst = append(dst, '+')
		}
		return strconv.AppendInt(dst, int64(r.Retries), 10)
	case vSQ:
		return strconv.AppendInt(dst, int64(r.SrvQueue), 10)
	case vBQ:
		return strconv.AppendInt(dst, int64(r.BackendQueue), 10)
	case vHR:
		return appendCaptures(dst, &r.ReqHeaders, c.reqKinds, c, false)
	case vHS:
		return appendCaptures(dst, &r.ResHeaders, c.resKinds, c, false)
	case vHRL:
		return appendCaptureList(dst, &r.ReqHeaders, c.reqKinds, c, it.qlist)
	case vHSL:
		return appendCaptureList(dst, &r.ResHeaders, c.resKinds, c, it.qlist)
	case vR:
		if r.RequestLine.Len() == 0 {
			return append(dst, "<BADREQ>"...)
		}
		return appendRequest(dst, r.RequestLine.Bytes(), c)
	case vHM, vHU, vHP, vHV:
		m, u, v := requestParts(r.RequestLine.Bytes())
		var part []byte
		switch it.id {
		case vHM:
			part = m
		case vHU:
			part = u
		case vHP:
			part = u
			if q := indexByte(u, '?'); q >= 0 {
				part = u[:q]
			}
		case vHV:
			part = v
		}
		if len(part) == 0 {
			return append(dst, '-')
		}
		return appendRequest(dst, part, c)
	case vSample:
		return appendSample(dst, it, r, c)
	case vPID:
		return strconv.AppendInt(dst, int64(c.pid), 10)
	case vH:
		return append(dst, c.host...)
	}
	return appendMoreVar(dst, it, r, c)
}

func appendAddrOrDash(dst []byte, ap netip.AddrPort) []byte {
	if !ap.IsValid() {
		return append(dst, '-')
	}
	return ap.Addr().AppendTo(dst)
}

func appendPortOrDash(dst []byte, ap netip.AddrPort) []byte {
	if !ap.IsValid() {
		return append(dst, '-')
	}
	return strconv.AppendUint(dst, uint64(ap.Port()), 10)
}

func appendCookie(dst, v []byte, c *encodeCtx) []byte {
	if len(v) == 0 {
		return append(dst, '-')
	}
	if c.anon.active() {
		// A captured cookie is NAME=VALUE: `anonymize params NAME` masks
		// the value, and the value may hold an address or personal data.
		c.scratch = appendEscaped(c.scratch[:0], v, &hdrEscape)
		return c.anon.appendText(dst, c.scratch, c.now)
	}
	return appendEscaped(dst, v, &hdrEscape)
}

// appendCaptures writes "{v1|v2}"; nothing when no capture is
// configured, as HAProxy does.
func appendCaptures(dst []byte, cp *logrec.Captures, kinds []headerKind, c *encodeCtx, _ bool) []byte {
	n := cp.Len()
	if n == 0 {
		return dst
	}
	dst = append(dst, '{')
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, '|')
		}
		dst = appendCaptureValue(dst, cp.At(i), i, kinds, c)
	}
	return append(dst, '}')
}

// appendCaptureValue writes one captured header value, escaped (and
// anonymised when the log target asks for it).
func appendCaptureValue(dst, v []byte, i int, kinds []headerKind, c *encodeCtx) []byte {
	kind := hdrText
	if i < len(kinds) {
		kind = kinds[i]
	}
	// Escape first, then anonymise the escaped text: the audit scans
	// the text as written, so both must see the same bytes (an escape
	// such as #22 next to ".1.2.3" would otherwise form an address).
	if c.anon.active() {
		c.scratch = appendEscaped(c.scratch[:0], v, &hdrEscape)
		return c.anon.appendHeader(dst, c.scratch, kind, c.now)
	}
	return appendEscaped(dst, v, &hdrEscape)
}

func appendRequest(dst, v []byte, c *encodeCtx) []byte {
	if c.anon.active() {
		c.scratch = appendEscaped(c.scratch[:0], v, &urlEscape)
		return c.anon.appendText(dst, c.scratch, c.now)
	}
	return appendEscaped(dst, v, &urlEscape)
}

// asap prefixes a partial value with '+' (option logasap), as HAProxy.
func asap(dst []byte, r *logrec.Record) []byte {
	if r.ASAP {
		dst = append(dst, '+')
	}
	return dst
}
