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
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/sample"
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

// keyword is one of HAProxy's ACL keywords: a sample fetch of the
// core/sample registry with a default match method (path_beg is the path
// fetch matched with beg). Any other fetch of the registry is usable too,
// matched according to its output type.
type keyword struct {
	fetch   string
	kind    kind
	needArg bool // HAProxy's ACL form requires a name in parentheses
}

var keywords = func() map[string]keyword {
	k := map[string]keyword{}
	derive := func(prefix, fetch string, needArg bool, suffixes ...string) {
		for _, sfx := range suffixes {
			name, m := prefix, mStr
			if sfx != "" {
				name += "_" + sfx
				m = kindNames[sfx]
			}
			k[name] = keyword{fetch: fetch, kind: m, needArg: needArg}
		}
	}
	all := []string{"", "beg", "end", "sub", "reg", "dir", "dom", "len"}
	derive("path", "path", false, all...)
	derive("url", "url", false, all...)
	derive("base", "base", false, all...)
	derive("hdr", "req.hdr", false, all...)
	derive("url_param", "url_param", true, "")
	derive("urlp", "url_param", true, "", "beg", "end", "sub", "reg", "dir", "dom", "len")
	derive("cook", "req.cook", true, "", "beg", "end", "sub", "reg", "dir", "dom", "len")
	derive("req.cook", "req.cook", false, "")
	derive("req.hdr", "req.hdr", false, "")
	derive("req.fhdr", "req.fhdr", true, "")
	derive("query", "query", false, "")
	k["hdr_cnt"] = keyword{fetch: "req.hdr_cnt", kind: mInt}
	k["hdr_val"] = keyword{fetch: "req.hdr_val", kind: mInt, needArg: true}
	k["method"] = keyword{fetch: "method", kind: mStr}
	return k
}()

// unsupported are HAProxy fetches people use in ACLs that varde cannot
// evaluate on a request view, with what to do instead.
var unsupported = map[string]string{}

