// Package acl evaluates HAProxy access control lists and the conditions
// (`if`/`unless`) built from them, with HAProxy's semantics:
//
//   - an ACL with several values matches when any value matches;
//   - several `acl` lines with the same name are ORed (see Set);
//   - a condition is a list of terms ANDed implicitly, groups separated by
//     `||` or `or` are ORed, `!` negates the next term, `{ ... }` declares an
//     anonymous ACL in place, and HAProxy's predefined ACLs (TRUE, METH_GET,
//     LOCALHOST, ...) are available unless a user ACL of the same name exists.
//
// Everything is compiled when the configuration is loaded (values lowered
// for -i, regular expressions compiled, networks parsed), so evaluating a
// Condition against a request allocates nothing.
package acl

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/diag"
)

// Matcher is a compiled ACL: it reports whether a request matches.
// A nil request (mode tcp without an HTTP view) matches no HTTP criterion.
type Matcher interface {
	Match(req core.Request) bool
}

// Error is a problem in an ACL or a condition. Criterion is the fetch or ACL
// name concerned; Token is the index of the offending token in the slice
// given to ParseCondition (-1 when not applicable), so the configuration
// layer can point at the right column.
type Error struct {
	Criterion string
	Token     int
	Msg       string
	Hint      string
}

func (e *Error) Error() string {
	s := "acl: " + e.Criterion + ": " + e.Msg
	if e.Criterion == "" {
		s = "acl: " + e.Msg
	}
	if e.Hint != "" {
		s += " (hint: " + e.Hint + ")"
	}
	return s
}

// fetch identifies what part of the request a criterion samples.
type fetch uint8

const (
	fPath fetch = iota
	fURL
	fMethod
	fHdr       // every comma-separated value of the named header(s)
	fHdrCnt    // number of values of the named header
	fHdrVal    // integer value of the named header
	fURLParam  // value(s) of a query-string parameter
	fSrc       // client address
	fDst       // local address
	fSrcPort   // client port
	fDstPort   // local port
	fSSL       // ssl_fc
	fAlways    // always_true / always_false (bool constant in matcher)
	fProtoHTTP // req.proto_http
	fFullHdr   // every occurrence of the named header, whole line (req.fhdr)
	fCook      // value(s) of a named cookie in Cookie headers
	fBase      // Host header value followed by the path
	fQuery     // the query string
)

// kind is how samples are compared with the ACL's values (HAProxy's -m).
type kind uint8

const (
	mStr kind = iota
	mBeg
	mEnd
	mSub
	mReg
	mDom
	mDir
	mFound
	mLen
	mInt
	mIP
	mBool
)

var kindNames = map[string]kind{
	"str": mStr, "beg": mBeg, "end": mEnd, "sub": mSub, "reg": mReg, "dom": mDom,
	"dir": mDir, "found": mFound, "len": mLen, "int": mInt, "ip": mIP, "bool": mBool,
}

// criterion describes one HAProxy fetch keyword usable in an ACL.
type criterion struct {
	fetch   fetch
	kind    kind // default match method
	needArg bool // takes a (name) argument
	optArg  bool // argument optional (hdr without a name = any header)
	// sample type: string fetches accept str/beg/.../len/found; int fetches
	// accept int/found/bool; ip fetches accept ip/found.
	typ byte // 's', 'i', 'a' (address), 'b' (bool)
}

