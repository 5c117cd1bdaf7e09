package sample

import (
	"bufio"
	"fmt"
	"github.com/varde-lb/varde/core/httpx"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// The map converters: map_<match>[_<output>](FILE[,DEFAULT]). Files are
// read once when the expression is compiled; a relative path is relative
// to the current directory, as HAProxy's.

type mapEntry struct {
	key   string
	re    *regexp.Regexp
	lo    int64
	hi    int64
	value Value
}

type sampleMap struct {
	match   string
	exact   map[string]int // str: first line of each key
	prefix  []netip.Prefix // ip: parallel to entries
	entries []mapEntry
	def     Value
	hasDef  bool
}

var mapMatches = []string{"str", "beg", "sub", "dir", "dom", "end", "reg", "int", "ip"}

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
			registerMap(name, m, in, out)
		}
	}
	registerMap("map", "str", TypeStr, TypeStr)
}

func registerMap(name, match string, in, out Type) {
	RegisterConverter(&Converter{Name: name, MinArgs: 1, MaxArgs: 2, In: in, Out: out,
		Doc: "looks the input up in FILE with " + match + " matching; DEFAULT when absent, else no sample",
		Compile: func(args []string, a *Args) error {
			m, err := loadMap(args, match, out)
			a.P = m
			return err
		},
		Eval: func(a *Args, v *Value, s []byte) ([]byte, bool) {
			m := a.P.(*sampleMap)
			r, ok := m.lookup(v, s)
			if !ok {
				if !m.hasDef {
					return s, false
				}
				r = &m.def
			}
			*v = *r
			return s, true
		}})
}

func loadMap(args []string, match string, out Type) (*sampleMap, error) {
	m := &sampleMap{match: match, exact: map[string]int{}}
	if len(args) > 1 {
		if err := parseMapValue(args[1], out, &m.def); err != nil {
			return nil, fmt.Errorf("default value: %w", err)
		}
		m.hasDef = true
	}
	f, err := os.Open(args[0])
	if err != nil {
		return nil, fmt.Errorf("map file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if err := m.addLine(sc.Text(), out); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", args[0], line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("map file %s: %w", args[0], err)
	}
	return m, nil
}

// addLine reads "KEY VALUE": leading blanks skipped, the key is the first
// word, the value the rest without trailing blanks; '#' starts a comment.
func (m *sampleMap) addLine(line string, out Type) error {
	line = strings.Trim(line, " \t\r")
	if line == "" || line[0] == '#' {
		return nil
	}
	key, val := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		key, val = line[:i], strings.TrimLeft(line[i:], " \t")
	}
	e := mapEntry{key: key}
	if err := parseMapValue(val, out, &e.value); err != nil {
		return err
	}
	switch m.match {
	case "str":
		if _, dup := m.exact[key]; !dup {
			m.exact[key] = len(m.entries)
		}
	case "reg":
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
			return fmt.Errorf("value %q is not an integer", s)
		}
		v.SetInt(n)
	case TypeAddr:
		a, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("value %q is not an IP address", s)
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
		return 0, 0, fmt.Errorf("key %q is not an integer", s)
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
			return netip.Prefix{}, fmt.Errorf("bad network %q", s)
		}
		bits, err := maskBits(m, addr.Unmap().BitLen())
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad network %q", s)
		}
		return addr.Unmap().Prefix(bits)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad address %q", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// lookup finds the input's entry: the first match in file order, except
// for ip maps where the most specific network wins (HAProxy's tree).
func (m *sampleMap) lookup(v *Value, _ []byte) (*Value, bool) {
	switch m.match {
	case "str":
		i, ok := m.exact[string(v.Str)]
		if !ok {
			return nil, false
		}
		return &m.entries[i].value, true
	case "ip":
		best := -1
		for i, p := range m.prefix {
			if p.Contains(v.Addr) && (best < 0 || p.Bits() > m.prefix[best].Bits()) {
				best = i
			}
		}
		if best < 0 {
			return nil, false
		}
		return &m.entries[best].value, true
	}
	for i := range m.entries {
		if m.entries[i].matches(m.match, v) {
			return &m.entries[i].value, true
		}
	}
	return nil, false
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
	case "reg":
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
