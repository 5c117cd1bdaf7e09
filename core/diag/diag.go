// Package diag carries configuration diagnostics: every problem found while
// reading haproxy.cfg or keepalived.conf, with the file, line and keyword it
// concerns and a hint that tells the user what to write instead.
//
// Parsers collect diagnostics into a List rather than stopping at the first
// one, because `varde check` must print every problem in one run.
package diag

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Severity orders diagnostics: an Error makes a configuration invalid, a
// Warning does not.
type Severity int

const (
	Warning Severity = iota
	Error
	// Notice is information the configuration asked to print (.notice):
	// never a problem, hidden with -q.
	Notice
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Notice:
		return "notice"
	}
	return "warning"
}

// Pos is a place in a configuration file. Line and Col are 1-based; Col may be 0
// when only the line is known.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col,omitempty"`
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Diagnostic is one problem in a configuration.
type Diagnostic struct {
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	Keyword  string   `json:"keyword"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
}

// String renders the diagnostic in the format `varde check` prints:
// FILE:LINE: error|warning: KEYWORD: message (hint: ...)
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.Pos.String())
	b.WriteString(": ")
	b.WriteString(d.Severity.String())
	b.WriteString(": ")
	if d.Keyword != "" {
		b.WriteString(d.Keyword)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	if d.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(d.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// List accumulates diagnostics. The zero value is ready to use.
type List struct {
	items []Diagnostic
}

// Errorf records an error.
func (l *List) Errorf(pos Pos, keyword, hint, format string, args ...any) {
	l.Add(Diagnostic{Pos: pos, Severity: Error, Keyword: keyword, Message: fmt.Sprintf(format, args...), Hint: hint})
}

// Warnf records a warning.
func (l *List) Warnf(pos Pos, keyword, hint, format string, args ...any) {
	l.Add(Diagnostic{Pos: pos, Severity: Warning, Keyword: keyword, Message: fmt.Sprintf(format, args...), Hint: hint})
}

// Add records a diagnostic.
func (l *List) Add(d Diagnostic) { l.items = append(l.items, d) }

// Merge appends every diagnostic of o.
func (l *List) Merge(o *List) {
	if o != nil {
		l.items = append(l.items, o.items...)
	}
}

// Items returns the diagnostics sorted by file, line, then severity.
func (l *List) Items() []Diagnostic {
	out := append([]Diagnostic(nil), l.items...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Pos, out[j].Pos
		if a.File != b.File {
			return false // keep file order as given (-f order)
		}
		return a.Line < b.Line
	})
	return out
}

// HasErrors reports whether any diagnostic is an Error.
func (l *List) HasErrors() bool {
	for _, d := range l.items {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Reset empties the list, keeping its storage.
func (l *List) Reset() { l.items = l.items[:0] }

// Len is the number of diagnostics.
func (l *List) Len() int { return len(l.items) }

// Err returns nil when the list holds no errors, otherwise an error whose text
// lists every error (warnings excluded).
func (l *List) Err() error {
	if !l.HasErrors() {
		return nil
	}
	return &ListError{List: l}
}

// Write prints the diagnostics, one per line, repeated ones grouped (see
// Groups). With errorsOnly, warnings and notices are skipped.
func (l *List) Write(w io.Writer, errorsOnly bool) {
	for _, g := range l.Groups() {
		if errorsOnly && g.Severity != Error {
			continue
		}
		fmt.Fprintln(w, g.String())
	}
}

// ListError wraps a List that holds at least one error.
type ListError struct{ List *List }

func (e *ListError) Error() string {
	var b strings.Builder
	n := 0
	for _, g := range e.List.Groups() {
		if g.Severity != Error {
			continue
		}
		if n > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(g.String())
		n++
	}
	return b.String()
}
