//go:build wasip1

// canary.wasm: send a share of users to the servers whose name starts with
// "canary", the WASM twin of policies/canary.lua.
//
//   - `X-Canary: always` (header) or cookie `canary=always` -> canary;
//     `X-Canary: never` or `canary=never` -> the others;
//   - else a stable hash (xxHash64, computed by the host) of cookie `uid`, or of the client address
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

func stableKey() uint64 {
	if v, ok := varde.Cookie("uid"); ok && len(v) > 0 {
		return varde.Hash(v)
	}
	return varde.Hash(varde.Src())
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
var usable []int

func pick(canary bool, key uint64) uint64 {
	servers := varde.List()
	usable = usable[:0]
	for i := range servers {
		if servers[i].Usable && bytes.HasPrefix(servers[i].Name, prefix) == canary {
			usable = append(usable, i)
		}
	}
	if len(usable) == 0 {
		return varde.NoOpinion
	}
	return varde.ResultBytes(servers[usable[key%uint64(len(usable))]].Name)
}
