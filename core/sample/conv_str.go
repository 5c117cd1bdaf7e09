package sample

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// String converters (§7.3.1). Converters never write into v.Str, which may
// alias the request: new bytes are appended to scratch.

func init() {
	str := func(name, doc string, min, max int, compile func([]string, *Args) error, fn func(a *Args, in, dst []byte) ([]byte, bool)) {
		RegisterConverter(&Converter{Name: name, MinArgs: min, MaxArgs: max, In: TypeStr, Out: TypeStr, Compile: compile, Doc: doc,
			Eval: func(a *Args, v *Value, scratch []byte) ([]byte, bool) {
				start := len(scratch)
				out, ok := fn(a, v.Str, scratch)
				v.SetStr(out[start:])
				return out, ok
			}})
	}
	str("lower", "lower-cases ASCII letters", 0, 0, nil, func(_ *Args, in, dst []byte) ([]byte, bool) { return appendCase(dst, in, 'A', 'Z', 'a'), true })
	str("upper", "upper-cases ASCII letters", 0, 0, nil, func(_ *Args, in, dst []byte) ([]byte, bool) { return appendCase(dst, in, 'a', 'z', 'A'), true })
	str("concat", "appends START then END (the variable form is not supported)", 0, 3, compileConcat, func(a *Args, in, dst []byte) ([]byte, bool) {
		return append(append(append(dst, in...), a.Str[0]...), a.Str[2]...), true
	})
	str("ltrim", "removes leading bytes found in CHARS", 1, 1, nil, func(a *Args, in, dst []byte) ([]byte, bool) {
		for len(in) > 0 && strings.IndexByte(a.Str[0], in[0]) >= 0 {
			in = in[1:]
		}
		return append(dst, in...), true
	})
	str("rtrim", "removes trailing bytes found in CHARS", 1, 1, nil, func(a *Args, in, dst []byte) ([]byte, bool) {
		for len(in) > 0 && strings.IndexByte(a.Str[0], in[len(in)-1]) >= 0 {
			in = in[:len(in)-1]
		}
		return append(dst, in...), true
	})
	str("cut_crlf", "cuts at the first CR or LF", 0, 0, nil, func(_ *Args, in, dst []byte) ([]byte, bool) {
		if i := bytes.IndexAny(in, "\r\n"); i >= 0 {
			in = in[:i]
		}
		return append(dst, in...), true
	})
	str("field", "the INDEX-th field (from 1, negative from the end) between DELIMITERS, COUNT fields (0 = all the rest)", 2, 3, compileFieldArgs, convField)
	str("word", "as field, but delimiters at the ends and runs of delimiters do not make empty words", 2, 3, compileFieldArgs, convWord)
	str("url_dec", "decodes %XX; '+' becomes a space after '?' or everywhere when IN_FORM is non-zero", 0, 1, compileIntArgs, convURLDec)
	str("json", "escapes for a JSON string; INPUT_CODE ascii (default), utf8, utf8s, utf8p or utf8ps", 0, 1, compileJSON, convJSON)
	str("regsub", "replaces the first match of REGEX (every match with flag g; i ignores case) by SUBST, where \\1 is a group", 2, 3, compileRegsub, convRegsub)
	RegisterConverter(&Converter{Name: "length", In: TypeStr, Out: TypeInt, Doc: "the string's length in bytes",
		Eval: func(_ *Args, v *Value, s []byte) ([]byte, bool) { v.SetInt(int64(len(v.Str))); return s, true }})
	registerBinary()
}

// appendCase maps the ASCII letters lo..hi onto to.. (the other case).
func appendCase(dst, in []byte, lo, hi, to byte) []byte {
	for _, c := range in {
		if c >= lo && c <= hi {
			c = c - lo + to
		}
		dst = append(dst, c)
	}
	return dst
}

func compileConcat(args []string, a *Args) error {
	if len(args) > 1 && args[1] != "" {
		return fmt.Errorf("variables (%q) are not supported yet; use START and END strings", args[1])
	}
	return nil
}

func compileIntArgs(args []string, a *Args) error {
	for i, s := range args {
		if s == "" {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("argument %d (%q) must be an integer", i+1, s)
		}
		a.Int[i] = n
	}
	return nil
}

