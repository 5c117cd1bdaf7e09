package diag

import (
	"fmt"
	"strconv"
	"strings"
)

// maxListedLines bounds the line numbers a grouped diagnostic names, so a
// file with hundreds of identical mistakes still prints one short line.
const maxListedLines = 10

// Group is a diagnostic and the later ones of the same file that say
// exactly the same thing (severity, keyword, message, hint) on other lines:
// a user with the same mistake on 15 lines reads it once, with the count
// and the lines.
type Group struct {
	Diagnostic
	More []Pos // the repetitions, in order
}

// String renders the first diagnostic, then "(and N more like it: lines
// A, B, ...)" when it repeats.
func (g Group) String() string {
	s := g.Diagnostic.String()
	if len(g.More) == 0 {
		return s
	}
	var lines []string
	for i, p := range g.More {
		if i == maxListedLines {
			lines = append(lines, "...")
			break
		}
		lines = append(lines, strconv.Itoa(p.Line))
	}
	word := "lines"
	if len(g.More) == 1 {
		word = "line"
	}
	return fmt.Sprintf("%s (and %d more like it: %s %s)", s, len(g.More), word, strings.Join(lines, ", "))
}

// Groups returns the diagnostics in Items order, each repeated one folded
// into the first of its kind in the same file.
func (l *List) Groups() []Group {
	type key struct {
		file                   string
		sev                    Severity
		keyword, message, hint string
	}
	var out []Group
	first := map[key]int{}
	for _, d := range l.Items() {
		k := key{d.Pos.File, d.Severity, d.Keyword, d.Message, d.Hint}
		if i, ok := first[k]; ok && d.Pos.Line != 0 {
			out[i].More = append(out[i].More, d.Pos)
			continue
		}
		first[k] = len(out)
		out = append(out, Group{Diagnostic: d})
	}
	return out
}
