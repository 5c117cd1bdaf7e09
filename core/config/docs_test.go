package config

import (
	"os"
	"strings"
	"testing"
)

// docs/config.md must document every keyword of the table and every
// refused keyword, so the reference cannot drift from the parser.
func TestDocsListEveryKeyword(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, k := range Keywords {
		if !strings.Contains(text, "`"+k.Name+"`") {
			t.Errorf("docs/config.md does not document `%s`", k.Name)
		}
	}
	for k := range Unsupported {
		if !strings.Contains(text, "`"+k+"`") {
			t.Errorf("docs/config.md does not list refused `%s`", k)
		}
	}
	for k := range UnsupportedSections {
		if !strings.Contains(text, "section `"+k+"`") {
			t.Errorf("docs/config.md does not list refused section `%s`", k)
		}
	}
}

// Every refused and every harmless not-enforced keyword is in its table of
// docs/config.md, so the doc says why for each.
func TestDocsExplainNotEnforced(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	refused := section(text, "### Nothing fails open", "### Parsed, not yet enforced")
	harmless := section(text, "### Parsed, not yet enforced", "## What varde does differently")
	for _, k := range Keywords {
		switch {
		case k.Enforced:
		case k.Refused != "" && !strings.Contains(refused, "`"+k.Name+"`"):
			t.Errorf("refused `%s` missing from docs/config.md's Nothing fails open table", k.Name)
		case k.Refused == "" && !strings.Contains(harmless, "`"+k.Name+"`"):
			t.Errorf("not-enforced `%s` missing from docs/config.md's harmless table", k.Name)
		}
	}
}

func section(text, from, to string) string {
	i := strings.Index(text, from)
	j := strings.Index(text, to)
	if i < 0 || j < i {
		return ""
	}
	return text[i:j]
}
