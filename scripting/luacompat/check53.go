package luacompat

import (
	"fmt"
)

// Check53 refuses syntax that Lua 5.3 has and gopher-lua's Lua 5.1 does
// not: integer division `//`, the bitwise operators `&`, `|`, `~` (binary
// and unary), `<<`, `>>`, and `goto` with its `::labels::`. gopher-lua
// would report some of these as a bare syntax error and would accept
// `goto`; scripts written for HAProxy's Lua 5.3 get a message that says
// what to write instead. Strings and comments are skipped.
func Check53(src []byte, name string) error {
	line := 1
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			line++
		case c == '-' && at(src, i+1) == '-':
			i, line = skipComment(src, i+2, line)
		case c == '"' || c == '\'':
			i, line = skipQuoted(src, i, line)
		case c == '[' && longBracket(src, i) >= 0:
			i, line = skipLong(src, i, longBracket(src, i), line)
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdent(src[j]) {
				j++
			}
			if string(src[i:j]) == "goto" {
				return fmt.Errorf("%s:%d: goto is Lua 5.3 syntax; this Lua is 5.1 (hint: use a loop with break or a flag)", name, line)
			}
			i = j - 1
		default:
			if msg := op53(src, i); msg != "" {
				return fmt.Errorf("%s:%d: %s is Lua 5.3 syntax; this Lua is 5.1 (hint: %s)", name, line, msg, hint53(msg))
			}
		}
	}
	return nil
}

// op53 names the 5.3-only operator at src[i], or "".
func op53(src []byte, i int) string {
	c, n := src[i], at(src, i+1)
	switch {
	case c == '/' && n == '/':
		return "integer division //"
	case c == '<' && n == '<':
		return "shift <<"
	case c == '>' && n == '>':
		return "shift >>"
	case c == '&':
		return "bitwise and &"
	case c == '|':
		return "bitwise or |"
	case c == '~' && n != '=':
		return "bitwise xor/not ~"
	case c == ':' && n == ':':
		return "label ::"
	}
	return ""
}

func hint53(op string) string {
	switch op {
	case "integer division //":
		return "math.floor(a / b)"
	case "label ::":
		return "use a loop with break or a flag"
	}
	return "arithmetic (a % 2^n, math.floor(a / 2^n)) does what bit operations on small numbers do"
}

func at(src []byte, i int) byte {
	if i < len(src) {
		return src[i]
	}
	return 0
}

func isIdentStart(c byte) bool {
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

func isIdent(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// longBracket returns the level of a long bracket opening at src[i]
// ([[, [=[, ...), or -1.
func longBracket(src []byte, i int) int {
	j := i + 1
	for j < len(src) && src[j] == '=' {
		j++
	}
	if at(src, j) == '[' {
		return j - i - 1
	}
	return -1
}

// skipLong skips a long string or comment opened at src[i] with level lvl
// and returns the index of its last byte.
func skipLong(src []byte, i, lvl, line int) (int, int) {
	for j := i + lvl + 2; j < len(src); j++ {
		switch src[j] {
		case '\n':
			line++
		case ']':
			k := j + 1
			for k < len(src) && src[k] == '=' {
				k++
			}
			if k-j-1 == lvl && at(src, k) == ']' {
				return k, line
			}
		}
	}
	return len(src), line
}

func skipComment(src []byte, i, line int) (int, int) {
	if at(src, i) == '[' {
		if lvl := longBracket(src, i); lvl >= 0 {
			return skipLong(src, i, lvl, line)
		}
	}
	for i < len(src) && src[i] != '\n' {
		i++
	}
	return i - 1, line
}

func skipQuoted(src []byte, i, line int) (int, int) {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			if at(src, j+1) == '\n' {
				line++
			}
			j++
		case '\n':
			return j - 1, line // unterminated: the parser reports it
		case q:
			return j, line
		}
	}
	return len(src), line
}
