package luacompat

import (
	"errors"
	"fmt"
)

// Lua pattern matching with a step budget. gopher-lua's matcher backtracks
// without bound inside one Go call, where no deadline can reach it: a
// pathological pattern over a long string would stall the event loop. This
// matcher follows Lua 5.3's semantics (classes, sets, quantifiers * + - ?,
// anchors, captures and position captures, %b, %f, back-references) and
// gives up with an error after a bounded number of steps.

const (
	maxCaptures   = 32
	maxMatchDepth = 200
	capUnfinished = -1
	capPosition   = -2
)

// DefaultPatternSteps bounds one find/match/gsub/gmatch step: about a
// millisecond of matching.
const DefaultPatternSteps = 1 << 20

var errTooComplex = errors.New("pattern too complex for the sandbox (step budget exhausted)")

type capture struct{ init, len int }

type matcher struct {
	src, pat string
	level    int
	caps     [maxCaptures]capture
	depth    int
	steps    int // left
}

type patError struct{ msg string }

func (e *patError) Error() string { return e.msg }

func (m *matcher) fail(format string, a ...any) {
	panic(&patError{fmt.Sprintf(format, a...)})
}

func (m *matcher) step() {
	if m.steps--; m.steps < 0 {
		panic(&patError{errTooComplex.Error()})
	}
}

// classEnd returns the index just past the single-character class at p.
func (m *matcher) classEnd(p int) int {
	pat := m.pat
	c := pat[p]
	p++
	switch c {
	case '%':
		if p >= len(pat) {
			m.fail("malformed pattern (ends with '%%')")
		}
		return p + 1
	case '[':
		if p < len(pat) && pat[p] == '^' {
			p++
		}
		for { // the first character of a set may be ']'
			if p >= len(pat) {
				m.fail("malformed pattern (missing ']')")
			}
			c := pat[p]
			p++
			if c == '%' && p < len(pat) {
				p++
			}
			if p < len(pat) && pat[p] == ']' {
				return p + 1
			}
			if p >= len(pat) {
				m.fail("malformed pattern (missing ']')")
			}
		}
	}
	return p
}

