package sample

import "unsafe"

// stringBytes views a string's bytes without copying. Samples are read-only
// by contract (converters write new bytes to scratch), so the configuration
// strings behind fe_name or map values are never modified through it.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// bytesString views bytes as a string for a comparison that does not keep
// it.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
