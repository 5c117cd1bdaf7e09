package keepalived

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// TestSeedExamples keeps every keepalived.conf of the seed articles
// (examples/seeds, copied as written) parsing and validating without error.
func TestSeedExamples(t *testing.T) {
	files, _ := filepath.Glob("../../../examples/seeds/*keepalived*")
	if len(files) == 0 {
		t.Skip("examples/seeds has no keepalived.conf yet")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d diag.List
		c := Parse(f, src, &d)
		c.Validate(&d)
		if d.HasErrors() {
			t.Errorf("%s:\n%v", f, d.Err())
		}
		if len(c.Instances) == 0 {
			t.Errorf("%s: no vrrp_instance", f)
		}
	}
}
