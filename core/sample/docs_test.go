package sample

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocsListEveryName keeps docs/samples.md and the registries in step:
// every registered fetch and converter is documented, and every name the
// fetch and converter tables document is registered.
func TestDocsListEveryName(t *testing.T) {
	b, err := os.ReadFile("../../docs/samples.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`([a-z0-9_.-]+)[(`]").FindAllStringSubmatch(doc, -1) {
		documented[m[1]] = true
	}
	for _, n := range append(FetchNames(), ConverterNames()...) {
		if !documented[n] {
			t.Errorf("%s is registered but not in docs/samples.md", n)
		}
	}
	// Names in the first column of the fetch and converter tables must exist.
	tables := doc[strings.Index(doc, "## Fetches"):strings.Index(doc, "## ACLs")]
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9_.-]+)[(`]").FindAllStringSubmatch(tables, -1) {
		_, f := LookupFetch(m[1])
		_, c := LookupConverter(m[1])
		if !f && !c {
			t.Errorf("docs/samples.md documents %s, which is not registered", m[1])
		}
	}
}
