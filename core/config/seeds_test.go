package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// Every configuration snippet of the seed articles (examples/seeds) must
// load without errors: these are the files our users run today.
func TestSeedExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/seeds/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if !strings.HasSuffix(f, ".cfg") && !strings.HasSuffix(f, ".conf") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			set, d := LoadFiles([]string{f}, func(string) string { return "" })
			if d.HasErrors() {
				for _, it := range d.Items() {
					t.Log(it)
				}
				t.Fatalf("%s has errors", f)
			}
			want := SyntaxHAProxy
			if strings.HasSuffix(f, ".conf") {
				want = SyntaxKeepalived
			}
			if got := set.Files[0].Syntax; got != want {
				t.Errorf("detected %v, want %v", got, want)
			}
			if want == SyntaxKeepalived && (set.Keepalived == nil || len(set.Keepalived.Instances) == 0) {
				t.Errorf("no vrrp_instance parsed")
			}
			if want == SyntaxHAProxy && (set.HAProxy == nil || len(set.HAProxy.Proxies) == 0) {
				t.Errorf("no proxy parsed")
			}
		})
	}
	if n < 20 {
		t.Fatalf("found %d seed files, want at least 20", n)
	}
}
