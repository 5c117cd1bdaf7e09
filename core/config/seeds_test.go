package config

import (
	"path/filepath"

	"github.com/varde-lb/varde/core/diag"
	"strings"
	"testing"
)

// refusedSeeds are the seed files varde must refuse until a feature is
// built, with the only errors they may give. None today: article003-1
// terminates TLS and article003-4 originates it to its servers, both built
// (their certificates are loaded at prepare; cmd/varde's seed tests run
// them with generated ones).
var refusedSeeds = map[string]string{}

// Every configuration snippet of the seed articles (examples/seeds) must
// load without errors (these are the files our users run today), except
// those refusedSeeds names, which give only the error it names.
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
			if reason, ok := refusedSeeds[filepath.Base(f)]; ok {
				onlyRefused(t, d, reason)
				return
			}
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

func onlyRefused(t *testing.T, d *diag.List, reason string) {
	t.Helper()
	if !d.HasErrors() {
		t.Fatalf("accepted; want it refused with %q", reason)
	}
	for _, it := range d.Items() {
		if it.Severity == diag.Error && it.Message != reason {
			t.Errorf("unexpected error: %s", it)
		}
	}
}
