// Package generation turns the configuration files into everything one
// varde process runs: the forwarding engine, the log pipeline, health
// checks, persistence, stats and admin endpoints, VRRP instances.
//
// Build is the one step that validates every reference, resolves every name
// and checks every file, directory and interface the result will use,
// without opening a listener or a socket. `varde check` runs exactly Build;
// `varde run` runs Build and then Start. So a configuration `run` refuses is
// refused by `check` with FILE:LINE, and anything `check` accepts `run`
// starts (save what only binding can tell: an address already in use).
//
// Each subsystem registers a Subsystem from its own package with an
// explicit Order; parts start in that order and stop in reverse. A
// Generation owns what its parts built; Close releases a generation that
// was never started, Stop one that was. The reload issue builds a second
// Generation beside a running one.
package generation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/listen"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/core/stats"
)

// Start orders of the built-in subsystems: the log pipeline first (the
// engine logs into it), then the engine, then what observes or steers it.
// Stop runs in reverse: the VIP leaves before the listeners drain, and the
// log pipeline flushes last.
const (
	OrderLogs   = 10
	OrderEngine = 20
	OrderAdmin  = 30
	OrderVIP    = 40
)

// StopSignals always end the process with its VIPs released: `varde run`
// stops on them, and VRRP releases at once when one arrives. SIGUSR1,
// HAProxy's soft-stop, is not among them: it ends the process as a
// hand-over when a successor took the listeners (Generation.Handover).
var StopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT}

// Part is one subsystem's share of a generation, built by Prepare.
type Part interface {
	// Start opens what Prepare only checked (sockets, files, listeners)
	// and starts goroutines bound to ctx, which ends when the process
	// begins to stop.
	Start(ctx context.Context) error
	// Stop stops a started part, bounded by ctx.
	Stop(ctx context.Context) error
}

// Closer is implemented by parts that hold something after Prepare (an
// engine's balancers, compiled scripts) to release when the generation is
// dropped without being started.
type Closer interface{ Close() error }

// Inheritor is implemented by parts that take over from their counterpart
// (the part of the same subsystem) in the running generation on a reload:
// health state, admin changes and counters by name, a VRRP instance's
// state, the log pipeline's queues. Inherit is called on the new part
// before its Start; prev stays running until the old generation stops.
type Inheritor interface{ Inherit(prev Part) }

// Subsystem is registered by each package that runs something.
type Subsystem struct {
	Name  string
	Order int
	// Prepare validates and builds the subsystem's part for g without
	// opening anything, reporting every problem to d with its place. A
	// nil Part means the configuration does not use the subsystem.
	Prepare func(g *Generation, d *diag.List) Part
}

var (
	regMu      sync.Mutex
	subsystems []Subsystem
)

// Register adds a subsystem; packages call it from init(). Two subsystems
// with one name or one order panic at start-up: the order must be explicit.
func Register(s Subsystem) {
	regMu.Lock()
	defer regMu.Unlock()
	for _, o := range subsystems {
		if o.Name == s.Name || o.Order == s.Order {
			panic(fmt.Sprintf("generation: subsystem %q (order %d) clashes with %q (order %d)", s.Name, s.Order, o.Name, o.Order))
		}
	}
	subsystems = append(subsystems, s)
	sort.Slice(subsystems, func(i, j int) bool { return subsystems[i].Order < subsystems[j].Order })
}

// Subsystems lists the registered subsystems in start order.
func Subsystems() []Subsystem {
	regMu.Lock()
	defer regMu.Unlock()
	return append([]Subsystem(nil), subsystems...)
}

// DefaultGrace is how long in-flight requests may take to finish on stop
// when Options.Grace is not set.
const DefaultGrace = 10 * time.Second

