package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/diag"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenEnv is the environment the golden files see.
func goldenEnv(k string) string {
	return map[string]string{"BACKEND_HOST": "10.1.2.3", "LOG_DIR": "/var/log/varde"}[k]
}

// TestGolden loads each testdata/*.cfg (a NAME.cfg plus NAME.*.cfg parts are
// loaded together, in name order) and compares the normalised model with
// NAME.json when the configuration is valid, and the diagnostics with
// NAME.err (always written when there are diagnostics). "parsed, not yet
// enforced" warnings are left out so goldens survive other areas flipping
// their Enforced flags.
func TestGolden(t *testing.T) {
	cfgs, _ := filepath.Glob("testdata/*.cfg")
	if len(cfgs) == 0 {
		t.Fatal("no golden configs")
	}
	for _, cfg := range cfgs {
		base := strings.TrimSuffix(filepath.Base(cfg), ".cfg")
		if strings.Contains(base, ".") {
			continue // a part, loaded with its main file
		}
		t.Run(base, func(t *testing.T) {
			files := []string{cfg}
			parts, _ := filepath.Glob("testdata/" + base + ".*.cfg")
			files = append(files, parts...)
			kas, _ := filepath.Glob("testdata/" + base + ".*.conf")
			files = append(files, kas...)
			set, d := LoadFiles(files, goldenEnv)
			diags := renderDiags(d)
			errPath := "testdata/" + base + ".err"
			jsonPath := "testdata/" + base + ".json"
			if d.HasErrors() {
				compareGolden(t, errPath, diags)
				if _, err := os.Stat(jsonPath); err == nil {
					t.Errorf("%s exists but the configuration is invalid:\n%s", jsonPath, diags)
				}
				return
			}
			compareGolden(t, jsonPath, normalisedJSON(t, set))
			if diags != "" || fileExists(errPath) {
				compareGolden(t, errPath, diags)
			}
		})
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func renderDiags(d *diag.List) string {
	var b strings.Builder
	for _, it := range d.Items() {
		if strings.HasPrefix(it.Message, "parsed, not yet enforced") {
			continue
		}
		b.WriteString(it.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update)\ngot:\n%s", err, got)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// normalisedJSON renders the Set with every position object shortened to
// "FILE:LINE:COL" so goldens stay readable.
func normalisedJSON(t *testing.T, set *Set) string {
	t.Helper()
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	// The keepalived model belongs to core/config/keepalived and has its own
	// goldens; here only which instances were loaded matters, so a change
	// there does not break these files.
	if m, ok := v.(map[string]any); ok && set.Keepalived != nil {
		var names []string
		for _, in := range set.Keepalived.Instances {
			names = append(names, in.Name)
		}
		m["keepalived"] = map[string]any{"instances": names}
	}
	v = shortenPos(v)
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out) + "\n"
}

func shortenPos(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) <= 3 {
			if f, ok := x["file"].(string); ok {
				if l, ok := x["line"]; ok {
					s := fmt.Sprintf("%s:%v", filepath.Base(f), l)
					if c, ok := x["col"]; ok {
						s += fmt.Sprintf(":%v", c)
					}
					return s
				}
			}
		}
		for k, e := range x {
			x[k] = shortenPos(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = shortenPos(e)
		}
		return x
	}
	return v
}
