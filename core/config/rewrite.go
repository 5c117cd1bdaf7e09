package config

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The message rewriting actions of HAProxy 2.6 (the engine's side is
// core/proxy/rewrite.go, the meaning docs/rewrite.md):
//
//	http-request set-method|set-path|set-pathq|set-query|set-uri FMT
//	http-request replace-path|replace-pathq|replace-uri REGEX FMT
//	http-request|http-response replace-header|replace-value NAME REGEX FMT
//	http-response set-status CODE [reason TEXT]
func init() {
	registerRuleParser(parseSetLine, "set-method", "set-path", "set-pathq", "set-query", "set-uri")
	registerRuleParser(parseReplaceLine, "replace-path", "replace-pathq", "replace-uri")
	registerRuleParser(parseReplaceHeader, "replace-header", "replace-value")
	registerRuleParser(parseSetStatus, "set-status")
	registerRuleParser(parseNormalizeURI, "normalize-uri")
}

// normalizers are HAProxy 2.6's normalize-uri normalizers and the option
// each accepts.
var normalizers = map[string]string{
	"fragment-encode": "", "fragment-strip": "", "path-merge-slashes": "", "path-strip-dot": "",
	"path-strip-dotdot": "full", "percent-decode-unreserved": "strict", "percent-to-uppercase": "strict",
	"query-sort-by-name": "",
}

// parseNormalizeURI reads `http-request normalize-uri NORMALIZER [OPTION]`
// into Name and Value. As in HAProxy 2.6 the action is experimental: the
// global section must say expose-experimental-directives first.
func parseNormalizeURI(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	if !requestOnly(p, key, act) {
		return false
	}
	if !p.cfg.Global.Experimental {
		p.d.Errorf(act.Pos, key, "add expose-experimental-directives to the global section, as HAProxy 2.6 requires", "'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'")
		return false
	}
	if len(args) == 0 {
		p.d.Errorf(act.Pos, key, key+" NORMALIZER [full|strict]", "missing argument <normalizer>")
		return false
	}
	opt, ok := normalizers[args[0].Text]
	if !ok {
		p.d.Errorf(args[0].Pos, key, hintNearest(args[0].Text, sortedKeys(normalizers), "see docs/rewrite.md"), "unknown normalizer %q", args[0].Text)
		return false
	}
	switch {
	case len(args) == 1 && opt != "" && r.Cond != nil:
		// HAProxy 2.6's parser leaves these normalizers unset when a
		// condition follows them, so it runs path-merge-slashes instead
		// (measured with 2.6.12): refused rather than given one meaning.
		p.d.Errorf(act.Pos, key, "drop the condition (e.g. move the rule to a backend chosen by it) or use the "+opt+" form",
			"HAProxy 2.6 runs `normalize-uri %s if|unless ...` as path-merge-slashes", args[0].Text)
		return false
	case len(args) == 1:
	case len(args) == 2 && opt != "" && args[1].Text == opt:
		r.Value = opt
	default:
		p.d.Errorf(args[1].Pos, key, key+" "+args[0].Text+optionHint(opt), "unknown argument %q for %q normalizer", args[1].Text, args[0].Text)
		return false
	}
	r.Name = args[0].Text
	return true
}

func optionHint(opt string) string {
	if opt == "" {
		return ""
	}
	return " [" + opt + "]"
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// rewriteFormat reports the actions whose Value is a log-format string the
// configuration checks like set-header's (acl.go validateRuleSamples).
func rewriteFormat(action string) bool {
	switch action {
	case "set-method", "set-path", "set-pathq", "set-query", "set-uri",
		"replace-path", "replace-pathq", "replace-uri", "replace-header", "replace-value":
		return true
	}
	return false
}

func requestOnly(p *parser, key string, act Token) bool {
	if !strings.HasPrefix(key, "http-request ") {
		p.d.Errorf(act.Pos, key, "use it in http-request rules", "%s is only an http-request action in HAProxy 2.6", act.Text)
		return false
	}
	return true
}

func parseSetLine(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	if !requestOnly(p, key, act) {
		return false
	}
	if len(args) != 1 || anyEmpty(args) {
		p.d.Errorf(act.Pos, key, key+" FMT (quote a format with spaces)", "%s expects exactly 1 argument <format>, got %d", act.Text, len(args))
		return false
	}
	r.Value = args[0].Text
	return true
}

func parseReplaceLine(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	if !requestOnly(p, key, act) {
		return false
	}
	if len(args) != 2 || anyEmpty(args) {
		p.d.Errorf(act.Pos, key, key+" REGEX FMT", "%s expects exactly 2 arguments <match-regex> <replace-fmt>, got %d", act.Text, len(args))
		return false
	}
	if !checkRegex(p, key, args[0]) {
		return false
	}
	r.Regex, r.Value = args[0].Text, args[1].Text
	return true
}

func parseReplaceHeader(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	if len(args) != 3 || anyEmpty(args) {
		p.d.Errorf(act.Pos, key, key+" NAME REGEX FMT", "%s expects exactly 3 arguments <name> <match-regex> <replace-fmt>, got %d", act.Text, len(args))
		return false
	}
	if !checkRegex(p, key, args[1]) {
		return false
	}
	r.Name, r.Regex, r.Value = args[0].Text, args[1].Text, args[2].Text
	return true
}

// checkRegex refuses, with its position, a regex Go's RE2 cannot run.
func checkRegex(p *parser, key string, t Token) bool {
	if _, err := regexp.Compile(t.Text); err != nil {
		p.d.Errorf(t.Pos, key, "varde's regular expressions are RE2: no back-references or look-around", "invalid regex %q: %v", t.Text, err)
		return false
	}
	return true
}

func parseSetStatus(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	if strings.HasPrefix(key, "http-request ") {
		p.d.Errorf(act.Pos, key, "use http-response set-status", "set-status is an http-response action")
		return false
	}
	if len(args) != 1 && (len(args) != 3 || args[1].Text != "reason") {
		p.d.Errorf(act.Pos, key, key+" CODE [reason TEXT]", "set-status expects a status code and an optional reason")
		return false
	}
	code, err := strconv.Atoi(args[0].Text)
	if err != nil || code < 100 || code > 999 {
		p.d.Errorf(args[0].Pos, key, "a status code from 100 to 999", "invalid status code %q", args[0].Text)
		return false
	}
	r.Status = code
	if len(args) == 3 {
		reason := args[2].Text
		if strings.ContainsAny(reason, "\r\n\x00") {
			p.d.Errorf(args[2].Pos, key, "one line of text", "a reason cannot hold a line break or NUL")
			return false
		}
		r.Reason = &reason
	}
	return true
}

// parseDelHeaderMatch reads del-header's `-m str|beg|end|sub|reg` into r.
func parseDelHeaderMatch(p *parser, key string, args []Token, r *HTTPRule) bool {
	m := args[2].Text
	switch m {
	case "str", "beg", "end", "sub":
	case "reg":
		if !checkRegex(p, key, args[0]) {
			return false
		}
	default:
		p.d.Errorf(args[2].Pos, key, "str, beg, end, sub or reg", "unknown del-header match method %q", m)
		return false
	}
	if m != "str" {
		r.Match = m
	}
	return true
}

// anyEmpty: HAProxy reads an empty word ("") as a missing argument.
func anyEmpty(args []Token) bool {
	for _, a := range args {
		if a.Text == "" {
			return true
		}
	}
	return false
}
