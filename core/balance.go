package core

import (
	"errors"
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
	// Granted: the request was woken from the queue for a slot a
	// server's dynamic limit had when a request ended (Server.Limit).
	Granted bool
}

// Skip reports whether a balancer must pass over s for this pick: it is the
// excluded server, or it is full and the pick must not queue on it.
func (c *PickContext) Skip(s *Server) bool {
	if c.Granted && s.Dynamic() {
		return s == c.Exclude || s.Active.Load() >= s.MaxConn()
	}
	return s == c.Exclude || s.Full()
}

// BalanceSpec is the parsed `balance` line plus the hash settings of a backend.
type BalanceSpec struct {
	Algorithm     string   // HAProxy's keyword, as registered: roundrobin, uri, hdr, random...
	Param         string   // text inside parentheses: hdr(Host) -> "Host", random(3) -> "3"
	Args          []string // words after the algorithm: uri's "len 8 depth 2 whole path-only", url_param's NAME, hdr's "use_domain_only"
	HashType      string   // "map-based" (default) or "consistent"
	HashFunc      string   // a registered hash function (sdbm, djb2, wt6, crc32); "" = sdbm
	HashAvalanche bool     // `hash-type ... avalanche`
	BalanceFactor int      // `hash-balance-factor`, 0 = off
}

// Algorithm is a balancing algorithm as its plugin registers it. The plugin
// owns everything about its keyword: the name, which arguments it accepts
// and how it builds. core/config only looks it up, so a new algorithm is a
// new folder under plugins/balance plus its line in plugins/all.
type Algorithm struct {
	// Name is HAProxy's keyword: `balance NAME` or `balance NAME(PARAM)`.
	Name string
	// Usage is the accepted form, for hints: "uri [len N] [depth N] [whole] [path-only]".
	Usage string
	// HTTP is set when the algorithm reads the HTTP request (uri, hdr,
	// url_param): in `mode tcp` it has no key and falls back to round robin.
	HTTP bool
	// Parse validates spec (parameter, arguments, hash settings) and returns
	// the algorithm's factory. core/config calls it while reading the file,
	// so `varde check` refuses exactly what the balancer would refuse;
	// NewBalancer calls it again at start. Errors should be *ArgError so the
	// configuration layer can point at the word at fault and give the hint.
	Parse func(spec BalanceSpec) (Build, error)
}

// Build makes one balancer from settings its Parse accepted; it cannot fail,
// which is what makes "check accepts, run starts" hold by construction.
type Build func() Balancer

// BalancerFactory builds a balancer that takes no parameter or argument.
type BalancerFactory func(spec BalanceSpec) (Balancer, error)

// ArgError is a refused keyword argument. Arg is the index of the word at
// fault in BalanceSpec.Args (or in the words after a log target), or -1 for
// the keyword word itself (its parameter included).
type ArgError struct {
	Arg  int
	Msg  string
	Hint string
}

func (e *ArgError) Error() string {
	if e.Hint == "" {
		return e.Msg
	}
	return e.Msg + " (hint: " + e.Hint + ")"
}

// ArgErrorf returns an *ArgError for word arg with a hint.
func ArgErrorf(arg int, hint, format string, a ...any) error {
	return &ArgError{Arg: arg, Msg: fmt.Sprintf(format, a...), Hint: hint}
}

// NoArguments refuses a parameter or arguments, for algorithms without any.
func NoArguments(spec BalanceSpec) error {
	if spec.Param != "" {
		return ArgErrorf(-1, "balance "+spec.Algorithm, "%s takes no parameter (got %q)", spec.Algorithm, spec.Param)
	}
	if len(spec.Args) > 0 {
		return ArgErrorf(0, "balance "+spec.Algorithm, "%s takes no argument (got %q)", spec.Algorithm, spec.Args[0])
	}
	return nil
}

var (
	balancersMu sync.RWMutex
	balancers   = map[string]Algorithm{}
)

// RegisterAlgorithm makes an algorithm available under its HAProxy keyword.
// Plugins call it from init(); a name registered twice panics at start-up.
func RegisterAlgorithm(a Algorithm) {
	if a.Name == "" || a.Parse == nil {
		panic("core: balancer registered without a name or a Parse function")
	}
	balancersMu.Lock()
	defer balancersMu.Unlock()
	if _, dup := balancers[a.Name]; dup {
		panic("core: balancer registered twice: " + a.Name)
	}
	balancers[a.Name] = a
}

// RegisterBalancer registers an algorithm without parameter or argument
// whose factory builds from the hash settings at most. Parse calls f once,
// so a factory error is still reported while reading the configuration.
func RegisterBalancer(name string, f BalancerFactory) {
	RegisterAlgorithm(Algorithm{Name: name, Usage: name, Parse: func(spec BalanceSpec) (Build, error) {
		if err := NoArguments(spec); err != nil {
			return nil, err
		}
		if _, err := f(spec); err != nil {
			return nil, err
		}
		return func() Balancer {
			b, err := f(spec)
			if err != nil {
				return nil // NewBalancer turns this into an error
			}
			return b
		}, nil
	}})
}

// LookupAlgorithm returns the registered algorithm called name.
func LookupAlgorithm(name string) (Algorithm, bool) {
	balancersMu.RLock()
	defer balancersMu.RUnlock()
	a, ok := balancers[name]
	return a, ok
}

// ParseBalance validates spec with its algorithm's Parse, the single place
// where a `balance` line's arguments are judged (for check and for run).
func ParseBalance(spec BalanceSpec) (Build, error) {
	a, ok := LookupAlgorithm(spec.Algorithm)
	if !ok {
		return nil, fmt.Errorf("unknown balance algorithm %q (hint: one of %v)", spec.Algorithm, BalancerNames())
	}
	return a.Parse(spec)
}

// NewBalancer builds the registered algorithm named by spec.Algorithm.
func NewBalancer(spec BalanceSpec) (Balancer, error) {
	build, err := ParseBalance(spec)
	if err != nil {
		return nil, fmt.Errorf("balance %s: %w", spec.Algorithm, err)
	}
	b := build()
	if b == nil {
		return nil, fmt.Errorf("balance %s: %w", spec.Algorithm, errNoBalancer)
	}
	return b, nil
}

var errNoBalancer = errors.New("the algorithm's factory failed after accepting its arguments")

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

// DynamicServers is implemented by balancers whose pool may gain servers
// that were not in the configuration (the admin socket's `add server`).
// Every balancer rebuilds from Update, so this is about HAProxy's rule, not
// varde's ability: HAProxy 2.6 takes dynamic servers only in backends using
// roundrobin, leastconn, first, random, or a hash with `hash-type
// consistent` (BE_LB_PROP_DYN); it refuses static-rr and map-based hashes,
// whose server map is fixed at start. A balancer without the method
// refuses.
type DynamicServers interface {
	DynamicServers() bool
}

// AcceptsDynamicServers reports whether b takes servers added at runtime.
func AcceptsDynamicServers(b Balancer) bool {
	d, ok := b.(DynamicServers)
	return ok && d.DynamicServers()
}
