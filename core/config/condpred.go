package config

import (
	"fmt"
	"strconv"
	"strings"
)

// args reads a predicate's parenthesised, comma-separated arguments as
// HAProxy's make_arg_list() does: quotes group, a backslash escapes
// \ ' " and space and reads \r \n \t, blanks are kept verbatim.
func (cp *condParser) args(name string, n int) ([]string, *condError) {
	fail := func(pos int, format string, a ...any) *condError {
		return &condError{fmt.Sprintf(format, a...) + fmt.Sprintf(" in argument %d of predicate '%s' used in conditional expression", pos, name), "write " + name + "(" + strings.TrimSuffix(strings.Repeat("ARG,", n), ",") + ")"}
	}
	if cp.i >= len(cp.s) || cp.s[cp.i] != '(' {
		// HAProxy reads a missing list as one empty argument.
		if n > 1 {
			return nil, fail(1, "missing arguments (got 1/%d), type 'string' expected", n)
		}
		return []string{""}, nil
	}
	cp.i++
	var out []string
	for len(out) < n {
		out = append(out, cp.arg())
		if cp.i >= len(cp.s) || cp.s[cp.i] == ')' || len(out) >= n {
			break
		}
		cp.i++ // the comma
	}
	if len(out) < n {
		return nil, fail(len(out), "missing arguments (got %d/%d), type 'string' expected", len(out), n)
	}
	if cp.i >= len(cp.s) {
		return nil, fail(len(out), "expected ')'")
	}
	if cp.s[cp.i] != ')' {
		return nil, fail(len(out), "expected ')' before '%s'", cp.s[cp.i:])
	}
	cp.i++
	return out, nil
}

// arg reads one argument up to an unquoted ',' or ')'.
func (cp *condParser) arg() string {
	var b strings.Builder
	squote, dquote := false, false
	for cp.i < len(cp.s) {
		c := cp.s[cp.i]
		switch {
		case c == '"' && !squote:
			dquote = !dquote
		case c == '\'' && !dquote:
			squote = !squote
		case c == '\\' && !squote && cp.i+1 < len(cp.s):
			cp.i++
			switch n := cp.s[cp.i]; n {
			case '\\', ' ', '"', '\'':
				b.WriteByte(n)
			case 'r':
				b.WriteByte('\r')
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte('\\')
				continue
			}
		case !squote && !dquote && (c == ',' || c == ')'):
			return b.String()
		default:
			b.WriteByte(c)
		}
		cp.i++
	}
	return b.String()
}

// predicateValue evaluates a predicate whose arguments parsed.
func predicateValue(name string, args []string, env func(string) string) (bool, *condError) {
	switch name {
	case "defined":
		return env != nil && env(args[0]) != "", nil
	case "feature":
		// varde is not built from HAProxy's sources: none of the build
		// options "haproxy -vv" lists (OPENSSL, LUA, ...) is present.
		return false, nil
	case "streq":
		return args[0] == args[1], nil
	case "strneq":
		return args[0] != args[1], nil
	case "version_atleast", "version_before":
		c, ok := compareHAProxyVersion(args[0])
		if !ok {
			return false, &condError{fmt.Sprintf("invalid version '%s' in predicate '%s'", args[0], name), "write a version as haproxy -v shows it, e.g. 2.4 or 2.6-dev3"}
		}
		if name == "version_atleast" {
			return c >= 0, nil
		}
		return c < 0, nil
	case "ssllib_name_startswith":
		return false, nil // no SSL library
	}
	return false, &condError{fmt.Sprintf("predicate '%s' needs OpenSSL, which varde does not use", name), "guard the block with feature(OPENSSL), which is false in varde"}
}

// compareHAProxyVersion compares the version varde follows (2.6 at its
// latest patch release) with v: -1 when older than v, 0 when equal, 1
// when newer. Missing components are zero; "-devN" and "-rcN" come before
// the release.
func compareHAProxyVersion(v string) (int, bool) {
	num, _, _ := strings.Cut(v, "-")
	parts := strings.Split(num, ".")
	var n [2]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			return 0, false
		}
		if i < 2 {
			n[i] = x
		}
	}
	switch {
	case haproxyMajor != n[0]:
		return sign(haproxyMajor - n[0]), true
	case haproxyMinor != n[1]:
		return sign(haproxyMinor - n[1]), true
	}
	// Same branch: varde answers as its newest patch release, which is at
	// least as recent as any 2.6.x, dev or rc.
	return 1, true
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}