// Criteria lists the names usable as an ACL criterion: HAProxy's ACL
// keywords and every fetch usable at request time, sorted.
func Criteria() []string {
	seen := map[string]bool{}
	for k := range keywords {
		seen[k] = true
	}
	for _, n := range sample.FetchNames() {
		if f, _ := sample.LookupFetch(n); f.Where&sample.AtRequest != 0 {
			seen[n] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
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

// matcher is a compiled single ACL line (or anonymous ACL): a sample
// expression and the values its samples are compared with.
type matcher struct {
	crit string
	expr *sample.Expr
	kind kind
	typ  byte // 's' string/binary, 'i' integer, 'a' address, 'b' boolean
	fold bool
	strs [][]byte
	res  []*regexp.Regexp
	nets []netip.Prefix
	ints []intPat
	meth bool // HAProxy's method matching (pat_match_meth)
	// method patterns: whether each is a well-known method, as written
	methodKnown []bool
	methodRaw   []string
	// -f files and -M (file.go)
	files    []string
	mapFiles bool
}

// Parse compiles one ACL: a criterion such as "path_beg", "hdr(host)" or
// any sample expression ("req.hdr(host),lower"), its flags (-i, -m METHOD,
// -f FILE, -n, -u ID, --) and its values.
func Parse(criterionText string, flags []string, values []string) (Matcher, error) {
	m, err := parseCriterion(criterionText)
	if err != nil {
		return nil, err
	}
	vals := append([]string(nil), values...)
	if vals, err = m.parseFlags(flags, vals); err != nil {
		return nil, err
	}
	// HAProxy numbers an anonymous pattern list for every ACL after its
	// files: reserving its id keeps `show map|acl` ids equal to HAProxy's.
	defer sample.CurrentPatRefs().ReserveID()
	if len(m.files) > 0 {
		return newFileMatcher(m, vals)
	}
	if err := m.compile(vals); err != nil {
		return nil, err
	}
	return m, nil
}

// parseCriterion compiles the criterion with core/sample. An ACL keyword
// (path_beg) stands for its fetch (path) and brings its match method,
// unless converters follow: then, as in HAProxy, the method comes from the
// output type.
func parseCriterion(text string) (*matcher, error) {
	name, rest := text, ""
	if i := strings.IndexAny(text, "(,"); i >= 0 {
		name, rest = text[:i], text[i:]
	}
	if hint, known := unsupported[name]; known {
		return nil, &Error{Criterion: name, Token: -1, Msg: "HAProxy criterion not supported by varde", Hint: hint}
	}
	if strings.HasPrefix(rest, "(") && !strings.Contains(rest, ")") {
		return nil, &Error{Criterion: text, Token: -1, Msg: "unbalanced parenthesis", Hint: "write e.g. hdr(host)"}
	}
	kw, isKW := keywords[name]
	fetch := name
	if isKW {
		fetch = kw.fetch
		if kw.needArg && !strings.HasPrefix(rest, "(") {
			return nil, &Error{Criterion: name, Token: -1, Msg: "missing argument", Hint: fmt.Sprintf("write %s(NAME)", name)}
		}
	} else if _, ok := sample.LookupFetch(name); !ok && !strings.HasPrefix(name, sample.DynamicPrefix) {
		// lua.NAME: a script's fetch, checked once the scripts ran.
		return nil, &Error{Criterion: name, Token: -1, Msg: "unknown criterion", Hint: suggest(name)}
	}
	// Empty parentheses are no argument: HAProxy reads always_true() and
	// src() as always_true and src.
	if f, _ := sample.LookupFetch(fetch); f != nil && f.MaxArgs == 0 && strings.HasPrefix(rest, "(") && !strings.HasPrefix(rest, "()") {
		return nil, &Error{Criterion: name, Token: -1, Msg: "takes no argument in parentheses", Hint: "remove the parentheses"}
	}
	expr, err := sample.Parse(fetch+rest, sample.Options{Where: sample.AtRequest | sample.AtResponse, Place: "in ACLs"})
	if err != nil {
		return nil, &Error{Criterion: name, Token: -1, Msg: sampleMsg(err), Hint: sampleHint(err)}
	}
	m := &matcher{crit: name, expr: expr, typ: typeLetter(expr.Out())}
	switch {
	case isKW && !expr.HasConverters():
		m.kind, m.meth = kw.kind, fetch == "method"
	case m.typ == 'b':
		m.kind = mBool
	case m.typ == 'i':
		m.kind = mInt
	case m.typ == 'a':
		m.kind = mIP
	default:
		m.kind = mStr
	}
	return m, nil
}

func sampleMsg(err error) string {
	var se *sample.Error
	if errors.As(err, &se) {
		return se.Msg
	}
	return err.Error()
}

func sampleHint(err error) string {
	var se *sample.Error
	if errors.As(err, &se) {
		return se.Hint
	}
	return ""
}

func typeLetter(t sample.Type) byte {
	switch t {
	case sample.TypeInt:
		return 'i'
	case sample.TypeAddr:
		return 'a'
	case sample.TypeBool:
		return 'b'
	}
	return 's'
}

// parseFlags applies -i, -m, -f...; values read from -f files are added.
func (m *matcher) parseFlags(flags, vals []string) ([]string, error) {
	name := m.crit
	for i := 0; i < len(flags); i++ {
		switch f := flags[i]; f {
		case "-i":
			m.fold = true
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
			m.kind = k
		case "-M":
			m.mapFiles = true // -f files are maps: their keys are the patterns
		case "-u":
			i++ // -u ID: a unique id for the runtime API; ignored
		case "-f":
			if i+1 >= len(flags) {
				return nil, &Error{Criterion: name, Token: -1, Msg: "-f needs a file name", Hint: "-f /etc/haproxy/blocklist.lst"}
			}
			i++
			m.files = append(m.files, flags[i]) // read by newFileMatcher (file.go)
		default:
			return nil, &Error{Criterion: name, Token: -1, Msg: fmt.Sprintf("unknown flag %q", f), Hint: "flags are -i, -m METHOD, -f FILE, -n, -u ID and --"}
		}
	}
	return vals, nil
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
		if (w == "-m" || w == "-f" || w == "-u") && i+1 < len(words) {
			flags = append(flags, words[i+1])
			i++
		}
		i++
	}
	return flags, words[i:]
}

func (s *matcher) compile(vals []string) error {
	// Which match methods make sense for which sample type. A string is
	// read as an address for -m ip, as HAProxy casts it.
	switch s.typ {
	case 's':
		if s.kind == mBool {
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
			if s.meth {
				s.methodKnown = append(s.methodKnown, isWellKnownMethod([]byte(v)))
				s.methodRaw = append(s.methodRaw, v)
			}
			if s.fold {
				v = strings.ToLower(v)
			}
			s.strs = append(s.strs, []byte(v))
		}
	}
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

// evalState is the per-evaluation storage: a Ctx (its own, or the
// caller's for MatchCtx) and a scratch buffer for converters. Pooled, so
// that matching allocates nothing once warm.
type evalState struct {
	own     sample.Ctx
	ctx     *sample.Ctx
	scratch []byte
}

var states = sync.Pool{New: func() any { return &evalState{scratch: make([]byte, 0, 256)} }}

func getState(req core.Request) *evalState {
	st := states.Get().(*evalState)
	st.ctx = &st.own
	sample.RequestCtx(st.ctx, req)
	return st
}

// getStateCtx evaluates in the caller's context (response facts).
func getStateCtx(c *sample.Ctx) *evalState {
	st := states.Get().(*evalState)
	st.ctx = c
	return st
}

func putState(st *evalState) {
	st.own.Req, st.ctx = nil, nil // keep no request alive in the pool
	states.Put(st)
}

// Match implements Matcher. A nil request (mode tcp) has no address, so
// only constant criteria can match it.
func (s *matcher) Match(req core.Request) bool {
	st := getState(req)
	ok := s.matchState(st)
	putState(st)
	return ok
}

func (s *matcher) matchState(st *evalState) bool {
	return s.expr.Each(st.ctx, &st.scratch, s)
}

// Where reports the stages at which m can be evaluated, and the fetch that
// limits them ("" when m can be evaluated anywhere), so that the
// configuration layer can refuse a response fetch in a request condition.
func Where(m Matcher) (sample.Stage, string) {
	switch m := m.(type) {
	case *fileMatcher:
		return Where(&m.tmpl)
	case *matcher:
		if w := m.expr.Where(); w != sample.AtAny {
			return w, m.expr.FetchName()
		}
	case *anyOf:
		where, fetch := sample.AtAny, ""
		for _, x := range m.ms {
			if w, f := Where(x); w != sample.AtAny {
				where &= w
				fetch = f
			}
		}
		return where, fetch
	}
	return sample.AtAny, ""
}

// Visit implements sample.Visitor: it reports whether one value of the
// sample matches, which stops the walk over the others.
func (s *matcher) Visit(v *sample.Value) bool {
	switch s.kind {
	case mFound:
		return true
	case mBool:
		return v.Int != 0
	case mInt:
		return s.matchInt(v.Int, true)
	case mIP:
		if v.Type != sample.TypeAddr {
			var tmp [1]byte
			if _, ok := sample.Cast(v, sample.TypeAddr, tmp[:0]); !ok {
				return false
			}
		}
		return s.matchAddr(v.Addr)
	}
	if v.Type != sample.TypeStr && v.Type != sample.TypeBin {
		return false // the type checks at compile time rule this out
	}
	if s.meth {
		return s.matchMethod(v.Str)
	}
	return s.matchBytes(v.Str)
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
func (s *matcher) matchMethod(m []byte) bool {
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

func (s *matcher) matchAddr(a netip.Addr) bool {
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

func (s *matcher) matchInt(v int64, present bool) bool {
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

func (s *matcher) matchBytes(b []byte) bool {
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
func (s *matcher) matchPlain(b []byte) bool {
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

func (s *matcher) matchPattern(b, p []byte) bool {
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

func (s *matcher) eq(b, p []byte) bool {
	if !s.fold {
		return string(b) == string(p)
	}
	return equalFoldLower(b, string(p))
}

// index finds p in b at or after from; p is already lowered when folding.
func (s *matcher) index(b, p []byte, from int) int {
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
func (s *matcher) delimited(b, p []byte, delim func(byte) bool) bool {
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

// suggest finds the closest known criterion for an error hint, only when
// it is close enough to be a plausible typo.
func suggest(name string) string {
	if best, d := diag.Nearest(name, Criteria()); best != "" && d <= max(len(name)/3, 2) {
		return "did you mean " + best + "?"
	}
	return "known criteria: path, path_beg, path_end, path_sub, path_reg, url_param(NAME), hdr(NAME), hdr_beg(NAME), method, src, ssl_fc, ..."
}