// Options are the process facts a generation needs.
type Options struct {
	Logger  *slog.Logger
	Stdout  io.Writer // where `log stdout` targets write
	Stderr  io.Writer
	Version string
	// Grace bounds the engine's graceful stop.
	Grace time.Duration
	// Sockets is the process's inventory of listening sockets, shared by
	// its generations (nil: every bind opens a new socket).
	Sockets *listen.Inventory
	// Upgrade is set when this generation takes over from a running one:
	// another process (`-x SOCKET`, `-sf PID`) or, on a reload, the
	// running generation of this process. VRRP adopts the VIPs it finds on
	// its interfaces instead of removing them as a crash's leftovers.
	Upgrade bool
	// CheckOnly is set by `varde check` and `varde -c`: what only the
	// running process can hit (a file descriptor limit it cannot raise,
	// limits.go) is then a warning that says so, not an error, as
	// `haproxy -c` does not test it at all.
	CheckOnly bool
	// Reload asks the process to reload its configuration files (the
	// admin socket's `reload`); it returns every error with its
	// file:line. nil when the process cannot reload (varde check).
	Reload func() error
	// LocalPeer is -L NAME: this node's peer name in peers sections
	// (config.LoadOptions).
	LocalPeer string
}

// Generation is one configuration made ready to run.
type Generation struct {
	Set  *config.Set
	Opts Options
	// Sink receives one record per transaction; the log part sets it when
	// it starts, before the engine starts. nil discards.
	Sink logrec.Sink

	// Handover is set before Stop when the process ends for a successor
	// that already holds the listeners (HAProxy's -sf: SIGUSR1): VRRP
	// leaves its VIPs in place and sends no priority-0 advert.
	Handover bool

	cancel  context.CancelFunc // ends the parts' start context
	shared  map[any]any
	extras  []func() []stats.Extra
	parts   []namedPart
	started []namedPart
}

type namedPart struct {
	name string
	part Part
}

// Key names a value one part provides to the parts prepared after it (the
// engine to admin and vip), with its type, so that this package needs to
// know none of them.
type Key[T any] struct{ name string }

// NewKey makes a key; name is for reading code and errors.
func NewKey[T any](name string) Key[T] { return Key[T]{name: name} }

// Get returns the value set for k, or T's zero value.
func (k Key[T]) Get(g *Generation) T {
	v, _ := g.shared[k].(T)
	return v
}

// Set provides v to the parts after the caller.
func (k Key[T]) Set(g *Generation, v T) {
	if g.shared == nil {
		g.shared = map[any]any{}
	}
	g.shared[k] = v
}

// HAProxy returns the haproxy.cfg part of the configuration, or nil.
func (g *Generation) HAProxy() *config.Config {
	if g.Set == nil {
		return nil
	}
	return g.Set.HAProxy
}

// AddExtra registers process-level values (log drops, VRRP state) that the
// stats page and Prometheus read at scrape time.
func (g *Generation) AddExtra(f func() []stats.Extra) { g.extras = append(g.extras, f) }

// Extras reads every registered value.
func (g *Generation) Extras() []stats.Extra {
	var out []stats.Extra
	for _, f := range g.extras {
		out = append(out, f()...)
	}
	return out
}

// Load reads the files and builds a generation from them. Preparation runs
// only when the files parse without errors, so that one mistake does not
// hide behind follow-on errors of a half-read configuration.
func Load(paths []string, env func(string) string, opts Options) (*Generation, *diag.List) {
	set, d := config.LoadFilesWith(paths, env, config.LoadOptions{LocalPeer: opts.LocalPeer})
	if d.HasErrors() {
		return &Generation{Set: set, Opts: opts}, d
	}
	raiseFDLimit(set, d, opts.CheckOnly) // limits.go
	g, pd := Build(set, opts)
	d.Merge(pd)
	zeroWarning(set, d)
	return g, d
}

// zeroWarning is HAProxy's global `zero-warning`: any warning found while
// loading refuses the configuration, in `varde check` and `varde run` (and
// on a reload, which then keeps the running generation). Every warning
// counts, varde's own included (an ignored chroot, a keyword parsed but
// not enforced): each says varde would not do all the configuration asks.
func zeroWarning(set *config.Set, d *diag.List) {
	if set == nil || set.HAProxy == nil || !set.HAProxy.Global.ZeroWarning || d.HasErrors() {
		return
	}
	for _, it := range d.Items() {
		if it.Severity == diag.Warning {
			d.Errorf(set.HAProxy.Global.ZeroWarningPos, "zero-warning", "fix the warnings above, or remove zero-warning", "Some warnings were found and 'zero-warning' is set. Aborting.")
			return
		}
	}
}

