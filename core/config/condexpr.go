package config

import (
	"fmt"
	"strconv"
	"strings"
)

// The condition language of .if/.elif, as HAProxy 2.6's cfgcond.c: terms
// are integers (0 is false), predicates with arguments in parentheses, or
// a parenthesised expression, each optionally negated with '!'; '&&' binds
// tighter than '||'. An empty condition is false.

// haproxyMajor and haproxyMinor are the HAProxy version varde follows:
// version_atleast/version_before answer as HAProxy 2.6 at its latest patch
// release would, since 2.6 patch releases do not change the syntax.
const haproxyMajor, haproxyMinor = 2, 6

// maxCondDepth is HAProxy's MAX_CFG_RECURSION.
const maxCondDepth = 1024

type condError struct{ msg, hint string }

// condParser parses and evaluates in one pass; HAProxy parses the whole
// expression before evaluating, so an error anywhere is an error even
// where evaluation would short-circuit: eval is cleared instead of
// stopping.
type condParser struct {
	s   string
	i   int
	env func(string) string
}

// evalCondition evaluates the text of a .if/.elif condition.
func evalCondition(expr string, env func(string) string) (bool, *condError) {
	if expr == "" {
		return false, nil
	}
	cp := &condParser{s: expr, env: env}
	v, err := cp.expr(true, maxCondDepth)
	if err != nil {
		return false, err
	}
	cp.skipBlanks()
	if cp.i < len(cp.s) {
		return false, &condError{fmt.Sprintf("unexpected character '%c' at the end of conditional expression", cp.s[cp.i]), "combine terms with && or ||"}
	}
	return v, nil
}

func (cp *condParser) skipBlanks() {
	for cp.i < len(cp.s) && (cp.s[cp.i] == ' ' || cp.s[cp.i] == '\t') {
		cp.i++
	}
}

func (cp *condParser) unparsable() *condError {
	return &condError{fmt.Sprintf("unparsable conditional expression '%s'", cp.s[cp.i:]), "a condition is 0, 1, a predicate such as defined(VAR), or a combination with !, &&, || and ()"}
}

// expr parses AND-groups joined by ||; eval false only parses.
func (cp *condParser) expr(eval bool, depth int) (bool, *condError) {
	if depth <= 0 {
		return false, cp.unparsable()
	}
	v, err := cp.and(eval, depth-1)
	if err != nil {
		return false, err
	}
	cp.skipBlanks()
	if strings.HasPrefix(cp.s[cp.i:], "||") {
		cp.i += 2
		w, err := cp.expr(eval && !v, depth-1)
		if err != nil {
			return false, err
		}
		v = v || w
	}
	return v, nil
}

// and parses terms joined by &&.
func (cp *condParser) and(eval bool, depth int) (bool, *condError) {
	if depth <= 0 {
		return false, cp.unparsable()
	}
	v, err := cp.term(eval, depth-1)
	if err != nil {
		return false, err
	}
	cp.skipBlanks()
	if strings.HasPrefix(cp.s[cp.i:], "&&") {
		cp.i += 2
		w, err := cp.and(eval && v, depth-1)
		if err != nil {
			return false, err
		}
		v = v && w
	}
	return v, nil
}

// term parses [!...] (NUMBER | '(' expr ')' | predicate(args)).
func (cp *condParser) term(eval bool, depth int) (bool, *condError) {
	cp.skipBlanks()
	if cp.i >= len(cp.s) || depth <= 0 {
		return false, cp.unparsable()
	}
	neg := false
	for cp.i < len(cp.s) && cp.s[cp.i] == '!' {
		neg = !neg
		cp.i++
		cp.skipBlanks()
	}
	v, err := cp.atom(eval, depth)
	return v != neg, err
}

func (cp *condParser) atom(eval bool, depth int) (bool, *condError) {
	if n, ok := cp.number(); ok {
		return n != 0, nil
	}
	if cp.i < len(cp.s) && cp.s[cp.i] == '(' {
		start := cp.i
		cp.i++
		v, err := cp.expr(eval, depth-1)
		if err != nil {
			return false, err
		}
		cp.skipBlanks()
		if cp.i >= len(cp.s) || cp.s[cp.i] != ')' {
			return false, &condError{fmt.Sprintf("expected ')' after conditional expression '%s'", cp.s[start:]), "close the parenthesis"}
		}
		cp.i++
		return v, nil
	}
	return cp.predicate(eval)
}

// number reads an integer as C's strtol(s, &end, 0) would (sign, 0x hex,
// leading-0 octal); ok is false when no digit was read.
func (cp *condParser) number() (int64, bool) {
	j := cp.i
	if j < len(cp.s) && (cp.s[j] == '+' || cp.s[j] == '-') {
		j++
	}
	base, digits := 10, j
	if strings.HasPrefix(cp.s[j:], "0x") || strings.HasPrefix(cp.s[j:], "0X") {
		if j+2 < len(cp.s) && isHex(cp.s[j+2]) {
			base, digits = 16, j+2
		}
	} else if j < len(cp.s) && cp.s[j] == '0' {
		base = 8
	}
	k := digits
	for k < len(cp.s) && digitIn(cp.s[k], base) {
		k++
	}
	if k == digits {
		return 0, false
	}
	n, _ := strconv.ParseInt(cp.s[digits:k], base, 64) // overflow: strtol saturates, still non-zero
	if n == 0 && strings.Trim(cp.s[digits:k], "0") != "" {
		n = 1
	}
	cp.i = k
	return n, true
}

func digitIn(c byte, base int) bool {
	switch base {
	case 16:
		return isHex(c)
	case 8:
		return c >= '0' && c <= '7'
	}
	return c >= '0' && c <= '9'
}

// condPredicates are HAProxy 2.6's predicates and their argument counts.
var condPredicates = map[string]int{
	"defined": 1, "feature": 1, "streq": 2, "strneq": 2,
	"version_atleast": 1, "version_before": 1,
	"openssl_version_atleast": 1, "openssl_version_before": 1, "ssllib_name_startswith": 1,
}

func (cp *condParser) predicate(eval bool) (bool, *condError) {
	rest := cp.s[cp.i:]
	name := rest[:strcspn(rest, " (")]
	nargs, ok := condPredicates[name]
	if !ok {
		return false, cp.unparsable()
	}
	cp.i += len(name)
	args, err := cp.args(name, nargs)
	if err != nil || !eval {
		return false, err
	}
	return predicateValue(name, args, cp.env)
}

func strcspn(s, chars string) int {
	if i := strings.IndexAny(s, chars); i >= 0 {
		return i
	}
	return len(s)
}
