package vip

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/vip/vrrp"
)

// Snapshot is a read-only view of one instance for the stats page and metrics.
type Snapshot struct {
	Name         string            `json:"name"`
	Interface    string            `json:"interface"`
	VRID         int               `json:"vrid"`
	State        string            `json:"state"`
	Priority     int               `json:"priority"`      // effective
	BasePriority int               `json:"base_priority"` // configured
	Transitions  uint64            `json:"transitions"`
	SplitBrain   uint64            `json:"split_brain"` // adverts heard from another master while master
	AdvertsSent  uint64            `json:"adverts_sent"`
	AdvertsRecv  uint64            `json:"adverts_received"`
	Drops        map[string]uint64 `json:"drops,omitempty"` // by vrrp.Reason
}

type runner struct {
	cfg       *keepalived.Instance
	log       *slog.Logger
	m         *Machine
	tr        Transport
	addrs     Addresser
	router    Router // virtual_routes / virtual_rules; nil: none to install
	ann       Announcer
	src       netip.Addr
	ifindex   int // the interface the sockets are bound to
	dsts      []netip.Addr
	local     vrrp.Local
	noPseudo  bool
	scripts   map[string]*scriptTracker
	allScript []*keepalived.Script
	links     *linkWatch
	health    BackendHealth
	fileLast  map[string]int64 // last valid value of each track_file (run loop only)
	// procStates are the track_process verdicts (run loop only); procReg
	// the instance's use of the /proc scanner.
	procStates map[string]*procState
	procReg    procRegistration
	// group is the instance's vrrp_sync_group (nil: none); the group
	// queues events in syncPending and wakes the loop through syncWake.
	group       *syncGroup
	syncMu      sync.Mutex
	syncPending []EventKind
	syncWake    chan struct{}
	notify      *notifier
	now         func() time.Time
	// adopt starts the instance as master on the VIPs a previous varde
	// process left (binary upgrade) instead of from Init.
	adopt bool
	// vipGone receives the addresses the kernel reports deleted (the
	// manager's address watch); nil in tests that do not use it.
	vipGone chan netip.Addr
	// routeGone receives the routes the kernel reports deleted (the
	// manager's route watch); nil in tests that do not use it.
	routeGone chan deletedRoute
	// routeDsts is the destinations of the tracked virtual routes (those
	// written with a dev): the route watch sends only their deletions.
	routeDsts atomic.Pointer[map[netip.Prefix]bool]
	// routeRecheck is woken when a tracked deletion did not fit in
	// routeGone: the loop then re-lists every tracked route.
	routeRecheck chan struct{}
	// ruleGone is woken when the kernel reports a rule deleted.
	ruleGone chan struct{}
	// updates carries soft configuration changes and the new
	// generation's trackers into the loop when a reload takes the
	// instance over (nil in tests that drive run directly).
	updates chan runnerUpdate

	// Lifecycle when started by a Manager: each instance has its own, so
	// that a reload can hand a running instance to the next generation.
	cancel  context.CancelFunc
	mode    atomic.Int32  // stopMode chosen by the first stop
	stopped chan struct{} // the loop has returned (adverts sent, VIPs handled)
	done    chan struct{} // and its notify scripts finished, sockets closed
	closeFn func()

	mu      sync.Mutex
	snap    Snapshot
	drops   [vrrp.NumReasons]uint64
	lastLog time.Time
}

func (r *runner) logf(format string, args ...any) {
	r.log.Info(fmt.Sprintf("("+r.cfg.Name+") "+format, args...))
}

func (r *runner) advert(prio uint8) *vrrp.Advert {
	a := &vrrp.Advert{
		Version:  uint8(r.cfg.Version),
		VRID:     uint8(r.cfg.VRID),
		Priority: prio,
		Interval: uint16(r.cfg.AdvertInt / (10 * time.Millisecond)),
	}
	if r.cfg.AuthType == "PASS" && r.cfg.Version == 2 {
		a.AuthType, a.AuthData = vrrp.AuthPass, r.cfg.Password()
	}
	for _, v := range r.cfg.VIPs {
		a.Addrs = append(a.Addrs, v.Prefix.Addr())
	}
	return a
}

