package sample

import (
	"fmt"
	"strings"
)

// Template is a string with `%[expr]` parts, as HAProxy's header values,
// redirect locations and dynamic backend names are written (they are
// log-format strings there). %[expr], %% and the log-format variables that
// name a fetch (%ci, %b, %ST... see logAliases) are interpreted; a '%'
// before anything else stays literal text.
type Template struct {
	src   string
	parts []tmplPart
}

type tmplPart struct {
	lit  string
	expr *Expr
}

// ParseTemplate compiles s; each expression must be valid at o.Where.
func ParseTemplate(s string, o Options) (*Template, error) {
	t := &Template{src: s}
	var lit strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "%%"):
			lit.WriteByte('%')
			i += 2
		case strings.HasPrefix(s[i:], "%["):
			e, n, err := ParsePrefix(s[i+2:], o)
			if err != nil {
				return nil, fmt.Errorf("%%[ at offset %d: %w", i, err)
			}
			end := i + 2 + n
			if end >= len(s) || s[end] != ']' {
				return nil, fmt.Errorf("%%[ at offset %d: missing ']' after %q", i, s[i+2:end])
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, tmplPart{lit: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, tmplPart{expr: e})
			i = end + 1
		case s[i] == '%' && i+1 < len(s) && s[i+1] == '{':
			return nil, errorf("write the value without flags", "%%{...} flags at offset %d are not supported in this value", i)
		case s[i] == '%' && i+1 < len(s) && isLetter(s[i+1]):
			name, e, err := logAlias(s[i+1:], o)
			if err != nil {
				return nil, fmt.Errorf("%%%s at offset %d: %w", name, i, err)
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, tmplPart{lit: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, tmplPart{expr: e})
			i += 1 + len(name)
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, tmplPart{lit: lit.String()})
	}
	return t, nil
}

// String is the template as written.
func (t *Template) String() string { return t.src }

// Dynamic reports whether the template has at least one expression.
func (t *Template) Dynamic() bool {
	for _, p := range t.parts {
		if p.expr != nil {
			return true
		}
	}
	return false
}

// Exprs lists the template's expressions.
func (t *Template) Exprs() []*Expr {
	var out []*Expr
	for _, p := range t.parts {
		if p.expr != nil {
			out = append(out, p.expr)
		}
	}
	return out
}

// Append appends the template's text for c to dst; an expression without a
// sample contributes nothing, as in HAProxy. scratch is returned for reuse.
func (t *Template) Append(dst []byte, c *Ctx, scratch []byte) ([]byte, []byte) {
	for i := range t.parts {
		p := &t.parts[i]
		if p.expr == nil {
			dst = append(dst, p.lit...)
			continue
		}
		dst, scratch, _ = p.expr.AppendTo(dst, c, scratch[:0])
	}
	return dst, scratch
}

// logAliases are the log-format variables with a fetch of the same
// meaning, usable in header values as in HAProxy.
var logAliases = map[string]string{
	"ci": "src", "cp": "src_port", "fi": "dst", "fp": "dst_port",
	"f": "fe_name", "ft": "fe_name", "b": "be_name", "s": "srv_name",
	"ST": "status", "HM": "method", "HU": "url", "HP": "path",
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// logAlias compiles the longest alias at the start of s ("%ci:%cp" reads
// ci), as HAProxy's log-format parser does.
func logAlias(s string, o Options) (string, *Expr, error) {
	j := 0
	for j < len(s) && isLetter(s[j]) {
		j++
	}
	for ; j > 0; j-- {
		if fetch, ok := logAliases[s[:j]]; ok {
			e, err := Parse(fetch, o)
			return s[:j], e, err
		}
	}
	n := 0
	for n < len(s) && isLetter(s[n]) {
		n++
	}
	return s[:n], nil, errorf("use a %[fetch] expression, e.g. %[req.hdr(host)]", "log-format variable %%%s is not supported in this value", s[:n])
}
