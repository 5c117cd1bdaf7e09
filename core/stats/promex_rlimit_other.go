//go:build !unix

package stats

// maxFDs is unknown off Unix.
func maxFDs() (float64, bool) { return 0, false }
