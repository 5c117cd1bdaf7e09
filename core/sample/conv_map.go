package sample

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/varde-lb/varde/core/httpx"
)

// The map converters: map_<match>[_<output>](FILE[,DEFAULT]). FILE is read
// into the generation's shared PatRef (patref.go) when the expression is
// compiled; the admin socket and the set-map/del-map actions change it at
// run time, and each converter reads its current view without locking.

type mapEntry struct {
	id    uint64 // the PatEntry's, to reuse this compiled entry on a change
	key   string
	re    *regexp.Regexp
	lo    int64
	hi    int64
	value Value
	raw   string // the value as written (map_regm substitutes in it)
}

// sampleMap is one user's compiled, immutable view of a PatRef's entries.
type sampleMap struct {
	match   string
	exact   *strIndex      // str: first line of each key
	prefix  []netip.Prefix // ip: parallel to entries
	entries []mapEntry
}

// strIndex maps each key of a str map to its first entry. Views that
// share the first entries share the index: an appended key is added to it
// in place (set-map of a new key is O(1) amortised), and a view ignores
// positions past its own entries. Lookups take the read lock.
type strIndex struct {
	mu sync.RWMutex
	m  map[string]int
}

func newStrIndex(n int) *strIndex { return &strIndex{m: make(map[string]int, n)} }

// get returns key's entry if it is among the first n.
func (x *strIndex) get(key string, n int) int {
	x.mu.RLock()
	i, ok := x.m[key]
	x.mu.RUnlock()
	if !ok || i >= n {
		return -1
	}
	return i
}

// addFirst records key at i unless it has an entry already (the first
// line of a key wins). Views being built alone write without the lock.
func (x *strIndex) addFirst(key string, i int) {
	if _, dup := x.m[key]; !dup {
		x.m[key] = i
	}
}

// mapUser is one map converter: its match, output type, default, and an
// atomic pointer to its current view (swapped by PatRef changes).
type mapUser struct {
	match  string
	out    Type
	def    Value
	hasDef bool
	cur    atomic.Pointer[sampleMap]
}

var mapMatches = []string{"str", "beg", "sub", "dir", "dom", "end", "reg", "regm", "int", "ip"}

func init() {
	for _, m := range mapMatches {
		in := TypeStr
		switch m {
		case "int":
			in = TypeInt
		case "ip":
			in = TypeAddr
		}
		for _, out := range []Type{TypeStr, TypeInt, TypeAddr} {
			name := "map_" + m
			switch out {
			case TypeInt:
				name += "_int"
			case TypeAddr:
				name += "_ip"
			}
			if m == "regm" && out != TypeStr {
				continue // HAProxy has map_regm alone: it builds a string
			}
			registerMap(name, m, in, out)
		}
	}
	registerMap("map", "str", TypeStr, TypeStr)
}

func registerMap(name, match string, in, out Type) {
	RegisterConverter(&Converter{Name: name, MinArgs: 1, MaxArgs: 2, In: in, Out: out,
		Doc: "looks the input up in FILE with " + match + " matching; DEFAULT when absent, else no sample",
		Compile: func(args []string, a *Args) error {
			u, err := newMapUser(args, match, out, a)
			a.P = u
			return err
		},
		Eval: func(a *Args, v *Value, s []byte) ([]byte, bool) {
			u := a.P.(*mapUser)
			m := u.cur.Load()
			i := m.lookup(v)
			if i < 0 {
				if !u.hasDef {
					return s, false
				}
				*v = u.def
				return s, true
			}
			if match == "regm" {
				return m.entries[i].substitute(v, s)
			}
			*v = m.entries[i].value
			return s, true
		}})
}

