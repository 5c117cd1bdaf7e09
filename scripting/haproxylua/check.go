package haproxylua

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/scripting/luacompat"
)

// stripLua returns src with comments and string literals blanked (newlines
// kept), so that scans see only code and count lines right.
func stripLua(src string) string {
	b := []byte(src)
	blank := func(i, j int) {
		for k := i; k < j && k < len(b); k++ {
			if b[k] != '\n' {
				b[k] = ' '
			}
		}
	}
	for i := 0; i < len(b); {
		switch c := b[i]; {
		case c == '-' && i+1 < len(b) && b[i+1] == '-':
			if j, ok := longBracket(src, i+2); ok {
				blank(i, j)
				i = j
				continue
			}
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			blank(i, i+j)
			i += j
		case c == '[':
			if j, ok := longBracket(src, i); ok {
				blank(i, j)
				i = j
				continue
			}
			i++
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(b) && src[j] != c && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			blank(i, j+1)
			i = j + 1
		default:
			i++
		}
	}
	return string(b)
}

// longBracket recognises [[...]] / [==[...]==] at src[i:] and returns the
// index after its end.
func longBracket(src string, i int) (int, bool) {
	if i >= len(src) || src[i] != '[' {
		return 0, false
	}
	j := i + 1
	for j < len(src) && src[j] == '=' {
		j++
	}
	if j >= len(src) || src[j] != '[' {
		return 0, false
	}
	closing := "]" + strings.Repeat("=", j-i-1) + "]"
	k := strings.Index(src[j+1:], closing)
	if k < 0 {
		return len(src), true
	}
	return j + 1 + k + len(closing), true
}

// check53 refuses Lua 5.3-only syntax (HAProxy runs Lua 5.3, varde's
// gopher-lua is 5.1): integer division, bitwise operators and goto would
// otherwise fail as a bare syntax error or, worse, parse differently. The
// check is luacompat's, shared with varde's own policies.
func check53(file, src string) error {
	return luacompat.Check53([]byte(src), file)
}

