//go:build race

package logpipe

// raceEnabled: the race detector makes sync.Pool (used inside regexp) drop
// items on purpose, so allocation assertions cannot hold under it.
const raceEnabled = true
