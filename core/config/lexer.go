package config

import (
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// Token is one word of a configuration line after HAProxy's quoting,
// escaping and environment expansion, with the place it starts.
type Token struct {
	Text   string   `json:"text"`
	Pos    diag.Pos `json:"pos"`
	Quoted bool     `json:"quoted,omitempty"` // some part of the word was quoted
	// BareVar is set when the word holds `${` outside double quotes: the lexer kept it literally, as HAProxy does;
	// address parsers expand it later (HAProxy's env_expand), other
	// keywords warn.
	BareVar bool `json:"-"`
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
// HAProxy 2.6's parse_line(): '#' starts a comment outside quotes; words are
// separated by blanks; single quotes keep everything literal; double quotes
// group words and expand $VAR, ${VAR}, ${VAR-default} and ${VAR[*]} (one
// word per space-separated value); a backslash outside single quotes
// escapes one of ` \ # ' "` (and `$` inside double quotes) and reads \r \n
// \t \xHH; any other backslash is kept as is, so regexes such as
// `path_reg ^/a\.b` survive. Outside double quotes `$` is literal. As in
// HAProxy, a line with a lexing error (unterminated quote or brace, bad
// \x, a `$` not followed by a name inside double quotes, too many words) is
// reported once and dropped whole, so it causes no follow-on errors.
// env may be nil (no variable is set); an empty variable counts as unset.
// TestLexMatchesHAProxy pins these rules against the real haproxy binary.
func Lex(file string, src []byte, env func(string) string, d *diag.List) []Line {
	lx := &lexer{file: file, env: env, d: d}
	var lines []Line
	eachLine(src, func(n int, raw []byte) {
		if l, ok := lx.line(n, raw, ""); ok {
			lines = append(lines, l)
		}
	})
	return lines
}

// eachLine calls fn with every line of src (1-based number, without its
// line ending).
func eachLine(src []byte, fn func(n int, raw []byte)) {
	n := 0
	for len(src) > 0 {
		n++
		var raw []byte
		if i := indexByte(src, '\n'); i >= 0 {
			raw, src = src[:i], src[i+1:]
		} else {
			raw, src = src, nil
		}
		fn(n, raw)
	}
}

// lexer holds what every line of one file shares.
type lexer struct {
	file string
	env  func(string) string
	d    *diag.List
}

// line lexes one raw line; section is the value of ${.SECTION}. ok is false
// for an empty line or one dropped for a lexing error.
func (lx *lexer) line(n int, raw []byte, section string) (Line, bool) {
	pos := diag.Pos{File: lx.file, Line: n, Col: 1}
	if len(raw) > maxLineLen {
		lx.d.Errorf(pos, "", "split the line or shorten it", "line is longer than %d bytes", maxLineLen)
		return Line{}, false
	}
	ll := lineLexer{lx: lx, s: string(raw), lineNo: n, section: section}
	words, ok := ll.run()
	if !ok || len(words) == 0 {
		return Line{}, false
	}
	if len(words) > maxWords {
		lx.d.Errorf(words[maxWords].Pos, words[0].Text, "split the line (HAProxy has the same limit)", "too many words on one line (%d, at most %d); line ignored", len(words), maxWords)
		return Line{}, false
	}
	pos.Col = words[0].Pos.Col
	return Line{Pos: pos, Words: words}, true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// isSpace is C's isspace() minus the line ends, which end the line.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' }

// lineLexer is the state of one line being split.
type lineLexer struct {
	lx      *lexer
	s       string
	lineNo  int
	section string

	words          []Token
	cur            strings.Builder
	in             bool // inside a word
	quoted         bool
	bareVar        bool
	start          int
	squote, dquote bool
	qstart         int
}

func (ll *lineLexer) pos(i int) diag.Pos {
	return diag.Pos{File: ll.lx.file, Line: ll.lineNo, Col: i + 1}
}

func (ll *lineLexer) flush() {
	if ll.in {
		ll.words = append(ll.words, Token{Text: ll.cur.String(), Pos: ll.pos(ll.start), Quoted: ll.quoted, BareVar: ll.bareVar})
	}
	ll.cur.Reset()
	ll.in, ll.quoted, ll.bareVar = false, false, false
}

func (ll *lineLexer) begin(i int) {
	if !ll.in {
		ll.in, ll.start = true, i
	}
}

// fail reports a lexing error at byte i, under the line's first word when
// it is complete; the caller drops the line.
func (ll *lineLexer) fail(i int, hint, format string, args ...any) bool {
	kw := ""
	if len(ll.words) > 0 {
		kw = ll.words[0].Text
	}
	ll.lx.d.Errorf(ll.pos(i), kw, hint, format+"; line ignored", args...)
	return false
}

// run splits the line; ok is false after a lexing error.
func (ll *lineLexer) run() (words []Token, ok bool) {
	s := ll.s
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '\r' || c == 0 {
			break // HAProxy stops reading the line at CR or NUL
		}
		switch {
		case ll.squote:
			if c == '\'' {
				ll.squote = false
			} else {
				ll.cur.WriteByte(c)
			}
			i++
		case c == '\'' && !ll.dquote:
			ll.begin(i)
			ll.squote, ll.quoted, ll.qstart = true, true, i
			i++
		case c == '"':
			ll.begin(i)
			ll.dquote, ll.quoted = !ll.dquote, true
			if ll.dquote {
				ll.qstart = i
			}
			i++
		case c == '#' && !ll.dquote:
			i = len(s)
		case isSpace(c) && !ll.dquote:
			ll.flush()
			i++
		case c == '\\':
			ll.begin(i)
			n, ok := ll.escape(i)
			if !ok {
				return nil, false
			}
			i = n
		case c == '$' && ll.dquote:
			ll.begin(i)
			n, ok := ll.variable(i)
			if !ok {
				return nil, false
			}
			i = n
		default:
			// Only ${ is flagged: a bare $name is common in crypt(3)
			// hashes ($6$salt$...) and is literal to HAProxy too.
			if c == '$' && i+1 < len(s) && s[i+1] == '{' {
				ll.bareVar = true
			}
			ll.begin(i)
			ll.cur.WriteByte(c)
			i++
		}
	}
	if ll.squote || ll.dquote {
		return nil, ll.fail(ll.qstart, "close the quote on the same line", "unterminated quote")
	}
	ll.flush()
	return ll.words, true
}

// escape reads the backslash sequence at i and returns the next index.
func (ll *lineLexer) escape(i int) (int, bool) {
	s := ll.s
	if i+1 >= len(s) {
		ll.cur.WriteByte('\\')
		return i + 1, true
	}
	switch n := s[i+1]; n {
	case ' ', '\\', '#', '\'', '"':
		ll.cur.WriteByte(n)
	case '$':
		// Only in double quotes, where $ is special, is \$ an escape.
		if ll.dquote {
			ll.cur.WriteByte('$')
		} else {
			ll.cur.WriteString(`\$`)
		}
	case 'r':
		ll.cur.WriteByte('\r')
	case 'n':
		ll.cur.WriteByte('\n')
	case 't':
		ll.cur.WriteByte('\t')
	case 'x':
		if i+3 >= len(s) || !isHex(s[i+2]) || !isHex(s[i+3]) {
			return 0, ll.fail(i, `write \xHH with two hexadecimal digits`, "truncated or invalid \\x escape sequence")
		}
		ll.cur.WriteByte(unhex(s[i+2])<<4 | unhex(s[i+3]))
		return i + 4, true
	default:
		ll.cur.WriteByte('\\')
		return i + 1, true
	}
	return i + 2, true
}

func isNameStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isNameChar(c byte) bool { return isNameStart(c) || (c >= '0' && c <= '9') }

// variable expands the $VAR, ${VAR}, ${VAR-default} or ${VAR[*]} starting
// at i (inside double quotes) and returns the next index, following
// HAProxy 2.6's parse_line().
func (ll *lineLexer) variable(i int) (int, bool) {
	s := ll.s
	j, brace := i+1, -1
	if j < len(s) && s[j] == '{' {
		brace, j = j, j+1
	}
	if j >= len(s) || !(isNameStart(s[j]) || s[j] == '.') {
		return 0, ll.fail(j, `write $NAME or ${NAME} with a letter or '_' first, or \$ for a literal dollar`, "forbidden first character in environment variable name")
	}
	nameAt := j
	if s[j] == '.' {
		j++
	}
	for j < len(s) && isNameChar(s[j]) {
		j++
	}
	name := s[nameAt:j]
	value, ok := ll.lookup(name)
	if !ok {
		return 0, ll.fail(nameAt, "the pseudo-variables are .FILE, .LINE and .SECTION", "unknown pseudo-variable %q", name)
	}
	expand := false
	if brace >= 0 && j < len(s) && s[j] == '[' {
		if !strings.HasPrefix(s[j:], "[*]") {
			return 0, ll.fail(j, "write ${NAME[*]}", "truncated or invalid word expansion sequence")
		}
		expand, j = true, j+3
	}
	hasDef := brace >= 0 && j < len(s) && s[j] == '-'
	if value == "" && !hasDef && !strings.HasPrefix(name, ".") {
		ll.lx.d.Warnf(ll.pos(i), "", "export the variable before starting varde, or write ${"+name+"-default}", "environment variable %q is empty or not set", name)
	}
	if brace >= 0 {
		if hasDef {
			end := strings.IndexByte(s[j:], '}')
			if end < 0 {
				return 0, ll.fail(brace, "close the variable with '}'", "unmatched brace in environment variable name")
			}
			if value == "" {
				value = s[j+1 : j+end]
			}
			j += end
		} else if j >= len(s) || s[j] != '}' {
			return 0, ll.fail(brace, "close the variable with '}'", "unmatched brace in environment variable name")
		}
		j++
	}
	ll.emit(i, value, expand)
	return j, true
}

// lookup resolves a variable name, including HAProxy's pseudo-variables.
func (ll *lineLexer) lookup(name string) (string, bool) {
	switch name {
	case ".LINE":
		return strconv.Itoa(ll.lineNo), true
	case ".FILE":
		return ll.lx.file, true
	case ".SECTION":
		return ll.section, true
	}
	if strings.HasPrefix(name, ".") {
		return "", false
	}
	if ll.lx.env == nil {
		return "", true
	}
	return ll.lx.env(name), true
}

// emit writes a variable's value; with expand (${VAR[*]}) every run of
// blanks in the value ends the current word, as HAProxy does.
func (ll *lineLexer) emit(at int, value string, expand bool) {
	for k := 0; k < len(value); k++ {
		c := value[k]
		if !expand || !(isSpace(c) || c == '\n' || c == '\r') {
			ll.cur.WriteByte(c)
			continue
		}
		ll.flush()
		ll.begin(at)
		ll.quoted = true
		for k+1 < len(value) && (isSpace(value[k+1]) || value[k+1] == '\n' || value[k+1] == '\r') {
			k++
		}
	}
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