func (r *runner) send(prio uint8) {
	a := r.advert(prio)
	for _, dst := range r.dsts {
		b, err := a.Marshal(r.src, dst, r.noPseudo)
		if err == nil {
			err = r.tr.Send(b, r.src, dst)
		}
		if err != nil {
			r.rateLog("send advert to %s: %v", dst, err)
			continue
		}
		r.mu.Lock()
		r.snap.AdvertsSent++
		r.mu.Unlock()
	}
}

// rateLog logs at most one line per second, so a flood of bad packets or a
// dead link cannot flood the log.
func (r *runner) rateLog(format string, args ...any) {
	now := r.now()
	r.mu.Lock()
	ok := now.Sub(r.lastLog) >= time.Second
	if ok {
		r.lastLog = now
	}
	r.mu.Unlock()
	if ok {
		r.logf(format, args...)
	}
}

func (r *runner) garpBurst() { r.announce(r.cfg.GarpMasterRepeat) }

// announce sends n GARPs (unsolicited NAs) for every VIP, and for the
// excluded VIPs on the instance's interface (the announcer's).
func (r *runner) announce(n int) {
	for range n {
		for _, v := range r.cfg.AllVIPs() {
			if v.Dev != "" && v.Dev != r.cfg.Interface {
				continue
			}
			if err := r.ann.Announce(v.Prefix.Addr()); err != nil {
				r.rateLog("%v", err)
			}
		}
	}
}

// exec performs the machine's actions in order; it returns whether a GARP
// burst was sent (so the caller schedules the delayed repeat).
func (r *runner) exec(ctx context.Context, acts []Action) (garp bool) {
	// Log lines are written after the actions: a write to a slow stderr
	// must not delay taking over the VIP.
	var logs []string
	defer func() {
		for _, m := range logs {
			r.logf("%s", m)
		}
	}()
	for _, a := range acts {
		switch a.Kind {
		case ActLog:
			logs = append(logs, a.Msg)
		case ActSendAdvert:
			r.send(a.Priority)
		case ActAddVIPs:
			// keepalived's order: addresses (VIPs, then the excluded
			// ones), then routes (which may use them as source), rules.
			for _, v := range r.cfg.AllVIPs() {
				if err := r.addrs.Add(v); err != nil {
					r.logf("%v", err)
				}
			}
			installRouting(r.router, r.cfg.Routes, r.cfg.Rules, r.logf)
		case ActDelVIPs:
			removeRouting(r.router, r.cfg.Routes, r.cfg.Rules, r.logf)
			for _, v := range r.cfg.AllVIPs() {
				if err := r.addrs.Del(v); err != nil {
					r.logf("%v", err)
				}
			}
		case ActGARP:
			r.garpBurst()
			logs = append(logs, "Sending/queueing gratuitous ARPs on "+r.cfg.Interface)
			garp = true
		case ActNotify:
			r.notify.notify(ctx, a.State, r.m.Priority())
		case ActWantMaster:
			if r.group != nil {
				r.group.wantMaster(r)
			}
		}
	}
	r.mu.Lock()
	r.snap.State = r.m.State().String()
	r.snap.Priority = int(r.m.Priority())
	r.snap.Transitions = r.m.Transitions
	r.snap.SplitBrain = r.m.SplitBrain
	r.mu.Unlock()
	return garp
}

// fileValue reads a tracked file (every tracking poll: the files are a few
// bytes, and a change is seen within VardeTrackInterval); a value keepalived
// would ignore keeps the last good one.
func (r *runner) fileValue(path string) int64 {
	v, ok := trackFileValue(path)
	if r.fileLast == nil {
		r.fileLast = map[string]int64{}
	}
	if !ok {
		return r.fileLast[path]
	}
	r.fileLast[path] = v
	return v
}