var criteria = map[string]criterion{
	"path":      {fetch: fPath, kind: mStr, typ: 's'},
	"path_beg":  {fetch: fPath, kind: mBeg, typ: 's'},
	"path_end":  {fetch: fPath, kind: mEnd, typ: 's'},
	"path_sub":  {fetch: fPath, kind: mSub, typ: 's'},
	"path_reg":  {fetch: fPath, kind: mReg, typ: 's'},
	"path_dir":  {fetch: fPath, kind: mDir, typ: 's'},
	"path_dom":  {fetch: fPath, kind: mDom, typ: 's'},
	"path_len":  {fetch: fPath, kind: mLen, typ: 's'},
	"url":       {fetch: fURL, kind: mStr, typ: 's'},
	"url_beg":   {fetch: fURL, kind: mBeg, typ: 's'},
	"url_end":   {fetch: fURL, kind: mEnd, typ: 's'},
	"url_sub":   {fetch: fURL, kind: mSub, typ: 's'},
	"url_reg":   {fetch: fURL, kind: mReg, typ: 's'},
	"url_dir":   {fetch: fURL, kind: mDir, typ: 's'},
	"url_dom":   {fetch: fURL, kind: mDom, typ: 's'},
	"url_len":   {fetch: fURL, kind: mLen, typ: 's'},
	"method":    {fetch: fMethod, kind: mStr, typ: 's'},
	"hdr":       {fetch: fHdr, kind: mStr, needArg: true, optArg: true, typ: 's'},
	"req.hdr":   {fetch: fHdr, kind: mStr, needArg: true, optArg: true, typ: 's'},
	"hdr_beg":   {fetch: fHdr, kind: mBeg, needArg: true, optArg: true, typ: 's'},
	"hdr_end":   {fetch: fHdr, kind: mEnd, needArg: true, optArg: true, typ: 's'},
	"hdr_sub":   {fetch: fHdr, kind: mSub, needArg: true, optArg: true, typ: 's'},
	"hdr_reg":   {fetch: fHdr, kind: mReg, needArg: true, optArg: true, typ: 's'},
	"hdr_dom":   {fetch: fHdr, kind: mDom, needArg: true, optArg: true, typ: 's'},
	"hdr_dir":   {fetch: fHdr, kind: mDir, needArg: true, optArg: true, typ: 's'},
	"hdr_len":   {fetch: fHdr, kind: mLen, needArg: true, optArg: true, typ: 's'},
	"hdr_cnt":   {fetch: fHdrCnt, kind: mInt, needArg: true, optArg: true, typ: 'i'},
	"hdr_val":   {fetch: fHdrVal, kind: mInt, needArg: true, typ: 'i'},
	"url_param": {fetch: fURLParam, kind: mStr, needArg: true, typ: 's'},
	"urlp":      {fetch: fURLParam, kind: mStr, needArg: true, typ: 's'},
	"urlp_beg":  {fetch: fURLParam, kind: mBeg, needArg: true, typ: 's'},
	"urlp_end":  {fetch: fURLParam, kind: mEnd, needArg: true, typ: 's'},
	"urlp_sub":  {fetch: fURLParam, kind: mSub, needArg: true, typ: 's'},
	"urlp_reg":  {fetch: fURLParam, kind: mReg, needArg: true, typ: 's'},
	"urlp_len":  {fetch: fURLParam, kind: mLen, needArg: true, typ: 's'},
	"src":       {fetch: fSrc, kind: mIP, typ: 'a'},
	"dst":       {fetch: fDst, kind: mIP, typ: 'a'},
	"src_port":  {fetch: fSrcPort, kind: mInt, typ: 'i'},
	"dst_port":  {fetch: fDstPort, kind: mInt, typ: 'i'},
	"ssl_fc":    {fetch: fSSL, kind: mBool, typ: 'b'},
	// always_true/always_false are told apart by the parser.
	"always_true":    {fetch: fAlways, kind: mBool, typ: 'b'},
	"always_false":   {fetch: fAlways, kind: mBool, typ: 'b'},
	"req.proto_http": {fetch: fProtoHTTP, kind: mBool, typ: 'b'},
	"req.fhdr":       {fetch: fFullHdr, kind: mStr, needArg: true, typ: 's'},
	"cook":           {fetch: fCook, kind: mStr, needArg: true, typ: 's'},
	"req.cook":       {fetch: fCook, kind: mStr, needArg: true, typ: 's'},
	"cook_beg":       {fetch: fCook, kind: mBeg, needArg: true, typ: 's'},
	"cook_end":       {fetch: fCook, kind: mEnd, needArg: true, typ: 's'},
	"cook_sub":       {fetch: fCook, kind: mSub, needArg: true, typ: 's'},
	"cook_reg":       {fetch: fCook, kind: mReg, needArg: true, typ: 's'},
	"cook_len":       {fetch: fCook, kind: mLen, needArg: true, typ: 's'},
	"base":           {fetch: fBase, kind: mStr, typ: 's'},
	"base_beg":       {fetch: fBase, kind: mBeg, typ: 's'},
	"base_end":       {fetch: fBase, kind: mEnd, typ: 's'},
	"base_sub":       {fetch: fBase, kind: mSub, typ: 's'},
	"base_reg":       {fetch: fBase, kind: mReg, typ: 's'},
	"base_dir":       {fetch: fBase, kind: mDir, typ: 's'},
	"base_dom":       {fetch: fBase, kind: mDom, typ: 's'},
	"base_len":       {fetch: fBase, kind: mLen, typ: 's'},
	"query":          {fetch: fQuery, kind: mStr, typ: 's'},
}

