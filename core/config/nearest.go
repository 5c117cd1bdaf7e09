package config

import "github.com/varde-lb/varde/core/diag"

// nearest returns the candidate closest to word by edit distance, or "" when
// none is a plausible typo: at most one edit per three letters of the word
// (at least one, at most two), so `srv` does not become `server` and a long
// word with a swapped pair still finds its keyword.
func nearest(word string, candidates []string) string {
	best, d := diag.Nearest(word, candidates)
	if d > min(2, max(1, len(word)/3)) {
		return ""
	}
	return best
}
