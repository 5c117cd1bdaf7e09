package config

import (
	"strings"
)

// hasBlank reports whether a keyword word holds a blank, which only quoting
// or escaping can produce: `"option httplog"` is one word to HAProxy, an
// unknown keyword, not the option.
func hasBlank(s string) bool { return strings.ContainsAny(s, " \t\v\f\r\n") }

// quotedKeyword reports a keyword written as one quoted word, e.g.
// `"option httplog"` or `option "httplog clf"`. secName is where it was
// found. It returns true when the line was refused.
func (p *parser) quotedKeyword(words []Token, secName string) bool {
	n := 0
	switch {
	case len(words) > 0 && hasBlank(words[0].Text):
		n = 1
	case len(words) > 1 && isFamily(words[0].Text) && hasBlank(words[1].Text):
		n = 2
	default:
		return false
	}
	key := strings.Join(Texts(words[:n]), " ")
	if n == 2 && (words[0].Text == "no" || words[0].Text == "default") {
		key = words[1].Text // `no "option httplog"`: the quoted word is the keyword
	}
	where := "outside of any section"
	if secName != "" {
		where = "in " + secName + " section"
	}
	p.d.Errorf(words[n-1].Pos, key, "write "+strings.Join(strings.Fields(strings.Join(Texts(words[:n]), " ")), " ")+" without quotes; quoted, it is a single word", "unknown keyword %q %s", key, where)
	return true
}

// isFamily tells the keywords whose second word names the keyword.
func isFamily(kw string) bool {
	switch kw {
	case "option", "timeout", "stats", "http-check", "tcp-check", "http-request", "http-response", "http-after-response", "capture", "declare", "no", "default":
		return true
	}
	return false
}

// noteSection keeps the value of ${.SECTION}: the section's name, or its
// kind when it has none, as HAProxy's cfg_curr_section.
func (p *parser) noteSection(l Line) {
	kw := l.Keyword()
	_, unsupported := UnsupportedSections[kw]
	switch kw {
	case "global", "defaults", "frontend", "backend", "listen":
	default:
		if !unsupported {
			return
		}
	}
	p.secLabel = kw
	if len(l.Words) > 1 {
		p.secLabel = l.Words[1].Text
	}
}

// addressWord returns the index of the word of l that HAProxy reads as an
// address with str2sa_range(), or -1.
func addressWord(l Line, section string) int {
	w := l.Words
	switch {
	case w[0].Text == "bind" && len(w) > 1:
		return 1
	case w[0].Text == "server" && len(w) > 2:
		return 2
	case w[0].Text == "log" && len(w) > 1 && w[1].Text != "global":
		return 1
	case section == "global" && w[0].Text == "stats" && len(w) > 2 && w[1].Text == "socket":
		return 2
	}
	return -1
}

// expandAddresses applies HAProxy's second environment expansion: an
// address (bind, server, log target, stats socket) goes through
// env_expand(), which replaces $VAR and ${VAR} even outside double quotes,
// so `server s1 ${HOST}:80` works unquoted. Elsewhere a bare ${VAR} stays
// literal, which is worth a warning.
func (p *parser) expandAddresses(l Line) {
	ai := addressWord(l, p.section)
	for i := range l.Words {
		t := &l.Words[i]
		if i == ai {
			if strings.IndexByte(t.Text, '$') >= 0 {
				t.Text = envExpand(t.Text, p.env)
			}
			continue
		}
		if t.BareVar {
			p.d.Warnf(t.Pos, l.Keyword(), `write "${VAR}" in double quotes`, "$VAR outside double quotes is kept literally, not expanded (as in HAProxy)")
		}
	}
}

// envExpand is HAProxy 2.6's env_expand(): `$NAME` or `${NAME}` (NAME made
// of letters, digits and '_') is replaced by the variable's value, empty
// when unset; there is no default syntax.
func envExpand(s string, env func(string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		j := i + 1
		brace := j < len(s) && s[j] == '{'
		if brace {
			j++
		}
		k := j
		for k < len(s) && isNameChar(s[k]) {
			k++
		}
		if k > j && env != nil {
			b.WriteString(env(s[j:k]))
		}
		if brace && k < len(s) && s[k] == '}' {
			k++
		}
		s = s[k:]
	}
}

// wellFormed refuses lines no keyword parser should see: an empty first
// word (HAProxy silently skips such a line; varde says so) and quoted
// keywords. It also records the section label for ${.SECTION}.
func (p *parser) wellFormed(l Line) bool {
	if l.Words[0].Text == "" {
		p.d.Warnf(l.Pos, "", "remove the empty quotes", "line ignored: its first word is empty (as in HAProxy)")
		return false
	}
	sec := p.section
	if sec == "skip" {
		sec = ""
	}
	if p.quotedKeyword(l.Words, sec) {
		return false
	}
	p.noteSection(l)
	return true
}
