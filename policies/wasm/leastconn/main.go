//go:build wasip1

// leastconn.wasm: least connections relative to weight, and a health
// verdict that keeps rate-limited servers in the pool.
//
//   - choose_server: among usable servers (up, ready, weighted, not full),
//     the one with the fewest (active + queued) connections per unit of
//     weight; ties go to the first in pool order. No usable server: no
//     opinion.
//   - health: a probe answered 429 (Too Many Requests) means the server is
//     alive but busy: up. Any other result keeps the probe's own verdict.
//
// Build: make policies.
package main

import "github.com/varde-lb/varde/policies/wasm/varde"

func main() {}

//go:wasmexport choose_server
func chooseServer() uint64 {
	servers := varde.List()
	best, bestLoad := -1, 0.0
	for i := range servers {
		s := &servers[i]
		if !s.Usable {
			continue
		}
		load := float64(s.Active+s.Queue) / float64(s.Weight)
		if best < 0 || load < bestLoad {
			best, bestLoad = i, load
		}
	}
	if best < 0 {
		return varde.NoOpinion
	}
	return varde.ResultBytes(servers[best].Name)
}

//go:wasmexport health
func health() int32 {
	if varde.Probe().Code == 429 {
		return varde.HealthUp
	}
	return varde.HealthNoOpinion
}