func isalpha(c byte) bool  { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isdigit(c byte) bool  { return c >= '0' && c <= '9' }
func islower(c byte) bool  { return c >= 'a' && c <= 'z' }
func isupper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func isspace(c byte) bool  { return c == ' ' || (c >= '\t' && c <= '\r') }
func iscntrl(c byte) bool  { return c < 32 || c == 127 }
func isgraph(c byte) bool  { return c > 32 && c < 127 }
func ispunct(c byte) bool  { return isgraph(c) && !isalpha(c) && !isdigit(c) }
func isxdigit(c byte) bool { return isdigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

// matchClass reports whether c belongs to class %cl.
func matchClass(c, cl byte) bool {
	var res bool
	switch cl | 0x20 {
	case 'a':
		res = isalpha(c)
	case 'c':
		res = iscntrl(c)
	case 'd':
		res = isdigit(c)
	case 'g':
		res = isgraph(c)
	case 'l':
		res = islower(c)
	case 'p':
		res = ispunct(c)
	case 's':
		res = isspace(c)
	case 'u':
		res = isupper(c)
	case 'w':
		res = isalpha(c) || isdigit(c)
	case 'x':
		res = isxdigit(c)
	case 'z': // \0, deprecated but still in Lua 5.3
		res = c == 0
	default:
		return cl == c
	}
	if isupper(cl) {
		return !res
	}
	return res
}

// matchSet reports whether c is in the set pat[p:ec] (p at '[', ec at ']').
func (m *matcher) matchSet(c byte, p, ec int) bool {
	pat := m.pat
	sig := true
	if pat[p+1] == '^' {
		sig = false
		p++
	}
	for p++; p < ec; p++ {
		switch {
		case pat[p] == '%':
			p++
			if matchClass(c, pat[p]) {
				return sig
			}
		case pat[p+1] == '-' && p+2 < ec:
			p += 2
			if pat[p-2] <= c && c <= pat[p] {
				return sig
			}
		case pat[p] == c:
			return sig
		}
	}
	return !sig
}

func (m *matcher) single(s, p, ep int) bool {
	if s >= len(m.src) {
		return false
	}
	c := m.src[s]
	switch m.pat[p] {
	case '.':
		return true
	case '%':
		return matchClass(c, m.pat[p+1])
	case '[':
		return m.matchSet(c, p, ep-1)
	}
	return m.pat[p] == c
}

// match returns the end of the match of pat[p:] at src[s:], or -1.
func (m *matcher) match(s, p int) int {
	m.step()
	if m.depth++; m.depth > maxMatchDepth {
		m.fail("pattern too complex")
	}
	defer func() { m.depth-- }()
	pat := m.pat
	for {
		if p >= len(pat) {
			return s
		}
		switch pat[p] {
		case '(':
			if p+1 < len(pat) && pat[p+1] == ')' {
				return m.startCapture(s, p+2, capPosition)
			}
			return m.startCapture(s, p+1, capUnfinished)
		case ')':
			return m.endCapture(s, p+1)
		case '$':
			if p+1 == len(pat) {
				if s == len(m.src) {
					return s
				}
				return -1
			}
		case '%':
			if p+1 < len(pat) {
				switch c := pat[p+1]; {
				case c == 'b':
					if s = m.balance(s, p+2); s == -1 {
						return -1
					}
					p += 4
					continue
				case c == 'f':
					p += 2
					if p >= len(pat) || pat[p] != '[' {
						m.fail("missing '[' after '%%f' in pattern")
					}
					ep := m.classEnd(p)
					var prev, cur byte
					if s > 0 {
						prev = m.src[s-1]
					}
					if s < len(m.src) {
						cur = m.src[s]
					}
					if !m.matchSet(prev, p, ep-1) && m.matchSet(cur, p, ep-1) {
						p = ep
						continue
					}
					return -1
				case isdigit(c):
					if s = m.backref(s, c); s == -1 {
						return -1
					}
					p += 2
					continue
				}
			}
		}
		ep := m.classEnd(p)
		var q byte
		if ep < len(pat) {
			q = pat[ep]
		}
		if !m.single(s, p, ep) {
			if q == '*' || q == '?' || q == '-' {
				p = ep + 1
				continue
			}
			return -1
		}
		switch q {
		case '?':
			if r := m.match(s+1, ep+1); r != -1 {
				return r
			}
			p = ep + 1
		case '+':
			return m.maxExpand(s+1, p, ep)
		case '*':
			return m.maxExpand(s, p, ep)
		case '-':
			return m.minExpand(s, p, ep)
		default:
			s, p = s+1, ep
		}
	}
}

func (m *matcher) maxExpand(s, p, ep int) int {
	i := 0
	for m.single(s+i, p, ep) {
		m.step()
		i++
	}
	for ; i >= 0; i-- {
		if r := m.match(s+i, ep+1); r != -1 {
			return r
		}
	}
	return -1
}

func (m *matcher) minExpand(s, p, ep int) int {
	for {
		if r := m.match(s, ep+1); r != -1 {
			return r
		}
		if !m.single(s, p, ep) {
			return -1
		}
		s++
	}
}

func (m *matcher) startCapture(s, p, what int) int {
	if m.level >= maxCaptures {
		m.fail("too many captures")
	}
	m.caps[m.level] = capture{s, what}
	m.level++
	r := m.match(s, p)
	if r == -1 {
		m.level--
	}
	return r
}

func (m *matcher) endCapture(s, p int) int {
	l := -1
	for i := m.level - 1; i >= 0; i-- {
		if m.caps[i].len == capUnfinished {
			l = i
			break
		}
	}
	if l < 0 {
		m.fail("invalid pattern capture")
	}
	m.caps[l].len = s - m.caps[l].init
	r := m.match(s, p)
	if r == -1 {
		m.caps[l].len = capUnfinished
	}
	return r
}

func (m *matcher) balance(s, p int) int {
	if p+1 >= len(m.pat) {
		m.fail("malformed pattern (missing arguments to '%%b')")
	}
	if s >= len(m.src) || m.src[s] != m.pat[p] {
		return -1
	}
	b, e, n := m.pat[p], m.pat[p+1], 1
	for s++; s < len(m.src); s++ {
		m.step()
		switch m.src[s] {
		case e:
			if n--; n == 0 {
				return s + 1
			}
		case b:
			n++
		}
	}
	return -1
}

func (m *matcher) backref(s int, c byte) int {
	l := int(c - '1')
	if l < 0 || l >= m.level || m.caps[l].len == capUnfinished {
		m.fail("invalid capture index %%%d", l+1)
	}
	n := m.caps[l].len
	if len(m.src)-s >= n && m.src[m.caps[l].init:m.caps[l].init+n] == m.src[s:s+n] {
		return s + n
	}
	return -1
}

// captureValue is capture i of a match src[s:e]: a string, or a 1-based
// position (int) for a position capture. With no capture, capture 0 is
// the whole match.
func (m *matcher) captureValue(i, s, e int) any {
	if i >= m.level {
		if i != 0 {
			m.fail("invalid capture index %%%d", i+1)
		}
		return m.src[s:e]
	}
	c := m.caps[i]
	switch c.len {
	case capUnfinished:
		m.fail("unfinished capture")
	case capPosition:
		return c.init + 1
	}
	return m.src[c.init : c.init+c.len]
}

// captures lists the captures of a match (the whole match when there are
// none and whole is set).
func (m *matcher) captures(s, e int, whole bool) []any {
	n := m.level
	if n == 0 && whole {
		n = 1
	}
	out := make([]any, n)
	for i := range out {
		out[i] = m.captureValue(i, s, e)
	}
	return out
}

// run calls f, turning the matcher's panics into errors.
func runPattern(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*patError)
			if !ok {
				panic(r)
			}
			err = pe
		}
	}()
	f()
	return nil
}