// newMapUser compiles a map converter's arguments and attaches it to the
// generation's PatRef for FILE. A relative path is relative to the current
// directory, as HAProxy's.
func newMapUser(args []string, match string, out Type, a *Args) (*mapUser, error) {
	u := &mapUser{match: match, out: out}
	if len(args) > 1 {
		if err := parseMapValue(args[1], out, &u.def); err != nil {
			return nil, fmt.Errorf("default value: %w", err)
		}
		u.hasDef = true
	}
	if a.inspect {
		u.cur.Store(&sampleMap{match: match, exact: newStrIndex(0)})
		return u, nil
	}
	if a.runtime {
		// Traffic flows: only a file the running generation loaded, and
		// a snapshot rather than a user that every change would rebuild
		// and nothing would ever detach.
		if err := a.refs.Snapshot(args[0], u); err != nil {
			return nil, fmt.Errorf("map file: %w", err)
		}
		return u, nil
	}
	refs := a.refs
	if refs == nil {
		refs = CurrentPatRefs()
	}
	if _, err := refs.Attach(args[0], true, "map", u); err != nil {
		return nil, fmt.Errorf("map file: %w", err)
	}
	return u, nil
}

// Rebuild implements PatUser.
func (u *mapUser) Rebuild(es []PatEntry) (func(), error) {
	m := &sampleMap{match: u.match, entries: make([]mapEntry, 0, len(es))}
	old := u.cur.Load()
	indexed := 0 // entries already in m.exact
	if u.match == "str" {
		m.exact, indexed = exactFor(old, es)
	}
	// Entries are in ascending id order (file order, then additions):
	// walking the previous view alongside reuses what did not change
	// (compiled regular expressions, parsed values and networks).
	var prev []mapEntry
	if old != nil {
		prev = old.entries
	}
	j := 0
	for i := range es {
		for j < len(prev) && prev[j].id < es[i].ID {
			j++
		}
		if i < indexed {
			m.entries = append(m.entries, prev[i]) // same key, same place
			if prev[i].raw != es[i].Value {
				e := &m.entries[i]
				if err := parseMapValue(es[i].Value, u.out, &e.value); err != nil {
					return nil, LineError(&es[i], err)
				}
				e.raw = es[i].Value
			}
			continue
		}
		if j < len(prev) && prev[j].id == es[i].ID && prev[j].raw == es[i].Value && prev[j].key == es[i].Key && es[i].ID != 0 {
			m.reuse(prev[j])
			continue
		}
		if err := m.add(es[i].Key, es[i].Value, u.out); err != nil {
			return nil, LineError(&es[i], err)
		}
		m.entries[len(m.entries)-1].id = es[i].ID
	}
	return func() { u.cur.Store(m) }, nil
}

// exactFor is the key index a str map starts from: the previous view's
// itself when the keys did not move (set map: only values changed; the
// index is not written then, every key being in it), else a new one.
// The second result is how many leading entries the index already holds.
// (Appends go through Append, which shares the index.)
func exactFor(old *sampleMap, es []PatEntry) (*strIndex, int) {
	if old == nil || len(es) != len(old.entries) {
		return newStrIndex(len(es)), 0
	}
	for i := range old.entries {
		if old.entries[i].id != es[i].ID || old.entries[i].key != es[i].Key || es[i].ID == 0 {
			return newStrIndex(len(es)), 0
		}
	}
	return old.exact, len(es)
}

// Append implements PatAppender for str maps: the new entries extend the
// view's entries and the shared index in place; other matches rebuild.
func (u *mapUser) Append(all []PatEntry, from int) (func(), error) {
	old := u.cur.Load()
	if u.match != "str" || old == nil || len(old.entries) != from {
		return u.Rebuild(all)
	}
	add := make([]mapEntry, 0, len(all)-from)
	for i := from; i < len(all); i++ {
		e := mapEntry{id: all[i].ID, key: all[i].Key, raw: all[i].Value}
		if err := parseMapValue(all[i].Value, u.out, &e.value); err != nil {
			return nil, LineError(&all[i], err)
		}
		add = append(add, e)
	}
	return func() {
		// Past the old view's length: no reader of it looks there.
		m := &sampleMap{match: u.match, exact: old.exact, entries: append(old.entries, add...)}
		old.exact.mu.Lock()
		for i := range add {
			old.exact.addFirst(add[i].key, from+i)
		}
		old.exact.mu.Unlock()
		u.cur.Store(m)
	}, nil
}

