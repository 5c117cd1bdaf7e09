//go:build wasip1

// canary.wasm: send a share of users to the servers whose name starts with
// "canary", the WASM twin of policies/canary.lua.
//
//   - `X-Canary: always` (header) or cookie `canary=always` -> canary;
//     `X-Canary: never` or `canary=never` -> the others;
//   - else a stable hash (FNV-1a) of cookie `uid`, or of the client address
//     when there is none, puts PERCENT % of users on canary. PERCENT is 5,
//     or the shared-table value `canary_percent` (set through the admin
//     socket) when it holds a number from 0 to 100.
//
// Within the chosen group the same hash picks a usable server, so a user
// stays on one server while the pool is stable. When the group has no
// usable server the policy has no opinion and the backend's algorithm
// decides.
//
// Build: make policies (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared).
package main

import (
	"bytes"

	"github.com/varde-lb/varde/policies/wasm/varde"
)

func main() {}

const defaultPercent = 5

var prefix = []byte("canary")

//go:wasmexport choose_server
func chooseServer() uint64 {
	key := stableKey()
	want := forced()
	if want == 0 {
		want = 2
		if int(key%100) < percent() {
			want = 1
		}
	}
	return pick(want == 1, key)
}

// forced is 1 (canary), 2 (not canary) or 0 (let the hash decide).
func forced() int {
	v, ok := varde.Header("x-canary")
	if !ok {
		v, ok = varde.Cookie("canary")
	}
	switch {
	case ok && bytes.EqualFold(v, []byte("always")):
		return 1
	case ok && bytes.EqualFold(v, []byte("never")):
		return 2
	}
	return 0
}

func stableKey() uint32 {
	if v, ok := varde.Cookie("uid"); ok && len(v) > 0 {
		return fnv(v)
	}
	return fnv(varde.Src())
}

func percent() int {
	v, ok := varde.Get("canary_percent")
	if !ok {
		return defaultPercent
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' || n > 100 {
			return defaultPercent
		}
		n = n*10 + int(c-'0')
	}
	if n > 100 {
		return defaultPercent
	}
	return n
}

// usable lists the usable servers of the wanted group, in pool order.
var usable []varde.Server

func pick(canary bool, key uint32) uint64 {
	usable = usable[:0]
	for i := range varde.Servers() {
		s := varde.Server(i)
		if bytes.HasPrefix(s.Name(), prefix) == canary && s.Usable() {
			usable = append(usable, s)
		}
	}
	if len(usable) == 0 {
		return varde.NoOpinion
	}
	return varde.ResultBytes(usable[key%uint32(len(usable))].Name())
}

func fnv(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}