// The HAProxy Lua API varde provides; a script that uses anything else is
// refused at check time, naming it (never a nil error at request time).
var (
	apiCore = set("register_action", "register_fetches", "register_converters", "register_service",
		"register_init", "Debug", "Info", "Warning", "Alert", "log", "now", "tokenize", "sleep", "msleep",
		"backends", "yield", "thread", "tcp", "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
	apiTxn = set("set_var", "get_var", "unset_var", "set_priv", "get_priv", "reply", "done",
		"Info", "Alert", "Warning", "Debug", "log", "http", "f", "sf", "c", "sc")
	apiHTTP = set("req_get_headers", "req_set_header", "req_add_header", "req_del_header",
		"req_set_path", "req_set_query", "req_set_uri", "req_set_method",
		"res_get_headers", "res_set_header", "res_add_header", "res_del_header", "res_set_status")
	apiApplet = set("set_status", "add_header", "start_response", "send", "receive", "getline",
		"headers", "method", "path", "qs", "version", "length", "set_var", "get_var", "unset_var",
		"set_priv", "get_priv", "f", "sf")
	apiReply  = set("set_status", "add_header", "del_header", "set_body")
	apiAct    = set("CONTINUE", "STOP", "YIELD", "ERROR", "DONE", "DENY", "ABORT", "INVALID")
	apiServer = set("get_stats", "get_addr", "get_name", "name", "puid")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// apiUse is one pattern of the static scan: the objects are named as
// HAProxy's documentation and nearly every script name them.
var apiUses = []struct {
	re    *regexp.Regexp
	what  string
	known map[string]bool
}{
	{regexp.MustCompile(`\bcore\s*\.\s*([A-Za-z_]\w*)`), "core.%s", apiCore},
	{regexp.MustCompile(`\btxn\s*\.\s*http\s*:\s*([A-Za-z_]\w*)`), "txn.http:%s", apiHTTP},
	{regexp.MustCompile(`\btxn\s*:\s*([A-Za-z_]\w*)`), "txn:%s", apiTxn},
	{regexp.MustCompile(`\btxn\s*\.\s*([A-Za-z_]\w*)`), "txn.%s", apiTxn},
	{regexp.MustCompile(`\bapplet\s*[:.]\s*([A-Za-z_]\w*)`), "applet:%s", apiApplet},
	{regexp.MustCompile(`\breply\s*:\s*([A-Za-z_]\w*)`), "reply:%s", apiReply},
	{regexp.MustCompile(`\bact\s*\.\s*([A-Za-z_]\w*)`), "act.%s", apiAct},
	{regexp.MustCompile(`\b(?:server|srv)\s*:\s*([A-Za-z_]\w*)`), "server:%s", apiServer},
	// HAProxy's classes reached as globals (Map.new, Regex.new...): none
	// exists in varde's sandbox.
	{regexp.MustCompile(`(?:^|[^.:\w])(Map|Regex|Socket|Concat|StickTable|CertCache|Patref|Channel|HTTPMessage|Queue|AppletTCP)\s*[.:]\s*\w`), "the class %s", map[string]bool{}},
}

var (
	fetchUse = regexp.MustCompile(`\b(?:txn|applet)\s*\.\s*s?f\s*:\s*([A-Za-z_]\w*)`)
	convUse  = regexp.MustCompile(`\btxn\s*\.\s*s?c\s*:\s*([A-Za-z_]\w*)`)
)

// scanAPI lists, with their lines, the HAProxy Lua functions src uses
// that varde does not provide, and the txn.f/txn.sf fetches it does not
// evaluate (fetchKnown reports those).
func scanAPI(file, src string, fetchKnown func(string) bool) []error {
	code := stripLua(src)
	type found struct {
		at  int
		msg string
	}
	var all []found
	seen := map[string]bool{}
	report := func(at int, msg string) {
		if !seen[msg] {
			seen[msg] = true
			all = append(all, found{at, msg})
		}
	}
	for _, u := range apiUses {
		for _, m := range u.re.FindAllStringSubmatchIndex(code, -1) {
			name := code[m[2]:m[3]]
			if !u.known[name] {
				report(m[0], fmt.Sprintf("%s is not supported by varde's HAProxy Lua API (docs/haproxy-lua.md lists what is)", fmt.Sprintf(u.what, name)))
			}
		}
	}
	for _, m := range fetchUse.FindAllStringSubmatchIndex(code, -1) {
		name := code[m[2]:m[3]]
		if !fetchKnown(name) {
			report(m[0], fmt.Sprintf("fetch %s (txn.f/txn.sf) is not supported by varde (docs/samples.md lists the fetches)", name))
		}
	}
	for _, m := range convUse.FindAllStringSubmatchIndex(code, -1) {
		name := code[m[2]:m[3]]
		if _, ok := sample.LookupConverter(name); !ok {
			report(m[0], fmt.Sprintf("converter %s (txn.c/txn.sc) is not supported by varde (docs/samples.md lists the converters)", name))
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].at < all[j].at })
	var errs []error
	for _, f := range all {
		line := 1 + strings.Count(code[:f.at], "\n")
		errs = append(errs, fmt.Errorf("%s:%d: %s", file, line, f.msg))
	}
	return errs
}

var requireCall = regexp.MustCompile(`\brequire\b`)
var requireArg = regexp.MustCompile(`^\s*\(?\s*["']([\w.\-/]+)["']`)

// checkRequires refuses a require of a literal module name that no
// lua-prepend-path directory holds, wherever the call is (a require
// inside a function would otherwise fail only at request time).
func checkRequires(file, src string, paths []string) []error {
	code := stripLua(src)
	var errs []error
	for _, loc := range requireCall.FindAllStringIndex(code, -1) {
		m := requireArg.FindStringSubmatch(src[loc[1]:])
		if m == nil {
			continue
		}
		if f, _ := findModule(m[1], paths); f == "" {
			line := 1 + strings.Count(code[:loc[0]], "\n")
			errs = append(errs, fmt.Errorf("%s:%d: module %q not found in the lua-prepend-path directories (varde does not search HAProxy's default package.path)", file, line, m[1]))
		}
	}
	return errs
}
