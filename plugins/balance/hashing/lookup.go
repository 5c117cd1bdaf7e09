package hashing

import (
	"slices"
	"sync/atomic"

	"github.com/varde-lb/varde/core"
)

// Map is HAProxy's map-based lookup table (lb_map.c): every server occupies
// as many slots as its weight (weights reduced by their greatest common
// divisor), interleaved so that slot order is a smooth weighted round
// robin that starts with the first declared server. A hash selects slot
// hash % len(slots). Static round robin walks the same slots in order.
//
// A Map is immutable once built; only the round-robin cursor moves.
type Map struct {
	slots []*core.Server
	rr    atomic.Uint32
}

// BuildMap builds the table for a pool (servers in declaration order, each
// with a weight > 0) from the servers' effective weights.
func BuildMap(pool []*core.Server) *Map {
	return buildMap(pool, (*core.Server).Weight)
}

// BuildStaticMap builds the table from the configured weights, as HAProxy
// does for its static algorithms (static-rr and map-based hashing), where a
// run-time weight change only matters when it takes a server out (weight 0,
// which removes it from the pool).
func BuildStaticMap(pool []*core.Server) *Map {
	return buildMap(pool, staticWeight)
}

func staticWeight(s *core.Server) int {
	if s.ConfigWeight > 0 {
		return s.ConfigWeight
	}
	return s.Weight()
}