// reuse adds an entry compiled for a previous view.
func (m *sampleMap) reuse(e mapEntry) {
	switch m.match {
	case "str":
		m.exact.addFirst(e.key, len(m.entries))
	case "ip":
		p, _ := parsePrefix(e.key) // parsed before: cannot fail
		m.prefix = append(m.prefix, p)
	}
	m.entries = append(m.entries, e)
}

// add compiles one entry: the key by the match method, the value by the
// converter's output type.
func (m *sampleMap) add(key, val string, out Type) error {
	e := mapEntry{key: key, raw: val}
	if err := parseMapValue(val, out, &e.value); err != nil {
		return err
	}
	switch m.match {
	case "str":
		m.exact.addFirst(key, len(m.entries))
	case "reg", "regm":
		re, err := regexp.Compile(key)
		if err != nil {
			return fmt.Errorf("bad regular expression %q: %v", key, err)
		}
		e.re = re
	case "int":
		lo, hi, err := parseIntRange(key)
		if err != nil {
			return err
		}
		e.lo, e.hi = lo, hi
	case "ip":
		p, err := parsePrefix(key)
		if err != nil {
			return err
		}
		m.prefix = append(m.prefix, p)
	}
	m.entries = append(m.entries, e)
	return nil
}

func parseMapValue(s string, out Type, v *Value) error {
	switch out {
	case TypeInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("unable to parse '%s'.", s)
		}
		v.SetInt(n)
	case TypeAddr:
		a, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("unable to parse '%s'.", s)
		}
		v.SetAddr(a)
	default:
		v.SetStr(stringBytes(s))
	}
	return nil
}

func parseIntRange(s string) (lo, hi int64, err error) {
	if a, b, ok := strings.Cut(s, ":"); ok {
		lo, hi = math64Min, math64Max
		if a != "" {
			if lo, err = strconv.ParseInt(a, 10, 64); err != nil {
				return 0, 0, fmt.Errorf("bad integer range %q", s)
			}
		}
		if b != "" {
			if hi, err = strconv.ParseInt(b, 10, 64); err != nil {
				return 0, 0, fmt.Errorf("bad integer range %q", s)
			}
		}
		return lo, hi, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("unable to parse '%s'.", s)
	}
	return n, n, nil
}

const (
	math64Min = -1 << 63
	math64Max = 1<<63 - 1
)

