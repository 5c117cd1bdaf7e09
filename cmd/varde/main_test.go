package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestDispatchUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"no args", nil, 2, ""},
		{"help", []string{"--help"}, 0, "Commands:"},
		{"unknown", []string{"frobnicate"}, 2, ""},
		{"version", []string{"version"}, 0, "varde "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := dispatch(tt.args, &out, &errb); got != tt.wantCode {
				t.Fatalf("exit code = %d, want %d (stderr %q)", got, tt.wantCode, errb.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("stdout %q does not contain %q", out.String(), tt.wantOut)
			}
		})
	}
}

// Every registered command answers --help on stdout with exit 0.
func TestEveryCommandHasHelp(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := dispatch([]string{name, "--help"}, &out, &errb); code != 0 {
				t.Fatalf("varde %s --help: exit %d, stderr %q", name, code, errb.String())
			}
			if !strings.Contains(out.String(), "Usage: varde "+name) {
				t.Fatalf("varde %s --help printed %q", name, out.String())
			}
		})
	}
}
