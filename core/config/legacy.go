package config

import (
	"strings"
)

// Pre-2.x directives HAProxy 2.6 itself refuses. varde refuses them too
// (it has no meaning to give them that 2.6 would share), with HAProxy's
// own error text, so a user searching for it finds HAProxy's migration
// notes, and with the modern line that replaces this one as the hint.
// Each message below was copied from `haproxy -c` of Debian's 2.6.12.

// legacyDirective is one refused directive: HAProxy's message and the
// replacement of a given line.
type legacyDirective struct {
	msg    string
	modern func(args []string) string
}

func since21(kw, use string) string {
	return "The '" + kw + "' directive is not supported anymore since HAProxy 2.1. Use '" + use + "' instead."
}

// legacyDirectives are keyed as checkKeyword keys lines ("reqirep",
// "option forceclose").
var legacyDirectives = map[string]legacyDirective{
	"reqadd":    {since21("reqadd", "http-request add-header"), addHeader("http-request")},
	"rspadd":    {since21("rspadd", "http-response add-header"), addHeader("http-response")},
	"reqdel":    {since21("reqdel", "http-request del-header"), delHeader("http-request")},
	"reqidel":   {since21("reqidel", "http-request del-header"), delHeader("http-request")},
	"rspdel":    {"The 'rspdel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' .", delHeader("http-response")},
	"rspidel":   {since21("rspidel", "http-response del-header"), delHeader("http-response")},
	"reqrep":    {"The 'reqrep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead.", replaceHeader("http-request", false)},
	"reqirep":   {since21("reqirep", "http-request replace-header"), replaceHeader("http-request", true)},
	"rsprep":    {since21("rsprep", "http-response replace-header"), replaceHeader("http-response", false)},
	"rspirep":   {since21("rspirep", "http-response replace-header"), replaceHeader("http-response", true)},
	"reqallow":  {since21("reqallow", "http-request allow"), regexRule("http-request allow", "req", false)},
	"reqiallow": {since21("reqiallow", "http-request allow"), regexRule("http-request allow", "req", true)},
	"reqdeny":   {"The 'reqdeny' not supported anymore since HAProxy 2.1. Use 'http-request deny' instead.", regexRule("http-request deny", "req", false)},
	"reqideny":  {since21("reqideny", "http-request deny"), regexRule("http-request deny", "req", true)},
	"reqtarpit": {since21("reqtarpit", "http-request tarpit"), regexRule("http-request tarpit", "req", false)},
	"reqitarpit": {since21("reqitarpit", "http-request tarpit"),
		regexRule("http-request tarpit", "req", true)},
	"reqpass":  {"The 'reqpass' not supported anymore since HAProxy 2.1.", removeLine},
	"reqipass": {"The 'reqipass' directive is not supported anymore since HAProxy 2.1.", removeLine},
	"rspdeny":  {since21("rspdeny", "http-response deny"), regexRule("http-response deny", "res", false)},
	"rspideny": {since21("rspideny", "http-response deny"), regexRule("http-response deny", "res", true)},
	"block": {"The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax.",
		func(a []string) string { return "http-request deny " + joinArgs(a) }},
	"monitor-net": {"'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if { src NET }' instead.",
		func(a []string) string { return "http-request return status 200 if { src " + firstOr(a, "NET") + " }" }},
	"option forceclose": {"option 'forceclose' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed.",
		func([]string) string { return "remove the line, or write option httpclose" }},
	"option http-tunnel": {"option 'http-tunnel' is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed.", removeLine},
	"option http_proxy": {"option 'http_proxy' is not supported any more since HAProxy 2.5. This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if DNS resolution is desired.",
		func([]string) string { return "http-request set-dst and http-request set-uri" }},
	"option http-use-htx": {"unknown option 'http-use-htx' (HAProxy 2.1 made HTX the only mode and removed the option)", removeLine},
}

func removeLine([]string) string { return "remove the line" }

// text is HAProxy's message for a line: monitor-net's names the network.
func (ld legacyDirective) text(args []string) string {
	if strings.Contains(ld.msg, "{ src NET }") {
		return strings.Replace(ld.msg, "NET", firstOr(args, "NET"), 1)
	}
	return ld.msg
}