// tracking computes the effective priority and whether the instance must be
// in FAULT, from its scripts, interfaces and varde's own health.
func (r *runner) tracking() (uint8, bool) {
	base := r.cfg.Priority
	delta, fault := 0, false
	apply := func(w int, up bool) {
		switch {
		case w == 0 && !up:
			fault = true
		case w > 0 && up, w < 0 && !up:
			delta += w
		}
	}
	if !r.links.up(r.cfg.Interface) {
		fault = true
	}
	for _, t := range r.cfg.TrackScripts {
		st := r.scripts[t.Name]
		if st == nil {
			continue
		}
		up, known := st.Up()
		if !known {
			continue
		}
		w := st.s.Weight
		if t.Weight != nil {
			w = *t.Weight
		}
		apply(w, up)
	}
	for _, t := range r.cfg.TrackInterfaces {
		w := 0
		if t.Weight != nil {
			w = *t.Weight
		}
		apply(w, r.links.up(t.Name))
	}
	for _, t := range r.cfg.TrackFiles {
		d, f := trackFileEffect(r.fileValue(t.Path), t.Weight, t.Reverse)
		delta += d
		fault = fault || f
	}
	d, f := r.processTracking()
	delta += d
	fault = fault || f
	for _, t := range r.cfg.TrackVarde {
		up := true
		if r.health == nil {
			up = false
		} else if t.Backend != "" {
			up = !r.health.AllDown(t.Backend)
		} else if t.Listeners {
			up = r.health.ListenersUp()
		}
		apply(t.Weight, up)
	}
	if base == 255 {
		return 255, fault // an owner's priority is never changed by tracking
	}
	p := min(max(base+delta, 1), 254)
	return uint8(p), fault
}