func compileFieldArgs(args []string, a *Args) error {
	if err := compileIntArgs([]string{args[0]}, a); err != nil {
		return err
	}
	if a.Int[0] == 0 {
		return fmt.Errorf("index 0: fields count from 1 (or from -1 at the end)")
	}
	a.Int[2] = 1
	if len(args) > 2 {
		n, err := strconv.ParseInt(args[2], 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("count %q must be an integer from 0", args[2])
		}
		a.Int[2] = n
	}
	return nil
}

// splitFields returns the fields of in (every delimiter separates, so empty
// fields count), or with words only the non-empty ones.
func fieldBounds(in []byte, delims string, words bool, fn func(start, end int)) {
	start := 0
	for i := 0; i <= len(in); i++ {
		if i < len(in) && strings.IndexByte(delims, in[i]) < 0 {
			continue
		}
		if !words || i > start {
			fn(start, i)
		}
		start = i + 1
	}
}

func selectFields(in []byte, a *Args, words bool, dst []byte) ([]byte, bool) {
	var bounds [][2]int
	var inline [16][2]int
	bounds = inline[:0]
	fieldBounds(in, a.Str[1], words, func(s, e int) { bounds = append(bounds, [2]int{s, e}) })
	idx, count := a.Int[0], a.Int[2]
	n := int64(len(bounds))
	if count == 0 || count > n {
		count = n // all the rest; also keeps the sums below from overflowing
	}
	var first, last int64 // field indexes, inclusive
	if idx > 0 {
		first = idx - 1
		last = min(first+count-1, n-1)
	} else {
		last = n + max(idx, -n-1)
		first = max(last-count+1, 0)
	}
	if first < 0 || first >= n || last < first {
		return dst, true // no such field: an empty string, as HAProxy
	}
	return append(dst, in[bounds[first][0]:bounds[last][1]]...), true
}

func convField(a *Args, in, dst []byte) ([]byte, bool) { return selectFields(in, a, false, dst) }
func convWord(a *Args, in, dst []byte) ([]byte, bool)  { return selectFields(in, a, true, dst) }

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// convURLDec fails on a malformed %XX escape, as HAProxy's url_decode.
func convURLDec(a *Args, in, dst []byte) ([]byte, bool) {
	plus := a.Int[0] != 0
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch c {
		case '?':
			plus = true
		case '+':
			if plus {
				c = ' '
			}
		case '%':
			if i+2 >= len(in) {
				return dst, false
			}
			h, ok1 := unhex(in[i+1])
			l, ok2 := unhex(in[i+2])
			if !ok1 || !ok2 {
				return dst, false
			}
			c = h<<4 | l
			i += 2
		}
		dst = append(dst, c)
	}
	return dst, true
}

var jsonModes = map[string]int64{"": 0, "ascii": 0, "utf8": 1, "utf8s": 2, "utf8p": 3, "utf8ps": 4}

func compileJSON(args []string, a *Args) error {
	m, ok := jsonModes[a.Str[0]]
	if !ok {
		return fmt.Errorf("input code %q: want ascii, utf8, utf8s, utf8p or utf8ps", a.Str[0])
	}
	a.Int[0] = m
	return nil
}

// convJSON escapes as HAProxy's json converter: quote, backslash and slash
// are backslashed, \b \f \r \n \t by name, every other byte or character
// outside printable ASCII as \u00XX (\uXXXX for decoded UTF-8). The strict
// UTF-8 modes fail on invalid input, the "s" modes drop it; varde treats
// overlong forms as invalid in every mode.
func convJSON(a *Args, in, dst []byte) ([]byte, bool) {
	mode := a.Int[0]
	for len(in) > 0 {
		c, size := rune(in[0]), 1
		if mode != 0 {
			c, size = utf8.DecodeRune(in)
			if c == utf8.RuneError && size <= 1 || c > 0xffff {
				if mode == 1 || mode == 3 {
					return dst, false
				}
				in = in[max(size, 1):]
				continue
			}
		}
		in = in[size:]
		switch c {
		case '"', '\\', '/':
			dst = append(dst, '\\', byte(c))
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			if c < 0x20 || c >= 0x7f {
				const hx = "0123456789abcdef"
				dst = append(dst, '\\', 'u', hx[c>>12&15], hx[c>>8&15], hx[c>>4&15], hx[c&15])
			} else {
				dst = append(dst, byte(c))
			}
		}
	}
	return dst, true
}

type regsub struct {
	re     *regexp.Regexp
	tmpl   []byte
	global bool
}