// Build prepares every registered subsystem for set, in start order. The
// generation is returned even with errors; Close releases it.
func Build(set *config.Set, opts Options) (*Generation, *diag.List) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	g := &Generation{Set: set, Opts: opts}
	d := &diag.List{}
	refs := sample.NewPatRefs()
	if set != nil && set.HAProxy != nil {
		refs.Dir = set.HAProxy.Global.DefaultPathDir // default-path (core/config/defaultpath.go)
	}
	sample.WithPatRefs(refs, func() { // one list per map/ACL file for every subsystem (docs/maps.md)
		for _, s := range Subsystems() {
			if p := prepare(s, g, d); p != nil {
				g.parts = append(g.parts, namedPart{s.Name, p})
			}
		}
	})
	return g, d
}

// prepare runs one subsystem's Prepare; a panic there is a bug, reported
// as an error at the first file rather than a stack trace for the user.
func prepare(s Subsystem, g *Generation, d *diag.List) (p Part) {
	defer func() {
		if r := recover(); r != nil {
			d.Errorf(g.firstPos(), s.Name, "please report this as a bug in varde", "internal error while preparing %s: %v", s.Name, r)
			p = nil
		}
	}()
	return s.Prepare(g, d)
}

func (g *Generation) firstPos() diag.Pos {
	if g.Set != nil && len(g.Set.Files) > 0 {
		return diag.Pos{File: g.Set.Files[0].Path}
	}
	return diag.Pos{File: "varde"}
}

// Parts names the prepared parts in start order.
func (g *Generation) Parts() []string {
	out := make([]string, len(g.parts))
	for i, p := range g.parts {
		out[i] = p.name
	}
	return out
}

// StopSlack is what a part may take beyond Options.Grace to stop (a VRRP
// instance's notify script, the log pipeline's last flush).
const StopSlack = 5 * time.Second

// Start starts every part in order, each with a context derived from ctx
// that ends when the generation begins to stop. On error, the parts
// already started are stopped and the rest released; nothing is left
// running.
func (g *Generation) Start(ctx context.Context) error {
	ctx, g.cancel = context.WithCancel(ctx)
	for i, p := range g.parts {
		if err := p.part.Start(ctx); err != nil {
			err = fmt.Errorf("start %s: %w", p.name, err)
			return errors.Join(err, g.stopStarted(), closeParts(g.parts[i:]))
		}
		g.started = append(g.started, p)
	}
	return nil
}

// Stop ends the parts' start context, then stops the started parts in
// reverse order, each with its own deadline (Grace + StopSlack), so that a
// slow part never eats the time of the log pipeline's final flush.
func (g *Generation) Stop() error {
	unstarted := g.parts[len(g.started):]
	return errors.Join(g.stopStarted(), closeParts(unstarted))
}

func (g *Generation) stopStarted() error {
	if g.cancel != nil {
		g.cancel()
	}
	var errs []error
	for i := len(g.started) - 1; i >= 0; i-- {
		p := g.started[i]
		ctx, cancel := context.WithTimeout(context.Background(), g.Opts.Grace+StopSlack)
		if err := p.part.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", p.name, err))
		}
		cancel()
	}
	g.started = nil
	return errors.Join(errs...)
}

// Close releases a generation that was never started (what `varde check`
// does after Build).
func (g *Generation) Close() error {
	if len(g.started) > 0 {
		return errors.New("generation: Close on a started generation; use Stop")
	}
	return closeParts(g.parts)
}

func closeParts(parts []namedPart) error {
	var errs []error
	for _, p := range parts {
		if c, ok := p.part.(Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", p.name, err))
			}
		}
	}
	return errors.Join(errs...)
}
