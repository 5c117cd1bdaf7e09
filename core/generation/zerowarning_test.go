package generation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// TestZeroWarning: with `zero-warning`, one warning refuses the
// configuration at the zero-warning line; without a warning, or without
// the keyword, the configuration loads.
func TestZeroWarning(t *testing.T) {
	const base = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend f\n    bind 127.0.0.1:1\n    default_backend b\nbackend b\n    server s 127.0.0.1:1\n"
	const warn = "    chroot /var/empty\n" // accepted with a warning
	cases := []struct {
		name, global string
		wantErr      bool
	}{
		{"zero-warning and a warning", "global\n    zero-warning\n" + warn, true},
		{"zero-warning, no warning", "global\n    zero-warning\n", false},
		{"a warning without zero-warning", "global\n" + warn, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.cfg")
			if err := os.WriteFile(path, []byte(c.global+base), 0o644); err != nil {
				t.Fatal(err)
			}
			g, d := Load([]string{path}, nil, Options{})
			defer g.Close()
			var zw []diag.Diagnostic
			for _, it := range d.Items() {
				if it.Keyword == "zero-warning" {
					zw = append(zw, it)
				}
			}
			if d.HasErrors() != c.wantErr || len(zw) != map[bool]int{true: 1}[c.wantErr] {
				t.Fatalf("errors %v, want %v: %v", d.HasErrors(), c.wantErr, d.Items())
			}
			if c.wantErr && (zw[0].Pos.Line != 2 || !strings.Contains(zw[0].Message, "'zero-warning' is set")) {
				t.Errorf("zero-warning error %v, want at line 2 with HAProxy's text", zw[0])
			}
		})
	}
}
