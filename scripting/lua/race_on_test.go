//go:build race

package lua

// raceOn: the race detector makes sync.Pool drop states at random and
// slows calls past short deadlines, so allocation counts mean nothing.
const raceOn = true
