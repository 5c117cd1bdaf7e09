package listen

import (
	"os"
	"strconv"
	"sync"
)

// inheritedAtStart are the descriptors above stderr the process had when
// this package was initialised, before varde opened any file of its own:
// the only ones an `fd@N` bind may name.
var (
	inheritedMu      sync.Mutex
	inheritedAtStart = openDescriptors()
)

func openDescriptors() map[int]bool {
	out := map[int]bool{}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return out
	}
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && n > 2 {
			out[n] = true
		}
	}
	// ReadDir's own descriptor was open while listing; it is closed now
	// and so does not count (it is recognised as no longer valid below).
	for n := range out {
		if !valid(n) {
			delete(out, n)
		}
	}
	return out
}