func (r *runner) run(ctx context.Context) {
	type packet struct {
		vrrp.Received
		at time.Time
	}
	r.procReg = registerProcs(r.cfg)
	defer func() { r.procReg.release() }()
	pkts := make(chan packet, 64)
	go func() {
		for {
			p, err := r.tr.Recv()
			// Timers start from the advert's arrival, not from when the
			// loop gets to it: scheduling delays must not lengthen the
			// Master_Down_Interval.
			at := r.now()
			if err != nil {
				close(pkts)
				return
			}
			select {
			case pkts <- packet{p, at}:
			default: // the loop is behind: drop, as a full socket buffer would
			}
		}
	}()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	poll := time.NewTicker(VardeTrackInterval)
	defer poll.Stop()
	var garpC <-chan time.Time
	var garpTimer *time.Timer
	arm := func() {
		if d := r.m.Deadline(); !d.IsZero() {
			wait := d.Sub(r.now())
			if r.m.State() == Backup {
				wait -= timerSlack
			}
			timer.Reset(max(wait, 0))
		} else {
			timer.Reset(time.Hour)
		}
	}
	// refresh schedules garp_master_refresh: as keepalived, the burst goes
	// with the first advert at least the interval after becoming master
	// or after the last refresh.
	var refresh garpRefresh
	afterGARP := func(sent bool) {
		if sent && r.cfg.GarpMasterDelay > 0 {
			if garpTimer != nil {
				garpTimer.Stop()
			}
			garpTimer = time.NewTimer(r.cfg.GarpMasterDelay)
			garpC = garpTimer.C
		}
	}
	lastPrio, lastFault := r.tracking()
	if lastPrio != uint8(r.cfg.Priority) {
		r.m.Handle(r.now(), Event{Kind: EvPriority, Priority: lastPrio})
	}
	first := EvStartup
	if r.adopt {
		first = EvAdopt
	}
	startNow := r.now()
	lastState := r.m.State()
	afterGARP(r.exec(ctx, r.m.Handle(startNow, Event{Kind: first})))
	r.refreshGARP(&refresh, startNow)
	if r.group != nil {
		lastFault = r.group.setFault(r, lastFault)
	}
	if lastFault {
		r.exec(ctx, r.m.Handle(r.now(), Event{Kind: EvFault}))
	}
	r.observeGroup(&lastState)
	arm()
	for {
		select {
		case <-ctx.Done():
			if garpTimer != nil {
				garpTimer.Stop()
			}
			if stopMode(r.mode.Load()) == stopHandover {
				// The successor process adopts the VIPs: no priority-0
				// advert, nothing removed, no notify (no transition).
				r.logf("leaving the VIPs to the next varde process (state %s)", r.m.State())
				return
			}
			r.exec(ctx, r.m.Handle(r.now(), Event{Kind: EvShutdown}))
			return
		case u := <-r.updates:
			r.apply(u)
			close(u.ack)
		case a := <-r.vipGone:
			if r.m.State() == Master && r.lostVIP(a) {
				afterGARP(r.exec(ctx, r.m.Handle(r.now(), Event{Kind: EvVIPLost})))
			}
		case rt := <-r.routeGone:
			if r.m.State() == Master && r.lostRoute(rt) {
				afterGARP(r.exec(ctx, r.m.Handle(r.now(), Event{Kind: EvRouteLost})))
			}
		case <-r.routeRecheck:
			if r.m.State() == Master && r.lostAnyRoute() {
				afterGARP(r.exec(ctx, r.m.Handle(r.now(), Event{Kind: EvRouteLost})))
			}
		case <-r.ruleGone:
			if r.m.State() == Master && r.lostRule() {
				afterGARP(r.exec(ctx, r.m.Handle(r.now(), Event{Kind: EvRouteLost})))
			}
		case p, ok := <-pkts:
			if !ok {
				pkts = nil
				continue
			}
			if p.Src == r.src {
				continue // our own advert looped back
			}
			a, err := r.local.Check(p.Received)
			if err != nil {
				e, _ := err.(*vrrp.Error)
				reason := vrrp.ReasonLength
				if e != nil {
					reason = e.Reason
				}
				r.mu.Lock()
				r.drops[reason]++
				r.mu.Unlock()
				if reason != vrrp.ReasonUnknownVRID {
					r.rateLog("%v", err)
				}
				continue
			}
			r.mu.Lock()
			r.snap.AdvertsRecv++
			r.mu.Unlock()
			afterGARP(r.exec(ctx, r.m.Handle(p.at, Event{Kind: EvAdvert, Priority: a.Priority, Src: p.Src, Interval: a.Interval})))
		case <-timer.C:
			due := r.m.Deadline()
			preciseWait(due, r.now)
			if late := r.now().Sub(due); r.m.State() == Master && late > r.cfg.AdvertInt/2 {
				// The backups count on the advert; say when it left late
				// (a starved or stalled process), rate-limited.
				r.rateLog("advert timer fired %v late", late.Round(time.Millisecond))
			}
			now := r.now()
			afterGARP(r.exec(ctx, r.m.Handle(now, Event{Kind: EvTimer})))
			// The same instant the machine scheduled its next advert from,
			// so a refresh interval equal to advert_int falls on every advert.
			r.refreshGARP(&refresh, now)
		case <-r.syncWake:
			for _, k := range r.syncTake() {
				afterGARP(r.exec(ctx, r.m.Handle(r.now(), Event{Kind: k})))
			}
		case <-garpC:
			garpC = nil
			if r.m.State() == Master {
				r.garpBurst()
			}
		case <-poll.C:
			prio, fault := r.tracking()
			if r.group != nil {
				fault = r.group.setFault(r, fault)
			}
			if prio != lastPrio {
				r.exec(ctx, r.m.Handle(r.now(), Event{Kind: EvPriority, Priority: prio}))
				lastPrio = prio
			}
			if fault != lastFault {
				kind := EvFaultCleared
				if fault {
					kind = EvFault
				}
				afterGARP(r.exec(ctx, r.m.Handle(r.now(), Event{Kind: kind})))
				lastFault = fault
			}
		}
		r.observeGroup(&lastState)
		arm()
	}
}

// garpRefresh is when a master's next refresh burst is due, and in which
// mastership (the machine's transition count) it was scheduled.
type garpRefresh struct {
	at    time.Time
	trans uint64
}

// setGroup puts the instance in a vrrp_sync_group (nil: none); its down
// timer then asks the group before going MASTER.
func (r *runner) setGroup(g *syncGroup) {
	r.group = g
	r.m.Synced = g != nil
}

// observeGroup tells the group the instance's state after an event.
func (r *runner) observeGroup(last *State) {
	if r.group == nil {
		return
	}
	cur := r.m.State()
	r.group.observe(r, *last, cur, r.m.Wanting())
	*last = cur
}