// unsupported are HAProxy fetches people use in ACLs that varde cannot
// evaluate on a request view, with what to do instead.
var unsupported = map[string]string{
	"ssl_fc_sni":  "the TLS server name is not exposed to ACLs yet; route on hdr(host) instead",
	"req.ssl_sni": "varde does not inspect TLS ClientHello in mode tcp; terminate TLS and use hdr(host)",
	"nbsrv":       "backend state is not visible to ACLs; varde already answers 503 or uses backups when no server is up",
	"status":      "response ACLs are not supported; use http-response rules without a status condition",
}

// Criteria lists the fetch keywords this package understands, sorted.
func Criteria() []string {
	out := make([]string, 0, len(criteria))
	for k := range criteria {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type intOp uint8

const (
	opEq intOp = iota
	opGe
	opGt
	opLe
	opLt
	opRange
)

type intPat struct {
	op     intOp
	lo, hi int64
}

func (p intPat) match(v int64) bool {
	switch p.op {
	case opGe:
		return v >= p.lo
	case opGt:
		return v > p.lo
	case opLe:
		return v <= p.lo
	case opLt:
		return v < p.lo
	case opRange:
		return v >= p.lo && v <= p.hi
	}
	return v == p.lo
}

// sample is a compiled single ACL line (or anonymous ACL).
type sample struct {
	crit     string
	fetch    fetch
	kind     kind
	fold     bool
	constant bool   // value of always_true/always_false
	arg      string // header or parameter name (lowered for headers)
	strs     [][]byte
	res      []*regexp.Regexp
	nets     []netip.Prefix
	ints     []intPat
	noValues bool // string/ip criterion without values: never matches (HAProxy warns)
	// method patterns: whether each is a well-known method, as written
	methodKnown []bool
	methodRaw   []string
}

// Parse compiles one ACL: a criterion such as "path_beg" or "hdr(host)",
// its flags (-i, -m METHOD, -f FILE, -n, -u ID, --) and its values.
func Parse(criterionText string, flags []string, values []string) (Matcher, error) {
	name, arg, hasArg, err := splitCriterion(criterionText)
	if err != nil {
		return nil, err
	}
	c, ok := criteria[name]
	if !ok {
		if hint, known := unsupported[name]; known {
			return nil, &Error{Criterion: name, Token: -1, Msg: "HAProxy criterion not supported by varde", Hint: hint}
		}
		return nil, &Error{Criterion: name, Token: -1, Msg: "unknown criterion", Hint: suggest(name)}
	}
	if c.needArg && !hasArg && !c.optArg {
		return nil, &Error{Criterion: name, Token: -1, Msg: "missing argument", Hint: fmt.Sprintf("write %s(NAME)", name)}
	}
	if !c.needArg && hasArg {
		return nil, &Error{Criterion: name, Token: -1, Msg: "takes no argument in parentheses", Hint: "remove (" + arg + ")"}
	}
	s := &sample{crit: name, fetch: c.fetch, kind: c.kind, arg: arg}
	if c.fetch == fHdr || c.fetch == fHdrCnt || c.fetch == fHdrVal || c.fetch == fFullHdr {
		s.arg = strings.ToLower(arg)
	}
	if name == "always_true" {
		s.constant = true
	}
	vals := append([]string(nil), values...)
	for i := 0; i < len(flags); i++ {
		switch f := flags[i]; f {
		case "-i":
			s.fold = true
		case "-n", "--":
		case "-m":
			if i+1 >= len(flags) {
				return nil, &Error{Criterion: name, Token: -1, Msg: "-m needs a match method", Hint: "one of str, beg, end, sub, reg, dom, dir, found, len, int, ip, bool"}
			}
			i++
			k, ok := kindNames[flags[i]]
			if !ok {
				return nil, &Error{Criterion: name, Token: -1, Msg: fmt.Sprintf("unknown match method %q", flags[i]), Hint: "one of str, beg, end, sub, reg, dom, dir, found, len, int, ip, bool"}
			}
			s.kind = k
		case "-u", "-M":
			if f == "-M" {
				return nil, &Error{Criterion: name, Token: -1, Msg: "-M (map files as patterns) is not supported", Hint: "list the values with -f FILE instead"}
			}
			i++ // -u ID: a unique id for the runtime API; ignored
		case "-f":
			if i+1 >= len(flags) {
				return nil, &Error{Criterion: name, Token: -1, Msg: "-f needs a file name", Hint: "-f /etc/haproxy/blocklist.lst"}
			}
			i++
			fv, err := readPatternFile(flags[i])
			if err != nil {
				return nil, &Error{Criterion: name, Token: -1, Msg: err.Error(), Hint: "the file lists one value per line; # starts a comment"}
			}
			vals = append(vals, fv...)
		default:
			return nil, &Error{Criterion: name, Token: -1, Msg: fmt.Sprintf("unknown flag %q", f), Hint: "flags are -i, -m METHOD, -f FILE, -n, -u ID and --"}
		}
	}
	if err := s.compile(c, vals); err != nil {
		return nil, err
	}
	return s, nil
}

// ParseWords compiles an ACL written as words: criterion, flags, values
// (the part of an `acl NAME ...` line after NAME, or the inside of `{ }`).
func ParseWords(words []string) (Matcher, error) {
	if len(words) == 0 {
		return nil, &Error{Token: -1, Msg: "missing criterion", Hint: "e.g. path_beg /api"}
	}
	flags, values := splitFlags(words[1:])
	return Parse(words[0], flags, values)
}

// splitFlags separates leading flags (and their arguments) from values.
func splitFlags(words []string) (flags, values []string) {
	i := 0
	for i < len(words) {
		w := words[i]
		if w == "--" {
			i++
			break
		}
		if len(w) < 2 || w[0] != '-' {
			break
		}
		flags = append(flags, w)
		if (w == "-m" || w == "-f" || w == "-u" || w == "-M") && i+1 < len(words) {
			flags = append(flags, words[i+1])
			i++
		}
		i++
	}
	return flags, words[i:]
}

func splitCriterion(text string) (name, arg string, hasArg bool, err error) {
	open := strings.IndexByte(text, '(')
	if open < 0 {
		return text, "", false, nil
	}
	if !strings.HasSuffix(text, ")") {
		return "", "", false, &Error{Criterion: text, Token: -1, Msg: "unbalanced parenthesis", Hint: "write e.g. hdr(host)"}
	}
	name, arg = text[:open], text[open+1:len(text)-1]
	// HAProxy accepts extra comma-separated arguments (occurrence numbers);
	// varde looks at every occurrence, so only the name matters.
	if i := strings.IndexByte(arg, ','); i >= 0 {
		arg = arg[:i]
	}
	return name, strings.TrimSpace(arg), true, nil
}

func readPatternFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading pattern file: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading pattern file %s: %w", path, err)
	}
	return out, nil
}

