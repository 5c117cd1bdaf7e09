package sample

import (
	"fmt"
	"strings"
)

// Template is a string with `%[expr]` parts, as HAProxy's header values,
// redirect locations and dynamic backend names are written. Only %[...] and
// %% are interpreted; other % sequences stay literal text.
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
