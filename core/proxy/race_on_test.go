//go:build race

package proxy

// raceEnabled: the race detector makes sync.Pool drop items on purpose, so
// allocation assertions over pooled evaluation state cannot hold under it.
const raceEnabled = true