// legacyRefused reports a legacy directive, HAProxy's text first.
func (p *parser) legacyRefused(words []Token, key string) bool {
	ld, ok := legacyDirectives[key]
	if !ok {
		return false
	}
	n := 1
	if strings.HasPrefix(key, "option ") {
		n = 2
	}
	var args []string
	if len(words) > n {
		args = Texts(words[n:])
	}
	p.d.Errorf(words[0].Pos, key, "write: "+ld.modern(args), "%s", ld.text(args))
	return true
}

// headerRegex splits a 1.x header-line regex "^Name:\ value-regex" into
// the header name and the value regex; ok is false for anything else (a
// regex on the request line, an alternation of names).
func headerRegex(re string) (name, value string, ok bool) {
	re = strings.TrimPrefix(re, "^")
	i := strings.IndexByte(re, ':')
	if i <= 0 || !isHeaderName(re[:i]) {
		return "", "", false
	}
	value = strings.TrimLeft(strings.TrimPrefix(re[i+1:], "\\"), " ")
	value = strings.TrimPrefix(value, "[ ]*")
	value = strings.TrimPrefix(value, ".*")
	return re[:i], value, true
}

func isHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return s != ""
}

// quoteArg quotes a word that holds blanks, as a config line needs it.
func quoteArg(s string) string {
	if s == "" || strings.ContainsAny(s, " \t#") {
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return s
}

func firstOr(a []string, def string) string {
	if len(a) > 0 {
		return a[0]
	}
	return def
}

func joinArgs(a []string) string {
	q := make([]string, len(a))
	for i, w := range a {
		q[i] = quoteArg(w)
	}
	return strings.Join(q, " ")
}

// condOf returns " if COND" from the words after the regex(es).
func condOf(a []string, from int) string {
	if len(a) > from {
		return " " + joinArgs(a[from:])
	}
	return ""
}

// addHeader translates `reqadd Name:\ value [if COND]`.
func addHeader(fam string) func([]string) string {
	return func(a []string) string {
		name, value, ok := strings.Cut(firstOr(a, "NAME: VALUE"), ":")
		if !ok || !isHeaderName(name) {
			return fam + " add-header NAME VALUE"
		}
		return fam + " add-header " + name + " " + quoteArg(strings.TrimSpace(value)) + condOf(a, 1)
	}
}

// delHeader translates `reqdel ^Name: [if COND]`.
func delHeader(fam string) func([]string) string {
	return func(a []string) string {
		name, rest, ok := headerRegex(firstOr(a, ""))
		if !ok || rest != "" {
			return fam + " del-header NAME (or replace-header NAME REGEX REPLACEMENT for a part of a value)"
		}
		return fam + " del-header " + name + condOf(a, 1)
	}
}

// replaceHeader translates `reqirep ^Name:\ regex  Name:\ replacement`.
func replaceHeader(fam string, fold bool) func([]string) string {
	return func(a []string) string {
		if len(a) < 2 {
			return fam + " replace-header NAME REGEX REPLACEMENT"
		}
		name, re, ok := headerRegex(a[0])
		name2, repl, ok2 := headerRegex(a[1])
		if !ok || !ok2 || !strings.EqualFold(name, name2) {
			if fam == "http-request" {
				return "http-request replace-path REGEX REPLACEMENT (request line) or http-request replace-header NAME REGEX REPLACEMENT (a header)"
			}
			return fam + " replace-header NAME REGEX REPLACEMENT"
		}
		if (re == "" || re == ".*") && !strings.Contains(repl, "\\") {
			// The whole value is replaced by a constant.
			return fam + " set-header " + name + " " + quoteArg(repl) + condOf(a, 2)
		}
		if fold {
			re = "(?i)" + re
		}
		return fam + " replace-header " + name + " " + quoteArg(re) + " " + quoteArg(repl) + condOf(a, 2)
	}
}

// regexRule translates `reqdeny ^Name:\ regex` into an ACL on the header.
func regexRule(action, dir string, fold bool) func([]string) string {
	return func(a []string) string {
		name, re, ok := headerRegex(firstOr(a, ""))
		if !ok {
			return action + " if COND (an ACL on method, path or " + dir + ".hdr instead of a regex on the raw line)"
		}
		if re == "" || re == ".*" {
			return action + " if { " + dir + ".hdr(" + name + ") -m found }"
		}
		flag := ""
		if fold {
			flag = "-i "
		}
		return action + " if { " + dir + ".hdr(" + name + ") " + flag + "-m reg " + quoteArg(re) + " }"
	}
}
