//go:build !race

package logpipe

const raceEnabled = false
