//go:build !race

package lua

const raceOn = false
