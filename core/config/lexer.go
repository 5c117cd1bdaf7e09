package config

import (
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// Token is one word of a configuration line after HAProxy's quoting,
// escaping and environment expansion, with the place it starts.
type Token struct {
	Text   string   `json:"text"`
	Pos    diag.Pos `json:"pos"`
	Quoted bool     `json:"quoted,omitempty"` // some part of the word was quoted
}

// Line is one non-empty configuration line split into words.
type Line struct {
	Pos   diag.Pos `json:"pos"`
	Words []Token  `json:"words"`
}

// Keyword is the first word of the line, "" for an empty line.
func (l Line) Keyword() string {
	if len(l.Words) == 0 {
		return ""
	}
	return l.Words[0].Text
}

// Args returns the words after the first n.
func (l Line) Args(n int) []Token {
	if n >= len(l.Words) {
		return nil
	}
	return l.Words[n:]
}

// Texts returns the text of the tokens.
func Texts(ts []Token) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Text
	}
	return out
}

// maxLineLen bounds a line as HAProxy does (its LINESIZE is 2048); longer
// lines are an error rather than silently truncated.
const maxLineLen = 64 * 1024

// maxWords is HAProxy's MAX_LINE_ARGS: haproxy -c refuses longer lines.
const maxWords = 64

// Lex splits a haproxy.cfg-syntax file into lines of words, following
// HAProxy's rules: '#' starts a comment outside quotes; words are separated
// by blanks; single quotes keep everything literal; double quotes group
// words and expand ${VAR}; a backslash outside single quotes escapes one of
// ` \ # ' "` (and `$` inside double quotes) and reads \r \n \t \xHH; any
// other backslash is kept as is, so regexes such as `path_reg ^/a\.b`
// survive. ${VAR} is expanded inside double quotes only, as HAProxy does;
// ${VAR-default} falls back to "default" when VAR is empty. env may be nil
// (no variable is set). TestLexMatchesHAProxy pins these rules against the
// real haproxy binary.
func Lex(file string, src []byte, env func(string) string, d *diag.List) []Line {
	if env == nil {
		env = func(string) string { return "" }
	}
	var lines []Line
	lineNo := 0
	for len(src) > 0 {
		lineNo++
		var raw []byte
		if i := indexByte(src, '\n'); i >= 0 {
			raw, src = src[:i], src[i+1:]
		} else {
			raw, src = src, nil
		}
		if n := len(raw); n > 0 && raw[n-1] == '\r' {
			raw = raw[:n-1]
		}
		pos := diag.Pos{File: file, Line: lineNo, Col: 1}
		if len(raw) > maxLineLen {
			d.Errorf(pos, "", "split the line or shorten it", "line is longer than %d bytes", maxLineLen)
			continue
		}
		words := lexLine(file, lineNo, string(raw), env, d)
		if len(words) > maxWords {
			d.Errorf(words[maxWords].Pos, words[0].Text, "split the line (HAProxy has the same limit)", "too many words on one line (%d, at most %d)", len(words), maxWords)
			words = words[:maxWords]
		}
		if len(words) > 0 {
			pos.Col = words[0].Pos.Col
			lines = append(lines, Line{Pos: pos, Words: words})
		}
	}
	return lines
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func lexLine(file string, lineNo int, s string, env func(string) string, d *diag.List) []Token {
	words := make([]Token, 0, 8) // most lines have fewer words
	var (
		cur    strings.Builder
		in     bool // inside a word
		quoted bool
		start  int
		squote bool
		dquote bool
		qstart int
	)
	pos := func(i int) diag.Pos { return diag.Pos{File: file, Line: lineNo, Col: i + 1} }
	flush := func() {
		if in {
			words = append(words, Token{Text: cur.String(), Pos: pos(start), Quoted: quoted})
		}
		cur.Reset()
		in, quoted = false, false
	}
	begin := func(i int) {
		if !in {
			in, start = true, i
		}
	}
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case squote:
			if c == '\'' {
				squote = false
			} else {
				cur.WriteByte(c)
			}
			i++
		case c == '\'' && !dquote:
			begin(i)
			squote, quoted, qstart = true, true, i
			i++
		case c == '"':
			begin(i)
			dquote = !dquote
			quoted = true
			if dquote {
				qstart = i
			}
			i++
		case c == '#' && !dquote:
			i = len(s)
		case isBlank(c) && !dquote:
			flush()
			i++
		case c == '\\':
			begin(i)
			if i+1 >= len(s) {
				cur.WriteByte('\\')
				i++
				break
			}
			n := s[i+1]
			switch n {
			case ' ', '\\', '#', '\'', '"':
				cur.WriteByte(n)
				i += 2
			case '$':
				// Only in double quotes, where $ is special, is \$ an escape.
				if dquote {
					cur.WriteByte('$')
				} else {
					cur.WriteString(`\$`)
				}
				i += 2
			case 'r':
				cur.WriteByte('\r')
				i += 2
			case 'n':
				cur.WriteByte('\n')
				i += 2
			case 't':
				cur.WriteByte('\t')
				i += 2
			case 'x':
				if i+3 < len(s)+0 && isHex(s[i+2]) && isHex(s[i+3]) {
					cur.WriteByte(unhex(s[i+2])<<4 | unhex(s[i+3]))
					i += 4
				} else {
					d.Errorf(pos(i), "", `write \xHH with two hexadecimal digits`, "invalid \\x escape sequence")
					cur.WriteString(`\x`)
					i += 2
				}
			default:
				cur.WriteByte('\\')
				i++
			}
		case c == '$' && dquote && i+1 < len(s) && s[i+1] == '{':
			begin(i)
			end := strings.IndexByte(s[i+2:], '}')
			if q := strings.IndexByte(s[i+2:], '"'); end < 0 || (q >= 0 && q < end) {
				d.Errorf(pos(i), "", "close the variable with '}'", "unterminated ${...} environment variable")
				cur.WriteString("${")
				i += 2
				break
			}
			name := s[i+2 : i+2+end]
			def, hasDef := "", false
			if j := strings.IndexByte(name, '-'); j >= 0 {
				name, def, hasDef = name[:j], name[j+1:], true
			}
			v := env(name)
			if v == "" && hasDef {
				v = def
			}
			if v == "" && !hasDef {
				d.Warnf(pos(i), "", "export the variable before starting varde, or write ${"+name+"-default}", "environment variable %q is empty or not set", name)
			}
			cur.WriteString(v)
			i += 3 + end
		default:
			if c == '$' && !dquote && i+1 < len(s) && s[i+1] == '{' {
				d.Warnf(pos(i), "", "write \"${VAR}\" in double quotes", "${...} outside double quotes is kept literally, not expanded (as in HAProxy)")
			}
			begin(i)
			cur.WriteByte(c)
			i++
		}
	}
	if squote || dquote {
		d.Errorf(pos(qstart), "", "close the quote on the same line", "unterminated quote")
	}
	flush()
	if len(words) == 0 {
		return nil
	}
	return words
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