func compileRegsub(args []string, a *Args) error {
	flags := ""
	if len(args) > 2 {
		flags = args[2]
	}
	r := &regsub{}
	expr := args[0]
	for _, f := range flags {
		switch f {
		case 'g':
			r.global = true
		case 'i':
			expr = "(?i)" + expr
		default:
			return fmt.Errorf("unknown flag %q (flags are g and i)", f)
		}
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return fmt.Errorf("bad regular expression %q: %v (varde uses Go RE2 syntax)", args[0], err)
	}
	r.re, r.tmpl = re, sedTemplate(args[1])
	a.P = r
	return nil
}

// sedTemplate turns sed's \1 references into Go's ${1} and protects '$'.
func sedTemplate(s string) []byte {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			b = append(b, "${"...)
			b = append(b, s[i+1], '}')
			i++
		case s[i] == '$':
			b = append(b, "$$"...)
		default:
			b = append(b, s[i])
		}
	}
	return b
}

// convRegsub costs the regexp engine's allocations for the match indexes.
func convRegsub(a *Args, in, dst []byte) ([]byte, bool) {
	r := a.P.(*regsub)
	n := 1
	if r.global {
		n = -1
	}
	last := 0
	for _, m := range r.re.FindAllSubmatchIndex(in, n) {
		dst = append(dst, in[last:m[0]]...)
		dst = r.re.Expand(dst, r.tmpl, in, m)
		last = m[1]
	}
	return append(dst, in[last:]...), true
}

// Binary encodings.
func registerBinary() {
	enc := func(name, doc string, out Type, fn func(in, dst []byte) ([]byte, bool)) {
		RegisterConverter(&Converter{Name: name, In: TypeBin, Out: out, Doc: doc,
			Eval: func(_ *Args, v *Value, scratch []byte) ([]byte, bool) {
				start := len(scratch)
				scratch, ok := fn(v.Str, scratch)
				*v = Value{Type: out, Str: scratch[start:]}
				return scratch, ok
			}})
	}
	enc("base64", "encodes in base64", TypeStr, func(in, dst []byte) ([]byte, bool) { return base64.StdEncoding.AppendEncode(dst, in), true })
	enc("ub64enc", "encodes in base64url, without padding", TypeStr, func(in, dst []byte) ([]byte, bool) {
		return base64.RawURLEncoding.AppendEncode(dst, in), true
	})
	enc("b64dec", "decodes base64; fails on invalid input", TypeBin, func(in, dst []byte) ([]byte, bool) {
		out, err := base64.StdEncoding.AppendDecode(dst, in)
		return out, err == nil
	})
	enc("ub64dec", "decodes base64url, padded or not; fails on invalid input", TypeBin, func(in, dst []byte) ([]byte, bool) {
		for len(in) > 0 && in[len(in)-1] == '=' {
			in = in[:len(in)-1]
		}
		out, err := base64.RawURLEncoding.AppendDecode(dst, in)
		return out, err == nil
	})
	enc("hex", "two upper-case hex digits per byte", TypeStr, func(in, dst []byte) ([]byte, bool) {
		const hx = "0123456789ABCDEF"
		for _, c := range in {
			dst = append(dst, hx[c>>4], hx[c&15])
		}
		return dst, true
	})
	RegisterConverter(&Converter{Name: "bytes", MinArgs: 1, MaxArgs: 2, In: TypeBin, Out: TypeBin, Compile: compileBytes,
		Doc: "LENGTH bytes (all without it) from OFFSET",
		Eval: func(a *Args, v *Value, s []byte) ([]byte, bool) {
			b := v.Str[min(int(a.Int[0]), len(v.Str)):]
			if a.N > 1 {
				b = b[:min(int(a.Int[1]), len(b))]
			}
			*v = Value{Type: TypeBin, Str: b}
			return s, true
		}})
	RegisterConverter(&Converter{Name: "hex2i", In: TypeStr, Out: TypeInt, Doc: "reads hex digits as an integer; 0 when invalid",
		Eval: func(_ *Args, v *Value, s []byte) ([]byte, bool) {
			n, err := strconv.ParseInt(bytesString(v.Str), 16, 64) // the error is dropped at once
			if err != nil {
				n = 0
			}
			v.SetInt(n)
			return s, true
		}})
}

func compileBytes(args []string, a *Args) error {
	if err := compileIntArgs(args, a); err != nil {
		return err
	}
	if a.Int[0] < 0 || a.Int[1] < 0 {
		return fmt.Errorf("offset and length must not be negative")
	}
	return nil
}
