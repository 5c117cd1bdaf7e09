// Package vip moves virtual IP addresses between varde nodes with VRRP
// (v2 and v3, interoperable with keepalived), configured by keepalived.conf.
//
// The protocol logic is the pure Machine (fsm.go); each instance's runner
// feeds it packets, timers and tracking results and performs its actions
// through small seams: Transport (raw IP sockets), Addresser (netlink) and
// Announcer (gratuitous ARP / unsolicited NA).
package vip

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/vip/vrrp"
)

// Options configure a Manager.
type Options struct {
	Logger *slog.Logger
	// Health feeds track_varde; nil when varde runs keepalived.conf alone.
	Health BackendHealth
	// NotifyTimeout bounds each notify script (default 30 s).
	NotifyTimeout time.Duration
	// Upgrade: this process succeeds a running varde (generation
	// Options.Upgrade): VIPs found on the interfaces are adopted, not
	// removed as a crash's leftovers.
	Upgrade bool
}

// Manager runs every vrrp_instance of a configuration.
type Manager struct {
	cfg  *keepalived.Config
	opts Options
	log  *slog.Logger

	mu sync.Mutex
	// runners and trackers are what this manager owns: a reload moves the
	// unchanged ones to the next generation's manager, which then stops
	// them; the old manager's Stop no longer touches them.
	runners   []*runner
	trackers  []*scriptTracker
	started   bool
	committed bool // StartFrom's plan carried out: runners and trackers are set
	stopping  bool
	stopMode  stopMode
	done      chan struct{}
	// static is what static_* installed and this manager removes when it
	// stops (a reload's successor takes it over).
	static *statics

	cancelWatch context.CancelFunc // ends the link and address watches
}

// New checks that the configuration can run (track_varde needs Health).
// cfg must have been validated.
func New(cfg *keepalived.Config, opts Options) (*Manager, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.NotifyTimeout == 0 {
		opts.NotifyTimeout = 30 * time.Second
	}
	for _, in := range cfg.Instances {
		if len(in.TrackVarde) > 0 && opts.Health == nil {
			return nil, fmt.Errorf("vip: %s: track_varde needs varde's proxy: run it with a haproxy.cfg too (varde run -f haproxy.cfg -f keepalived.conf)", in.Name)
		}
		if in.AuthType == "AH" {
			return nil, fmt.Errorf("vip: %s: auth_type AH is not supported", in.Name)
		}
	}
	return &Manager{cfg: cfg, opts: opts, log: opts.Logger, done: make(chan struct{})}, nil
}

// Snapshot returns the state of every instance this manager runs.
func (m *Manager) Snapshot() []Snapshot {
	m.mu.Lock()
	runners := append([]*runner(nil), m.runners...)
	m.mu.Unlock()
	out := make([]Snapshot, 0, len(runners))
	for _, r := range runners {
		out = append(out, r.snapshot())
	}
	return out
}

// CheckCapabilities reports which of CAP_NET_RAW and CAP_NET_ADMIN the
// process lacks, naming them, before any socket is opened.
func CheckCapabilities() error {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return nil // cannot tell; the socket calls will say
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "CapEff:") {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "CapEff:")), 16, 64)
		if err != nil {
			return nil
		}
		var missing []string
		if v&(1<<13) == 0 {
			missing = append(missing, "CAP_NET_RAW (raw VRRP and ARP sockets)")
		}
		if v&(1<<12) == 0 {
			missing = append(missing, "CAP_NET_ADMIN (adding and removing virtual addresses)")
		}
		if len(missing) > 0 {
			return fmt.Errorf("vip: varde needs %s: run as root or grant them (systemd: AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN): %w", strings.Join(missing, " and "), ErrCapability)
		}
	}
	return nil
}

// Run is Start, then Wait once ctx is done.
func (m *Manager) Run(ctx context.Context) error {
	if err := m.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	m.Wait()
	return nil
}

// Start opens the sockets of every instance and starts them; they run until
// ctx is done or Stop/Handover is called. Setup errors (capabilities,
// interfaces) are returned before anything runs.
//
// Before any instance decides its state, the VIPs of this configuration
// left on the interfaces by a previous run that crashed are removed, as
// keepalived does at startup. With Options.Upgrade the process succeeds a
// running varde: an instance finding its VIPs in place adopts them and
// starts as master at once instead.
func (m *Manager) Start(ctx context.Context) error { return m.StartFrom(ctx, nil) }

