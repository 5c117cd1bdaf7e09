package diag

// Nearest returns the candidate closest to word by edit distance and that
// distance (ties go to the alphabetically first candidate, so hints are
// stable). It exists for hints: "unknown keyword X (hint: did you mean Y?)".
// With no candidates it returns "" and a huge distance.
func Nearest(word string, candidates []string) (best string, dist int) {
	dist = 1 << 30
	for _, c := range candidates {
		if d := EditDistance(word, c); d < dist || (d == dist && c < best) {
			best, dist = c, d
		}
	}
	return best, dist
}

// EditDistance is the optimal-string-alignment distance between a and b,
// in bytes: Levenshtein's insert, delete and substitute, plus swapping two
// neighbours as one edit, the commonest typo (`wieght`, `bsae`).
// Keywords are short: inputs over 64 bytes are not compared (distance 0 when
// equal, huge otherwise), so garbage input cannot cost quadratic time.
func EditDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 1 << 20
	}
	// Three rows: a transposition looks two rows back.
	pprev := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pprev[j-2]+1)
			}
		}
		pprev, prev, cur = prev, cur, pprev
	}
	return prev[len(b)]
}