func (s *sample) compile(c criterion, vals []string) error {
	// Which match methods make sense for which sample type.
	switch c.typ {
	case 's':
		if s.kind == mIP || s.kind == mBool {
			return &Error{Criterion: s.crit, Token: -1, Msg: "match method not usable on a string sample", Hint: "use str, beg, end, sub, reg, dom, dir, len or found"}
		}
	case 'i':
		switch s.kind {
		case mInt, mFound, mBool:
		default:
			return &Error{Criterion: s.crit, Token: -1, Msg: "match method not usable on an integer sample", Hint: "compare with e.g. `gt 0`, `eq 2` or `1:5`"}
		}
	case 'a':
		if s.kind != mIP && s.kind != mFound {
			return &Error{Criterion: s.crit, Token: -1, Msg: "match method not usable on an address", Hint: "give IP addresses or CIDR networks"}
		}
	case 'b':
		if s.kind != mBool && s.kind != mFound {
			return &Error{Criterion: s.crit, Token: -1, Msg: "match method not usable on a boolean", Hint: "write the criterion alone, without -m"}
		}
	}
	switch s.kind {
	case mFound, mBool:
		if len(vals) > 0 {
			return &Error{Criterion: s.crit, Token: -1, Msg: fmt.Sprintf("takes no value (got %q)", vals[0]), Hint: "a boolean test is written without values"}
		}
		return nil
	case mLen, mInt:
		ps, err := parseInts(vals)
		if err != nil {
			return &Error{Criterion: s.crit, Token: -1, Msg: err.Error(), Hint: "integers are N, eq|ge|gt|le|lt N, or a range N:M"}
		}
		s.ints = ps
	case mIP:
		for _, v := range vals {
			p, err := parseNet(v)
			if err != nil {
				return &Error{Criterion: s.crit, Token: -1, Msg: err.Error(), Hint: "give an IPv4/IPv6 address or a network like 10.0.0.0/8 or 2001:db8::/32"}
			}
			s.nets = append(s.nets, p)
		}
	case mReg:
		for _, v := range vals {
			expr := v
			if s.fold {
				expr = "(?i)" + v
			}
			re, err := regexp.Compile(expr)
			if err != nil {
				return &Error{Criterion: s.crit, Token: -1, Msg: fmt.Sprintf("bad regular expression %q: %v", v, err), Hint: "varde uses Go RE2 syntax: no backreferences or lookarounds"}
			}
			s.res = append(s.res, re)
		}
	default:
		for _, v := range vals {
			if s.fetch == fMethod {
				s.methodKnown = append(s.methodKnown, isWellKnownMethod([]byte(v)))
				s.methodRaw = append(s.methodRaw, v)
			}
			if s.fold {
				v = strings.ToLower(v)
			}
			s.strs = append(s.strs, []byte(v))
		}
	}
	s.noValues = len(vals) == 0
	return nil
}