// refreshGARP runs after the startup and every advert timer, with the
// instant the machine handled it: a new mastership (or a refresh enabled
// by a reload) starts counting from now; a due refresh sends
// garp_master_refresh_repeat GARPs per VIP and starts the next interval.
func (r *runner) refreshGARP(g *garpRefresh, now time.Time) {
	every := r.cfg.GarpMasterRefresh
	if every <= 0 || r.m.State() != Master {
		g.at = time.Time{}
		return
	}
	if g.at.IsZero() || g.trans != r.m.Transitions || g.at.Sub(now) > every {
		g.at, g.trans = now.Add(every), r.m.Transitions
		return
	}
	if now.Before(g.at) {
		return
	}
	r.announce(r.cfg.GarpMasterRefreshRepeat)
	g.at = now.Add(every)
}

// lostVIP reports whether a is one of the instance's VIPs and is really
// gone now: deletion events may be stale (our own clean-up at startup,
// or a VIP removed and re-added since).
func (r *runner) lostVIP(a netip.Addr) bool {
	for _, v := range r.cfg.AllVIPs() {
		if v.Prefix.Addr() != a {
			continue
		}
		n, err := r.addrs.Held(v)
		if err != nil || n > 0 {
			return false
		}
		r.logf("VIP %s was removed from %s by someone else", a, r.cfg.Interface)
		return true
	}
	return false
}

// stopMode is how an instance ends.
type stopMode int32

const (
	stopUnset    stopMode = iota // not stopped yet; a cancelled loop releases (tests cancel it directly)
	stopRelease                  // priority-0 advert if master, VIPs removed, notify STOP
	stopHandover                 // VIPs left for a successor process, nothing sent
)

// start runs the loop on its own context: the instance outlives the
// generation that started it when a reload takes it over.
func (r *runner) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.stopped = make(chan struct{})
	r.done = make(chan struct{})
	r.updates = make(chan runnerUpdate)
	go func() {
		r.run(ctx)
		close(r.stopped)
		r.notify.wait()
		r.closeFn()
		close(r.done)
	}()
}

// stop ends the instance; the first stop's mode wins, so a SIGTERM during
// a handover cannot turn it into a release, nor the reverse.
func (r *runner) stop(mode stopMode) {
	r.mode.CompareAndSwap(int32(stopUnset), int32(mode))
	r.cancel()
}

// runnerUpdate is what a reload changes in a running instance: settings
// that neither go on the wire nor change the election (name, notify
// scripts, tracking, GARP repeat and delay, initial state), and the new
// generation's trackers and health source.
type runnerUpdate struct {
	cfg     *keepalived.Instance
	group   *syncGroup
	health  BackendHealth
	scripts map[string]*scriptTracker
	links   *linkWatch
	log     *slog.Logger // the new generation's
	ack     chan struct{}
}

// update hands u to the loop and waits until it is applied; false when the
// instance has already stopped.
func (r *runner) update(u runnerUpdate) bool {
	u.ack = make(chan struct{})
	select {
	case r.updates <- u:
		<-u.ack
		return true
	case <-r.stopped:
		return false
	}
}

func (r *runner) apply(u runnerUpdate) {
	r.log = u.log.With("instance", u.cfg.Name)
	old := r.procReg
	r.procReg = registerProcs(u.cfg)
	old.release()
	r.cfg, r.health, r.scripts, r.links = u.cfg, u.health, u.scripts, u.links
	r.setRouteDsts()
	r.setGroup(u.group)
	r.notify.setInstance(u.cfg, r.log)
	r.mu.Lock()
	r.snap.Name = u.cfg.Name
	r.snap.BasePriority = u.cfg.Priority
	r.mu.Unlock()
	r.logf("kept across the reload (%s, no transition)", r.m.State())
}

// timerSlack is how early the Master_Down timer wakes the loop. Go's timers
// sleep in whole milliseconds (epoll) and fire up to ~1 ms late; the last
// stretch is spun so a backup takes over at Master_Down_Interval, not after.
const timerSlack = 2 * time.Millisecond

func preciseWait(deadline time.Time, now func() time.Time) {
	if deadline.IsZero() {
		return
	}
	for i := 0; now().Before(deadline) && i < 1_000_000; i++ {
		runtime.Gosched()
	}
}

func (r *runner) snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.snap
	s.Drops = map[string]uint64{}
	for i, n := range r.drops {
		if n > 0 {
			s.Drops[vrrp.Reason(i).String()] = n
		}
	}
	return s
}
