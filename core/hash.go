package core

import (
	"sort"
	"sync"
)

// HashFunc is a hash function over a key, as named by `hash-type`.
type HashFunc func(key []byte) uint32

// Hash functions are a registry rather than a list in core/config so that
// `hash-type` is judged by the functions that exist: the plugin that
// implements them (plugins/balance/hashing) registers them, core/config
// looks them up, and the balancers use the same lookup at start.
var (
	hashMu    sync.RWMutex
	hashFuncs = map[string]HashFunc{}
)

// RegisterHashFunc makes a hash function available under HAProxy's name.
// A name registered twice panics at start-up.
func RegisterHashFunc(name string, f HashFunc) {
	hashMu.Lock()
	defer hashMu.Unlock()
	if _, dup := hashFuncs[name]; dup {
		panic("core: hash function registered twice: " + name)
	}
	hashFuncs[name] = f
}

// LookupHashFunc returns the hash function called name.
func LookupHashFunc(name string) (HashFunc, bool) {
	hashMu.RLock()
	defer hashMu.RUnlock()
	f, ok := hashFuncs[name]
	return f, ok
}

// HashFuncNames lists the registered hash functions, sorted.
func HashFuncNames() []string {
	hashMu.RLock()
	defer hashMu.RUnlock()
	out := make([]string, 0, len(hashFuncs))
	for n := range hashFuncs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
