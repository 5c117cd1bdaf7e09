package diag

import (
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "abc", 0},
		{"balance", "balanse", 1},
		{"timeout", "timout", 1},
		{"kitten", "sitting", 3},
		{"wieght", "weight", 1}, // a swapped pair is one edit
		{"ab", "ba", 1},
		{"ca", "abc", 3}, // optimal string alignment: no edit of a swapped pair
		{"", "maxconn", 7},
		{strings.Repeat("x", 65), strings.Repeat("x", 65), 0},
		{strings.Repeat("x", 65), strings.Repeat("y", 65), 1 << 20},
	}
	for _, tt := range tests {
		if got := EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	known := []string{"maxconn", "mode", "balance", "bind", "backend"}
	tests := []struct {
		word, want string
		dist       int
	}{
		{"maxcon", "maxconn", 1},
		{"balanse", "balance", 1},
		{"bnd", "bind", 1},
		{"mod", "mode", 1},
	}
	for _, tt := range tests {
		got, d := Nearest(tt.word, known)
		if got != tt.want || d != tt.dist {
			t.Errorf("Nearest(%q) = %q, %d; want %q, %d", tt.word, got, d, tt.want, tt.dist)
		}
	}
	if got, _ := Nearest("x", nil); got != "" {
		t.Errorf("Nearest with no candidates = %q", got)
	}
	// Ties resolve alphabetically so hints are stable across runs.
	if got, _ := Nearest("ab", []string{"b", "a"}); got != "a" {
		t.Errorf("tie = %q, want a", got)
	}
}
