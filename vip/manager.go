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
}

// Manager runs every vrrp_instance of a configuration.
type Manager struct {
	cfg  *keepalived.Config
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	runners []*runner
	done    chan struct{}
	cancel  context.CancelFunc
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
	return &Manager{cfg: cfg, opts: opts, log: opts.Logger}, nil
}

// Snapshot returns the state of every instance.
func (m *Manager) Snapshot() []Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Snapshot, 0, len(m.runners))
	for _, r := range m.runners {
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
// ctx is done, then stop gracefully (priority-0 adverts, VIPs removed,
// notify STOP). Setup errors (capabilities, interfaces) are returned before
// anything runs.
func (m *Manager) Start(ctx context.Context) error {
	if err := CheckCapabilities(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	m.mu.Lock()
	m.cancel = cancel
	m.mu.Unlock()
	wctx, cancelWatch := context.WithCancel(context.Background())
	links, err := watchLinks(wctx, m.log)
	if err != nil {
		cancelWatch()
		return err
	}
	scripts := map[string]*scriptTracker{}
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
		cancelWatch()
	}
	var runners []*runner
	for _, in := range m.cfg.Instances {
		r, closeFn, err := m.newRunner(in, links, scripts)
		if err != nil {
			closeAll()
			cancel()
			return fmt.Errorf("vip: instance %s: %w", in.Name, err)
		}
		closers = append(closers, closeFn)
		runners = append(runners, r)
	}
	m.mu.Lock()
	m.runners = runners
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, st := range scripts {
		wg.Add(1)
		go func() { defer wg.Done(); st.run(ctx) }()
	}
	for _, r := range runners {
		wg.Add(1)
		go func() { defer wg.Done(); r.run(ctx) }()
	}
	m.done = make(chan struct{})
	go func() {
		wg.Wait()
		for _, r := range runners {
			r.notify.wait()
		}
		closeAll()
		close(m.done)
	}()
	return nil
}

// Stop begins the graceful stop of every instance without waiting for the
// Start context: `varde run` calls it from its own signal handler so the
// priority-0 adverts leave before anything else happens.
func (m *Manager) Stop() {
	m.mu.Lock()
	c := m.cancel
	m.mu.Unlock()
	if c != nil {
		c()
	}
}

// Wait blocks until every instance started by Start has stopped.
func (m *Manager) Wait() {
	if m.done != nil {
		<-m.done
	}
}

// Done is closed when every instance has stopped (nil before Start).
func (m *Manager) Done() <-chan struct{} { return m.done }

func (m *Manager) newRunner(in *keepalived.Instance, links *linkWatch, scripts map[string]*scriptTracker) (*runner, func(), error) {
	ifi, err := net.InterfaceByName(in.Interface)
	if err != nil {
		return nil, nil, fmt.Errorf("interface %s: %w", in.Interface, err)
	}
	v6 := in.IsIPv6()
	src := in.UnicastSrc
	if !src.IsValid() {
		if src, err = primaryAddr(in.Interface, v6, in.VIPs); err != nil {
			return nil, nil, err
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
	var tr Transport
	if v6 {
		tr, err = openTransport6(ifi, !unicast)
	} else {
		tr, err = openTransport4(ifi, !unicast)
	}
	if err != nil {
		return nil, nil, err
	}
	ann, err := newAnnouncer(ifi)
	if err != nil {
		tr.Close()
		return nil, nil, err
	}
	na, err := newNetlinkAddr(in.Interface)
	if err != nil {
		tr.Close()
		ann.Close()
		return nil, nil, err
	}
	log := m.log.With("instance", in.Name)
	for _, t := range in.TrackScripts {
		if _, ok := scripts[t.Name]; !ok {
			if s := m.cfg.Script(t.Name); s != nil {
				scripts[t.Name] = newScriptTracker(s, m.log)
			}
		}
	}
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
	closeFn := func() { tr.Close(); ann.Close(); na.Close() }
	return r, closeFn, nil
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