// StartFrom is Start for a reload: prev is the running generation's
// manager. Instances whose settings did not change are taken over running
// (same state, VIPs and advert timer; no transition, no advert gap);
// changed and removed ones are released (priority-0 advert, VIPs removed)
// before the new and changed ones start. If StartFrom fails, prev is left
// untouched.
func (m *Manager) StartFrom(ctx context.Context, prev *Manager) error {
	if err := CheckCapabilities(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("vip: manager started twice")
	}
	m.started = true
	m.mu.Unlock()
	if prev == nil {
		if c := running(); c != nil && c != m {
			// One VRRP runtime per process: a second one beside it would
			// run the same VRIDs twice and clean up the first one's VIPs
			// as a crash's leftovers.
			m.log.Warn("vip: VRRP started beside a running generation that was not inherited; taking its instances over as a reload")
			prev = c
		}
	}
	p, err := m.prepareStart(prev)
	if err != nil {
		m.mu.Lock()
		m.started = false
		stopped := m.stopping
		m.mu.Unlock()
		if stopped {
			close(m.done) // a Stop came during the failed start
		}
		return err
	}
	m.commit(p, prev)
	go func() {
		select {
		case <-ctx.Done():
			m.Stop()
		case <-m.done:
		}
	}()
	return nil
}

func (m *Manager) prepareStart(prev *Manager) (*startPlan, error) {
	wctx, cancelWatch := context.WithCancel(context.Background())
	links, err := watchLinks(wctx, m.log)
	if err != nil {
		cancelWatch()
		return nil, err
	}
	if err := m.watchAddrs(wctx); err != nil {
		cancelWatch()
		return nil, err
	}
	if err := m.watchRoutes(wctx); err != nil {
		cancelWatch()
		return nil, err
	}
	if err := m.watchRules(wctx); err != nil {
		cancelWatch()
		return nil, err
	}
	p, err := m.plan(prev, links)
	if err != nil {
		cancelWatch()
		return nil, err
	}
	p.links, p.cancelWatch = links, cancelWatch
	return p, nil
}

// current is the process's running manager: the one a reload inherits
// from when the caller did not say.
var current struct {
	sync.Mutex
	m *Manager
}

func running() *Manager {
	current.Lock()
	defer current.Unlock()
	return current.m
}

// setRunning records m as the running manager (on) or forgets it if it
// still is (off).
func setRunning(m *Manager, on bool) {
	current.Lock()
	defer current.Unlock()
	switch {
	case on:
		current.m = m
	case current.m == m:
		current.m = nil
	}
}

// Stop begins the graceful stop of every instance this manager owns:
// priority-0 adverts from masters, VIPs removed, notify STOP. `varde run`
// calls it from its own signal handler so the adverts leave before
// anything else happens. Idempotent.
func (m *Manager) Stop() { m.finish(stopRelease) }

// Handover stops every instance without releasing anything: the VIPs stay
// on the interfaces and no priority-0 advert is sent, for a successor
// process that adopts them (binary upgrade).
func (m *Manager) Handover() { m.finish(stopHandover) }

func (m *Manager) finish(mode stopMode) {
	m.mu.Lock()
	if m.stopping {
		m.mu.Unlock()
		return
	}
	m.stopping, m.stopMode = true, mode
	started, committed := m.started, m.committed
	setRunning(m, false)
	runners, trackers, cancelWatch := m.runners, m.trackers, m.cancelWatch
	m.mu.Unlock()
	switch {
	case !started:
		close(m.done)
	case committed:
		m.stopAll(mode, runners, trackers, cancelWatch)
	}
	// Started but not committed: commit sees stopping and stops what it
	// started; a failed start closes done.
}

func (m *Manager) stopAll(mode stopMode, runners []*runner, trackers []*scriptTracker, cancelWatch context.CancelFunc) {
	for _, r := range runners {
		r.stop(mode)
	}
	go func() {
		for _, r := range runners {
			<-r.done
		}
		if st := m.takeStatics(); mode != stopHandover {
			st.remove(func(f string, a ...any) { m.log.Warn("vip: " + fmt.Sprintf(f, a...)) })
		}
		for _, t := range trackers {
			t.stop()
		}
		cancelWatch()
		close(m.done)
	}()
}

// Wait blocks until every instance has stopped (after Stop or Handover).
func (m *Manager) Wait() { <-m.done }

// Done is closed when every instance has stopped.
func (m *Manager) Done() <-chan struct{} { return m.done }