func buildMap(pool []*core.Server, weight func(*core.Server) int) *Map {
	m := &Map{}
	g := 0
	for _, s := range pool {
		g = gcd(g, weight(s))
	}
	if g == 0 {
		return m
	}
	w := make([]int, len(pool))
	tot := 0
	for i, s := range pool {
		w[i] = weight(s) / g
		tot += w[i]
	}
	m.slots = make([]*core.Server, tot)
	score := make([]int, len(pool))
	for o := range tot {
		best, max := -1, 0
		for i := range pool {
			if w[i] == 0 {
				continue
			}
			if tot == 1 {
				best = i
				break
			}
			// Each server accumulates its weight; the one whose score has
			// crossed the most multiples of tot wins the slot, the first
			// declared winning ties (HAProxy's recalc_server_map).
			score[i] += w[i]
			v := (score[i] + tot) / tot
			if best < 0 || v > max {
				max, best = v, i
			}
		}
		m.slots[o] = pool[best]
		score[best] -= tot
	}
	return m
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Len is the number of slots (the sum of reduced weights).
func (m *Map) Len() int { return len(m.slots) }

// Slot returns the server at slot i.
func (m *Map) Slot(i int) *core.Server { return m.slots[i] }

// Hash returns the server for a hash, like map_get_server_hash. When that
// server must be skipped (excluded on redispatch, or full), the following
// slots are tried in order, so the choice stays deterministic per key.
func (m *Map) Hash(h uint32, ctx *core.PickContext) *core.Server {
	n := uint32(len(m.slots))
	if n == 0 {
		return nil
	}
	i := h % n
	for range n {
		if s := m.slots[i]; !ctx.Skip(s) {
			return s
		}
		if i++; i == n {
			i = 0
		}
	}
	return nil
}

// RoundRobin walks the slots in order from a shared cursor, skipping
// servers ctx says to skip: HAProxy's `static-rr` and the fallback of
// map-based hashing when a request has no key.
func (m *Map) RoundRobin(ctx *core.PickContext) *core.Server {
	n := uint32(len(m.slots))
	if n == 0 {
		return nil
	}
	start := m.rr.Add(1) - 1
	for k := range n {
		if s := m.slots[(start+k)%n]; !ctx.Skip(s) {
			if k > 0 {
				// Move the cursor past what we skipped, like rr_idx.
				m.rr.CompareAndSwap(start+1, start+k+1)
			}
			return s
		}
	}
	return nil
}

// Ring is HAProxy's consistent-hashing tree (lb_chash.c) as a sorted array:
// a server with weight w owns w*16 points at FullHash(id*4096 + i), so the
// same server ids and weights give the same ring as HAProxy. A hash goes to
// the closest point, and removing a server moves only the keys it owned.
type Ring struct {
	keys   []uint32
	owner  []uint16 // index into servers
	pool   []*core.Server
	weight []int // effective weights (x16) per pool index
	cumul  []int // sum of the weights of the servers before it
	total  int
	rr     atomic.Uint32
}

const (
	weightScale = 16       // HAProxy's BE_WEIGHT_SCALE
	idRange     = 256 * 16 // HAProxy's SRV_EWGHT_RANGE
)

// BuildRing builds the ring of a pool.
func BuildRing(pool []*core.Server) *Ring {
	r := &Ring{pool: pool, weight: make([]int, len(pool)), cumul: make([]int, len(pool))}
	type point struct {
		key uint32
		idx uint16
		n   int
	}
	var pts []point
	for i, s := range pool {
		w := s.Weight() * weightScale
		r.weight[i], r.cumul[i] = w, r.total
		r.total += w
		for n := range w {
			pts = append(pts, point{FullHash(uint32(s.ID*idRange + n)), uint16(i), n})
		}
	}
	// Equal keys keep insertion order, as duplicates do in HAProxy's tree.
	slices.SortStableFunc(pts, func(a, b point) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	r.keys = make([]uint32, len(pts))
	r.owner = make([]uint16, len(pts))
	for i, p := range pts {
		r.keys[i], r.owner[i] = p.key, p.idx
	}
	return r
}

// Len is the number of points on the ring.
func (r *Ring) Len() int { return len(r.keys) }

// Servers is the pool the ring was built from.
func (r *Ring) Servers() []*core.Server { return r.pool }

// Hash returns the server owning the point closest to h (chash_get_server_hash).
// When that server must be skipped, or is over its bounded load
// (factor > 0, `hash-balance-factor`), the following points are tried.
func (r *Ring) Hash(h uint32, ctx *core.PickContext, factor int) *core.Server {
	n := len(r.keys)
	if n == 0 {
		return nil
	}
	// First point with key >= h, wrapping to the first.
	keys := r.keys
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if keys[mid] < h {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	next := lo
	if next == n {
		next = 0
	}
	prev := next - 1
	if prev < 0 {
		prev = n - 1
	}
	i := next
	if r.owner[next] != r.owner[prev] {
		dp := h - r.keys[prev]
		dn := r.keys[next] - h
		if dp <= dn {
			i = prev
		}
	}
	var served int64
	if factor > 0 {
		for _, s := range r.pool {
			served += s.Active.Load()
		}
	}
	for range n {
		o := r.owner[i]
		s := r.pool[o]
		if !ctx.Skip(s) && (factor <= 0 || r.eligible(o, served, factor)) {
			return s
		}
		if i++; i == n {
			i = 0
		}
	}
	return nil
}

// eligible is HAProxy's chash_server_is_eligible: with a balance factor of
// F percent, a server may hold at most ceil((served+1)*F/100) sessions
// spread over the servers by weight (never less than one).
func (r *Ring) eligible(o uint16, served int64, factor int) bool {
	if r.total == 0 {
		return false
	}
	tot := ((served+1)*int64(factor) + 99) / 100
	perWeight := tot / int64(r.total)
	rem := tot % int64(r.total)
	w, c := int64(r.weight[o]), int64(r.cumul[o])
	slots := w*perWeight + ((c+w)*rem)/int64(r.total) - (c*rem)/int64(r.total)
	if slots == 0 {
		slots = 1
	}
	return r.pool[o].Active.Load() < slots
}

// RoundRobin walks the ring's points in order (chash_get_next_server): a
// weighted round robin used when a request carries no hash key.
func (r *Ring) RoundRobin(ctx *core.PickContext) *core.Server {
	n := uint32(len(r.keys))
	if n == 0 {
		return nil
	}
	start := r.rr.Add(1) - 1
	for k := range n {
		if s := r.pool[r.owner[(start+k)%n]]; !ctx.Skip(s) {
			if k > 0 {
				r.rr.CompareAndSwap(start+1, start+k+1)
			}
			return s
		}
	}
	return nil
}