func parseInts(vals []string) ([]intPat, error) {
	var out []intPat
	op := opEq
	for _, v := range vals {
		switch v {
		case "eq":
			op = opEq
			continue
		case "ge":
			op = opGe
			continue
		case "gt":
			op = opGt
			continue
		case "le":
			op = opLe
			continue
		case "lt":
			op = opLt
			continue
		}
		if lo, hi, ok := strings.Cut(v, ":"); ok {
			p := intPat{op: opRange, lo: -1 << 63, hi: 1<<63 - 1}
			var err error
			if lo != "" {
				if p.lo, err = strconv.ParseInt(lo, 10, 64); err != nil {
					return nil, fmt.Errorf("bad integer range %q", v)
				}
			}
			if hi != "" {
				if p.hi, err = strconv.ParseInt(hi, 10, 64); err != nil {
					return nil, fmt.Errorf("bad integer range %q", v)
				}
			}
			out = append(out, p)
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer %q", v)
		}
		out = append(out, intPat{op: op, lo: n})
	}
	return out, nil
}

func parseNet(v string) (netip.Prefix, error) {
	if addr, mask, ok := strings.Cut(v, "/"); ok && strings.Contains(mask, ".") {
		// 10.0.0.0/255.0.0.0
		a, err1 := netip.ParseAddr(addr)
		m, err2 := netip.ParseAddr(mask)
		if err1 != nil || err2 != nil || !a.Is4() || !m.Is4() {
			return netip.Prefix{}, fmt.Errorf("bad network %q", v)
		}
		mb := m.As4()
		bits := 0
		for _, b := range mb {
			for i := 7; i >= 0; i-- {
				if b&(1<<i) == 0 {
					goto done
				}
				bits++
			}
		}
	done:
		return a.Prefix(bits)
	}
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad network %q", v)
		}
		p = p.Masked()
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad address %q", v)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Match implements Matcher.
func (s *sample) Match(req core.Request) bool {
	switch s.fetch {
	case fAlways:
		return s.constant
	case fProtoHTTP:
		return req != nil && len(req.Method()) > 0
	}
	if req == nil {
		return false
	}
	switch s.fetch {
	case fPath:
		return s.matchBytes(req.Path())
	case fURL:
		return s.matchBytes(req.URI())
	case fMethod:
		return s.matchMethod(req.Method())
	case fHdr:
		return s.matchHeader(req)
	case fFullHdr:
		for i, nh := 0, req.NumHeaders(); i < nh; i++ {
			name, value := req.HeaderAt(i)
			if equalFoldLower(name, s.arg) && (s.kind == mFound || s.matchBytes(trimSpace(value))) {
				return true
			}
		}
		return false
	case fCook:
		return s.matchCookie(req)
	case fQuery:
		if q := req.Query(); q != nil || bytes.IndexByte(req.URI(), '?') >= 0 {
			return s.matchBytes(q)
		}
		return false
	case fBase:
		return s.matchBase(req)
	case fHdrCnt:
		n := int64(0)
		for i, nh := 0, req.NumHeaders(); i < nh; i++ {
			name, value := req.HeaderAt(i)
			if s.arg == "" || equalFoldLower(name, s.arg) {
				n += int64(countValues(value))
			}
		}
		return s.matchInt(n, true)
	case fHdrVal:
		for i, nh := 0, req.NumHeaders(); i < nh; i++ {
			name, value := req.HeaderAt(i)
			if !equalFoldLower(name, s.arg) {
				continue
			}
			if v, ok := atoi(trimSpace(value)); ok && s.matchInt(v, true) {
				return true
			}
		}
		return false
	case fURLParam:
		q := req.Query()
		found := false
		for len(q) > 0 {
			var kv []byte
			if i := bytes.IndexByte(q, '&'); i >= 0 {
				kv, q = q[:i], q[i+1:]
			} else {
				kv, q = q, nil
			}
			if len(kv) > len(s.arg) && kv[len(s.arg)] == '=' && string(kv[:len(s.arg)]) == s.arg {
				found = true
				if s.matchBytes(kv[len(s.arg)+1:]) {
					return true
				}
			}
		}
		return found && s.kind == mFound
	case fSrc:
		return s.matchAddr(req.Src().Addr())
	case fDst:
		return s.matchAddr(req.Dst().Addr())
	case fSrcPort:
		return s.matchInt(int64(req.Src().Port()), true)
	case fDstPort:
		return s.matchInt(int64(req.Dst().Port()), true)
	case fSSL:
		return req.TLS()
	}
	return false
}

