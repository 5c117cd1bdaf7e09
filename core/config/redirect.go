package config

import (
	"strconv"
	"strings"
)

var redirectTypes = []string{"location", "prefix", "scheme"}

// parseRedirect reads a redirect's words. As HAProxy 2.6
// (http_parse_redirect_rule), the type and the options come in any order
// (`redirect code 301 prefix / drop-query`), a later type or code
// replacing an earlier one; a type is required.
func (p *parser) parseRedirect(key string, at Token, args []Token) (*Redirect, bool) {
	rd := &Redirect{Code: 302}
	for i := 0; i < len(args); i++ {
		t := args[i]
		needValue := func(usage, what string) (Token, bool) {
			if i+1 >= len(args) {
				p.d.Errorf(t.Pos, key, usage, "%s needs %s", t.Text, what)
				return Token{}, false
			}
			i++
			return args[i], true
		}
		switch t.Text {
		case "location", "prefix", "scheme":
			v, ok := needValue("http-request redirect location|prefix|scheme TARGET [code N]", "a target")
			if !ok {
				return nil, false
			}
			rd.Type, rd.Target = t.Text, v.Text
		case "code":
			v, ok := needValue("code 301|302|303|307|308", "a value")
			if !ok {
				return nil, false
			}
			n, err := strconv.Atoi(v.Text)
			if err != nil || !contains([]string{"301", "302", "303", "307", "308"}, v.Text) {
				p.d.Errorf(v.Pos, key, "301, 302, 303, 307 or 308", "invalid redirect code %q", v.Text)
				return nil, false
			}
			rd.Code = n
		case "drop-query":
			rd.DropQuery = true
		case "append-slash":
			rd.AppendSlash = true
		case "set-cookie", "clear-cookie":
			v, ok := needValue(t.Text+" NAME[=VALUE]", "a cookie")
			if !ok || !p.redirectCookie(key, rd, t.Text, v) {
				return nil, false
			}
		case "ignore-empty":
			// An empty location would be sent instead of no redirect.
			p.d.Errorf(t.Pos, key, "remove the option, or redirect with HAProxy until varde builds it", "redirect option ignore-empty is not built yet: an empty location would be sent instead of skipping the rule")
			return nil, false
		default:
			if rd.Type == "" {
				p.d.Errorf(t.Pos, key, hintNearest(t.Text, redirectTypes, "location, prefix or scheme"), "unknown redirect type %q", t.Text)
			} else {
				p.d.Errorf(t.Pos, key, "code N, drop-query, append-slash, set-cookie, clear-cookie", "unknown redirect option %q", t.Text)
			}
			return nil, false
		}
	}
	if rd.Type == "" {
		p.d.Errorf(at.Pos, key, "http-request redirect location|prefix|scheme TARGET [code N]", "redirect needs a type and a target")
		return nil, false
	}
	return rd, true
}

// redirectCookie reads the cookie of a redirect's set-cookie or
// clear-cookie option into rd.SetCookie. HAProxy 2.6 (http_rules.c) sends
// the text as written followed by "; path=/;" (set) or
// "; path=/; Max-Age=0;" (clear), one Set-Cookie header per redirect, the
// last option written winning. A text a header cannot carry (control
// characters, which the config's escapes can produce) is refused rather
// than sent mangled.
func (p *parser) redirectCookie(key string, rd *Redirect, opt string, arg Token) bool {
	v := arg.Text
	if v == "" || strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		p.d.Errorf(arg.Pos, key, opt+" NAME[=VALUE] with printable characters", "invalid cookie %q for %s", v, opt)
		return false
	}
	if opt == "set-cookie" {
		rd.SetCookie = v + "; path=/;"
	} else {
		rd.SetCookie = v + "; path=/; Max-Age=0;"
	}
	return true
}
