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