// wellKnownMethods are the methods HAProxy parses into a method id.
var wellKnownMethods = []string{"OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT"}

func isWellKnownMethod(m []byte) bool {
	for _, k := range wellKnownMethods {
		if string(m) == k {
			return true
		}
	}
	return false
}

// matchMethod follows HAProxy's pat_match_meth: a pattern naming a
// well-known method matches that method exactly (so `-i` does not make
// "post" match POST), and any other pattern is compared as a string, with
// `-i` if given, against requests whose method is not a well-known one.
func (s *sample) matchMethod(m []byte) bool {
	switch s.kind {
	case mStr:
	case mReg, mBeg, mEnd, mSub, mDom, mDir, mLen, mFound:
		return s.matchBytes(m)
	}
	known := isWellKnownMethod(m)
	for i, p := range s.strs {
		if s.methodKnown[i] {
			if known && string(m) == s.methodRaw[i] {
				return true
			}
			continue
		}
		if !known && len(m) == len(p) && s.eq(m, p) {
			return true
		}
	}
	return false
}

// matchCookie looks at every "name=value" pair of every Cookie header.
func (s *sample) matchCookie(req core.Request) bool {
	for i, nh := 0, req.NumHeaders(); i < nh; i++ {
		name, value := req.HeaderAt(i)
		if !equalFoldLower(name, "cookie") {
			continue
		}
		for len(value) > 0 {
			var kv []byte
			if j := bytes.IndexByte(value, ';'); j >= 0 {
				kv, value = value[:j], value[j+1:]
			} else {
				kv, value = value, nil
			}
			kv = trimSpace(kv)
			if len(kv) > len(s.arg) && kv[len(s.arg)] == '=' && string(kv[:len(s.arg)]) == s.arg {
				if s.kind == mFound || s.matchBytes(kv[len(s.arg)+1:]) {
					return true
				}
			}
		}
	}
	return false
}

// matchBase matches HAProxy's base: the Host header's value followed by the
// path. The two are joined in a stack buffer; a very long base (over 1 KiB)
// or a regular expression (base_reg) costs one allocation.
func (s *sample) matchBase(req core.Request) bool {
	host, ok := req.Header("host")
	if !ok {
		return false
	}
	if s.kind == mReg {
		// The regexp engine keeps its input, so the join escapes anyway.
		return s.matchBytes(append(append([]byte(nil), trimSpace(host)...), req.Path()...))
	}
	var buf [1024]byte
	b := append(append(buf[:0], trimSpace(host)...), req.Path()...)
	return s.matchPlain(b)
}

