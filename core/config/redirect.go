package config

import "strings"

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
