//go:build race

package wasm

// raceOn: the race detector makes the guest and the watchdog slower, so
// timing bounds are not checked.
const raceOn = true
