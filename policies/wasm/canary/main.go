//go:build wasip1

// canary.wasm: send a share of users to the servers whose name starts with
// "canary"; the WASM twin of policies/canary.lua.
//
//   - `X-Canary: always` (header) or cookie `canary=always` -> canary;
//     `X-Canary: never` (or cookie `canary=never`) -> the other servers;
//   - else a stable hash of cookie `uid`, or of the client address when
//     there is none, puts PERCENT % of users on canary: the low 32 bits of
//     xxHash64 modulo 100, as canary.lua's varde.hash, so both split users
//     alike. PERCENT is 5, or the shared-table value `percent` when it
//     holds a number from 0 to 100 (`set policy var canary.wasm percent 20`
//     on the admin socket).
//
// Within the chosen side the usable server with the fewest active
// connections is chosen. When that side has no usable server the policy
// has no opinion and the backend's algorithm decides.
//
// Build: make policies (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared).
package main

import (
	"bytes"
	"strconv"

	"github.com/varde-lb/varde/policies/wasm/varde"
)

func main() {}

const defaultPercent = 5

var prefix = []byte("canary")

//go:wasmexport choose_server
func chooseServer() uint64 {
	return pick(wantsCanary())
}

func wantsCanary() bool {
	v, ok := varde.Header("x-canary")
	if !ok {
		v, ok = varde.Cookie("canary")
	}
	switch {
	case ok && bytes.EqualFold(v, []byte("always")):
		return true
	case ok && bytes.EqualFold(v, []byte("never")):
		return false
	}
	key, ok := varde.Cookie("uid")
	if !ok {
		key = varde.Src()
	}
	return int(uint32(varde.Hash(key))%100) < percent()
}

func percent() int {
	v, ok := varde.Get("percent")
	if !ok {
		return defaultPercent
	}
	n, err := strconv.ParseFloat(string(v), 64)
	if err != nil || n < 0 || n > 100 {
		return defaultPercent
	}
	return int(n)
}

// pick returns the least busy usable server of the wanted side.
func pick(canary bool) uint64 {
	best := -1
	servers := varde.List()
	for i := range servers {
		s := &servers[i]
		if !s.Usable || bytes.HasPrefix(s.Name, prefix) != canary {
			continue
		}
		if best < 0 || s.Active < servers[best].Active {
			best = i
		}
	}
	if best < 0 {
		return varde.NoOpinion
	}
	return varde.ResultBytes(servers[best].Name)
}