func (m *Manager) newRunner(in *keepalived.Instance, links *linkWatch, scripts map[string]*scriptTracker) (*runner, error) {
	ifi, err := net.InterfaceByName(in.Interface)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", in.Interface, err)
	}
	v6 := in.IsIPv6()
	src := in.UnicastSrc
	if !src.IsValid() {
		if src, err = primaryAddr(in.Interface, v6, in.AllVIPs()); err != nil {
			return nil, err
		}
	}
	unicast := len(in.UnicastPeers) > 0
	dsts := in.UnicastPeers
	if !unicast {
		dsts = []netip.Addr{vrrp.Group4}
		if v6 {
			dsts = []netip.Addr{vrrp.Group6}
		}
	}
	io, err := openInstanceIO(in, ifi, unicast)
	if err != nil {
		return nil, err
	}
	tr, ann, na, rt := io.tr, io.ann, io.na, io.rt
	log := m.log.With("instance", in.Name)
	r := &runner{
		cfg: in, log: log, tr: tr, addrs: na, ann: ann,
		src: src, dsts: dsts, noPseudo: in.V3ChecksumAsV2,
		scripts: scripts, links: links, health: m.opts.Health,
		notify: &notifier{in: in, log: log, timeout: m.opts.NotifyTimeout},
		now:    time.Now,
		m: NewMachine(Params{
			Version: in.Version, Priority: uint8(in.Priority),
			Interval: uint16(in.AdvertInt / (10 * time.Millisecond)),
			Preempt:  !in.NoPreempt, PreemptDelay: in.PreemptDelay,
			Primary: src, StartMaster: in.State == "MASTER",
		}),
	}
	r.local = vrrp.Local{Version: uint8(in.Version), VRID: uint8(in.VRID), Interval: r.m.p.Interval, Unicast: unicast}
	if in.AuthType == "PASS" && in.Version == 2 {
		r.local.AuthType, r.local.AuthData = vrrp.AuthPass, in.Password()
	}
	for _, v := range in.VIPs {
		r.local.Addrs = append(r.local.Addrs, v.Prefix.Addr())
	}
	r.snap = Snapshot{Name: in.Name, Interface: in.Interface, VRID: in.VRID, State: Init.String(),
		Priority: in.Priority, BasePriority: in.Priority}
	r.ifindex = ifi.Index
	r.vipGone = make(chan netip.Addr, 16)
	r.routeGone = make(chan deletedRoute, 16)
	r.routeRecheck = make(chan struct{}, 1)
	r.setRouteDsts()
	r.ruleGone = make(chan struct{}, 1)
	r.syncWake = make(chan struct{}, 1)
	if rt != nil {
		r.router = rt
	}
	r.closeFn = func() { io.close(stopMode(r.mode.Load()) != stopHandover) }
	return r, nil
}

// watchAddrs follows address deletions through a netlink subscription and
// tells the instances this manager owns at the time: a master whose VIP
// someone removed steps down (keepalived does the same).
func (m *Manager) watchAddrs(ctx context.Context) error {
	updates := make(chan netlink.AddrUpdate, 64)
	done := make(chan struct{})
	if err := netlink.AddrSubscribeWithOptions(updates, done, netlink.AddrSubscribeOptions{}); err != nil {
		return fmt.Errorf("vip: netlink address subscription: %w", err)
	}
	go follow(ctx, updates, done, func(u netlink.AddrUpdate) {
		if u.NewAddr {
			return
		}
		a, ok := netip.AddrFromSlice(u.LinkAddress.IP)
		if !ok {
			return
		}
		m.mu.Lock()
		runners := m.runners
		m.mu.Unlock()
		for _, r := range runners {
			select {
			case r.vipGone <- a.Unmap():
			default: // the instance is behind; it re-checks on the next event
			}
		}
	})
	return nil
}

// linkWatch tracks link state through a netlink subscription, so a carrier
// loss puts instances in FAULT without polling the kernel.
type linkWatch struct {
	mu    sync.Mutex
	state map[string]bool
}

func (w *linkWatch) up(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	up, ok := w.state[name]
	return !ok || up // an unknown link is not ours to judge; the socket open failed already
}

func watchLinks(ctx context.Context, log *slog.Logger) (*linkWatch, error) {
	w := &linkWatch{state: map[string]bool{}}
	updates := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	if err := netlink.LinkSubscribe(updates, done); err != nil {
		return nil, fmt.Errorf("vip: netlink link subscription: %w", err)
	}
	links, err := netlink.LinkList()
	if err != nil {
		close(done)
		return nil, fmt.Errorf("vip: list links: %w", err)
	}
	for _, l := range links {
		w.state[l.Attrs().Name] = linkUp(l)
	}
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case u, ok := <-updates:
				if !ok {
					return
				}
				name, up := u.Attrs().Name, linkUp(u.Link)
				w.mu.Lock()
				was, known := w.state[name]
				w.state[name] = up
				w.mu.Unlock()
				if known && was != up {
					word := "down"
					if up {
						word = "up"
					}
					log.Info("Netlink reports " + name + " " + word)
				}
			}
		}
	}()
	return w, nil
}

// follow hands each update of a netlink subscription to fn until ctx ends
// or the subscription closes, then closes done (which ends the
// subscription's own goroutine).
func follow[T any](ctx context.Context, updates <-chan T, done chan struct{}, fn func(T)) {
	defer close(done)
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-updates:
			if !ok {
				return
			}
			fn(u)
		}
	}
}