// parsePrefix reads an address or a network (CIDR or dotted mask).
func parsePrefix(s string) (netip.Prefix, error) {
	if a, m, ok := strings.Cut(s, "/"); ok {
		addr, err := netip.ParseAddr(a)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("'%s' is not a valid IPv4 or IPv6 address.", s)
		}
		bits, err := maskBits(m, addr.Unmap().BitLen())
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("'%s' is not a valid IPv4 or IPv6 address.", s)
		}
		return addr.Unmap().Prefix(bits)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("'%s' is not a valid IPv4 or IPv6 address.", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// lookup finds the input's entry (-1: none): the first match in file
// order, except where HAProxy indexes the keys in a tree: the exact key
// for str, the most specific network for ip, the longest prefix for beg.
func (m *sampleMap) lookup(v *Value) int {
	switch m.match {
	case "str":
		return m.exact.get(bytesString(v.Str), len(m.entries))
	case "ip":
		best := -1
		for i, p := range m.prefix {
			if p.Contains(v.Addr) && (best < 0 || p.Bits() > m.prefix[best].Bits()) {
				best = i
			}
		}
		return best
	case "beg":
		// HAProxy indexes beg keys in a prefix tree: the longest key
		// that starts the input wins, the first of equal keys.
		best := -1
		for i := range m.entries {
			k := m.entries[i].key
			if (best < 0 || len(k) > len(m.entries[best].key)) && strings.HasPrefix(bytesString(v.Str), k) {
				best = i
			}
		}
		return best
	}
	for i := range m.entries {
		if m.entries[i].matches(m.match, v) {
			return i
		}
	}
	return -1
}

func (e *mapEntry) matches(match string, v *Value) bool {
	s, k := v.Str, e.key
	switch match {
	case "beg":
		return strings.HasPrefix(bytesString(s), k)
	case "end":
		return strings.HasSuffix(bytesString(s), k)
	case "sub":
		return strings.Contains(bytesString(s), k)
	case "dom":
		return Delimited(s, k, false, isDomDelim)
	case "dir":
		return Delimited(s, k, false, isDirDelim)
	case "reg", "regm":
		return e.re.Match(s)
	case "int":
		return v.Int >= e.lo && v.Int <= e.hi
	}
	return false
}

func isDomDelim(c byte) bool { return c == '.' || c == '/' || c == '?' || c == ':' }
func isDirDelim(c byte) bool { return c == '/' || c == '?' }

// Delimited implements HAProxy's dom/dir matching: p must appear in b
// between delimiters or the ends of b; delimiters at p's own ends are
// ignored. fold compares ASCII case-insensitively (p already lower case).
func Delimited(b []byte, p string, fold bool, delim func(byte) bool) bool {
	for len(p) > 0 && delim(p[0]) {
		p = p[1:]
	}
	for len(p) > 0 && delim(p[len(p)-1]) {
		p = p[:len(p)-1]
	}
	if len(p) == 0 {
		return false
	}
	for i := 0; i+len(p) <= len(b); i++ {
		if (i > 0 && !delim(b[i-1])) || (i+len(p) < len(b) && !delim(b[i+len(p)])) {
			continue
		}
		if fold && httpx.EqualFold(b[i:i+len(p)], p) || !fold && string(b[i:i+len(p)]) == p {
			return true
		}
	}
	return false
}

// substitute is map_regm's output: the entry's value with \0..\9 replaced
// by the regular expression's groups in the input, built in scratch.
func (e *mapEntry) substitute(v *Value, s []byte) ([]byte, bool) {
	var idx [20]int
	loc := e.re.FindSubmatchIndex(v.Str) // allocates only for many groups
	n := copy(idx[:], loc)
	start := len(s)
	raw := e.raw
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) && raw[i+1] >= '0' && raw[i+1] <= '9' {
			g := int(raw[i+1]-'0') * 2
			i++
			if g+1 < n && idx[g] >= 0 {
				s = append(s, v.Str[idx[g]:idx[g+1]]...)
			}
			continue
		}
		s = append(s, c)
	}
	v.SetStr(s[start:])
	return s, true
}

// Probe implements PatUser for `get map`: key is read as the converter's
// input type, as HAProxy parses it with the expression's parser.
func (u *mapUser) Probe(key string) PatProbe {
	p := PatProbe{Match: u.match, HasValue: true, Group: fmt.Sprint(u.match, u.out),
		Tree: u.match == "str" || u.match == "beg" || u.match == "ip"}
	var v Value
	switch u.match {
	case "int":
		n, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return p
		}
		v.SetInt(n)
	case "ip":
		a, err := netip.ParseAddr(key)
		if err != nil {
			return p
		}
		v.SetAddr(a)
	default:
		v.SetStr([]byte(key))
	}
	m := u.cur.Load()
	i := m.lookup(&v)
	if i < 0 {
		return p
	}
	e := &m.entries[i]
	p.Found, p.Key, p.Value = true, e.key, e.raw
	switch {
	case u.out == TypeInt:
		p.VType = "sint"
	case u.out == TypeAddr && e.value.Addr.Is4():
		p.VType = "ipv4"
	case u.out == TypeAddr:
		p.VType = "ipv6"
	default:
		p.VType = "str"
	}
	return p
}
