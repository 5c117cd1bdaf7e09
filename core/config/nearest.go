package config

import "github.com/varde-lb/varde/core/diag"

// nearest returns the candidate closest to word by edit distance, or "" when
// none is close enough to be a plausible typo (distance above a third of
// the word's length, at least 2).
func nearest(word string, candidates []string) string {
	best, d := diag.Nearest(word, candidates)
	if d > max(len(word)/3, 2) {
		return ""
	}
	return best
}