func (s *sample) matchAddr(a netip.Addr) bool {
	if s.kind == mFound {
		return a.IsValid()
	}
	a = a.Unmap()
	for _, p := range s.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (s *sample) matchInt(v int64, present bool) bool {
	switch s.kind {
	case mFound:
		return present
	case mBool:
		return v != 0
	}
	for _, p := range s.ints {
		if p.match(v) {
			return true
		}
	}
	return false
}

// matchHeader tries every comma-separated value of every occurrence of the
// header, as HAProxy's hdr() fetch does in an ACL.
func (s *sample) matchHeader(req core.Request) bool {
	for i, nh := 0, req.NumHeaders(); i < nh; i++ {
		name, value := req.HeaderAt(i)
		if s.arg != "" && !equalFoldLower(name, s.arg) {
			continue
		}
		if s.kind == mFound {
			return true
		}
		for {
			var v []byte
			if j := bytes.IndexByte(value, ','); j >= 0 {
				v, value = value[:j], value[j+1:]
			} else {
				v, value = value, nil
			}
			if s.matchBytes(trimSpace(v)) {
				return true
			}
			if value == nil {
				break
			}
		}
	}
	return false
}

func (s *sample) matchBytes(b []byte) bool {
	if s.kind == mReg {
		for _, re := range s.res {
			if re.Match(b) {
				return true
			}
		}
		return false
	}
	return s.matchPlain(b)
}

// matchPlain is matchBytes for every method but regular expressions; b
// does not escape, so callers may pass a stack buffer.
func (s *sample) matchPlain(b []byte) bool {
	switch s.kind {
	case mFound:
		return true
	case mLen:
		return s.matchInt(int64(len(b)), true)
	}
	for _, p := range s.strs {
		if s.matchPattern(b, p) {
			return true
		}
	}
	return false
}

func (s *sample) matchPattern(b, p []byte) bool {
	switch s.kind {
	case mStr:
		return len(b) == len(p) && s.eq(b, p)
	case mBeg:
		return len(b) >= len(p) && s.eq(b[:len(p)], p)
	case mEnd:
		return len(b) >= len(p) && s.eq(b[len(b)-len(p):], p)
	case mSub:
		return s.index(b, p, 0) >= 0
	case mDom:
		return s.delimited(b, p, isDomDelim)
	case mDir:
		return s.delimited(b, p, isDirDelim)
	}
	return false
}

func (s *sample) eq(b, p []byte) bool {
	if !s.fold {
		return string(b) == string(p)
	}
	return equalFoldLower(b, string(p))
}

// index finds p in b at or after from; p is already lowered when folding.
func (s *sample) index(b, p []byte, from int) int {
	if !s.fold {
		if i := bytes.Index(b[from:], p); i >= 0 {
			return i + from
		}
		return -1
	}
	for i := from; i+len(p) <= len(b); i++ {
		if equalFoldLower(b[i:i+len(p)], string(p)) {
			return i
		}
	}
	return -1
}

func isDomDelim(c byte) bool { return c == '.' || c == '/' || c == '?' || c == ':' }
func isDirDelim(c byte) bool { return c == '/' || c == '?' }

// delimited implements HAProxy's -m dom / -m dir: the pattern must appear
// in the sample between delimiters or the string's ends. Delimiters at the
// pattern's own ends are ignored, as HAProxy does.
func (s *sample) delimited(b, p []byte, delim func(byte) bool) bool {
	for len(p) > 0 && delim(p[0]) {
		p = p[1:]
	}
	for len(p) > 0 && delim(p[len(p)-1]) {
		p = p[:len(p)-1]
	}
	if len(p) == 0 {
		return false
	}
	for i := s.index(b, p, 0); i >= 0; i = s.index(b, p, i+1) {
		end := i + len(p)
		if (i == 0 || delim(b[i-1])) && (end == len(b) || delim(b[end])) {
			return true
		}
	}
	return false
}

// equalFoldLower compares b with an already lower-case ASCII string.
func equalFoldLower(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func countValues(v []byte) int {
	return bytes.Count(v, []byte{','}) + 1
}

func atoi(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		b = b[1:]
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// suggest finds the closest known criterion for an error hint.
func suggest(name string) string {
	best, bestD := "", 4
	for k := range criteria {
		if d := diag.EditDistance(name, k); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if best != "" {
		return "did you mean " + best + "?"
	}
	return "known criteria: path, path_beg, path_end, path_sub, path_reg, url_param(NAME), hdr(NAME), hdr_beg(NAME), method, src, ssl_fc, ..."
}
