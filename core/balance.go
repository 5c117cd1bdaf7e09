package core

import (
	"fmt"
	"net/netip"
	"sort"
	"sync"
)

// Balancer picks a server for a new session. Balancers only order and pick:
// health, drain, maxconn and queues are core's business. The engine hands a
// balancer the current pool (usable servers of the active tier, or the backup
// tier when no active server is up) through Update and asks Pick for a server.
//
// Update is never called concurrently with itself but may run concurrently
// with Pick. Pick must not allocate.
type Balancer interface {
	// Update replaces the pool. The slice is owned by the balancer afterwards.
	Update(pool []*Server)
	// Pick returns a server from the pool, or nil when none is available.
	// It must skip servers for which ctx.Skip returns true.
	Pick(ctx *PickContext) *Server
}

// Releaser is implemented by balancers that track in-flight work (leastconn,
// first) and want to be told when a session on a server ends.
type Releaser interface {
	Release(s *Server)
}

// PickContext carries what a balancer may look at to pick a server. The
// engine reuses one per connection; balancers must not retain it.
type PickContext struct {
	// Req is the HTTP request; nil in `mode tcp`.
	Req Request
	// Src is the client address, for `balance source` in both modes.
	Src netip.Addr
	// Exclude is a server to avoid (the one that failed, on redispatch).
	Exclude *Server
}

// Skip reports whether a balancer must pass over s for this pick: it is the
// excluded server, or it is full and the pick must not queue on it.
func (c *PickContext) Skip(s *Server) bool {
	return s == c.Exclude || s.Full()
}

// BalanceSpec is the parsed `balance` line plus the hash settings of a backend.
type BalanceSpec struct {
	Algorithm     string   // HAProxy's keyword: roundrobin, static-rr, leastconn, first, source, uri, url_param, hdr, random
	Param         string   // text inside parentheses: hdr(Host) -> "Host", random(3) -> "3"
	Args          []string // words after the algorithm: uri's "len 8 depth 2 whole path-only", url_param's NAME, hdr's "use_domain_only"
	HashType      string   // "map-based" (default) or "consistent"
	HashFunc      string   // "sdbm" (default), "djb2", "wt6", "crc32"; optional
	HashAvalanche bool     // `hash-type ... avalanche`
	BalanceFactor int      // `hash-balance-factor`, 0 = off
}

// BalancerFactory builds a balancer from its configuration.
type BalancerFactory func(spec BalanceSpec) (Balancer, error)

var (
	balancersMu sync.RWMutex
	balancers   = map[string]BalancerFactory{}
)

// RegisterBalancer makes an algorithm available under HAProxy's keyword.
// Plugins call it from init(); registering a name twice panics at start-up.
func RegisterBalancer(name string, f BalancerFactory) {
	balancersMu.Lock()
	defer balancersMu.Unlock()
	if _, dup := balancers[name]; dup {
		panic("core: balancer registered twice: " + name)
	}
	balancers[name] = f
}

// NewBalancer builds the registered algorithm named by spec.Algorithm.
func NewBalancer(spec BalanceSpec) (Balancer, error) {
	balancersMu.RLock()
	f, ok := balancers[spec.Algorithm]
	balancersMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("core: unknown balance algorithm %q (known: %v)", spec.Algorithm, BalancerNames())
	}
	return f(spec)
}

// BalancerNames lists the registered algorithms, sorted.
func BalancerNames() []string {
	balancersMu.RLock()
	defer balancersMu.RUnlock()
	out := make([]string, 0, len(balancers))
	for n := range balancers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
