package vip

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"slices"
	"time"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
)

// A reload builds a new Manager beside the running one; StartFrom decides,
// instance by instance, what survives:
//
//   - same interface, VRID and family (or, failing that, same name) and the
//     same wire and election settings: the running instance is taken over.
//     Its loop keeps running, so its state, VIPs and advert timer carry on:
//     no transition, no advert gap, no GARP, no notify. Settings that
//     neither go on the wire nor change the election (name, notify
//     scripts, tracking, GARP repeat and delay, `state`) are applied to it
//     in place;
//   - matched but changed: released (priority-0 advert if master, VIPs
//     removed, notify STOP), then started afresh;
//   - gone from the configuration: released;
//   - new: started.
//
// Trackers follow the same rule: an unchanged vrrp_script keeps running
// (with its rise/fall history); a changed one starts from the old one's
// verdict, so a reload does not make a failing check look healthy.

// releaseWait bounds how long a reload waits for a released instance to
// send its priority-0 advert and remove its VIPs before starting its
// successor.
const releaseWait = 5 * time.Second

type instKey struct {
	iface string
	vrid  int
	v6    bool
}

func keyOf(in *keepalived.Instance) instKey {
	return instKey{in.Interface, in.VRID, in.IsIPv6()}
}

// wire is what must stay equal for a running instance to be taken over:
// everything that goes on the wire or takes part in the election.
type wire struct {
	Interface    string
	VRID         int
	Priority     int
	AdvertInt    time.Duration
	Version      int
	AuthType     string
	Password     [8]byte
	VIPs         []keepalived.VIP
	NoPreempt    bool
	PreemptDelay time.Duration
	UnicastSrc   string
	UnicastPeers string
	ChecksumV2   bool
	// What the instance installs as master: a change restarts it, so the
	// old set is removed by the release and the new one installed.
	Excluded, Routes, Rules string
	VMAC, VMACAddr          string
	VMACXmitBase            bool
}

func wireOf(in *keepalived.Instance) wire {
	w := wire{Interface: in.Interface, VRID: in.VRID, Priority: in.Priority, AdvertInt: in.AdvertInt,
		Version: in.Version, AuthType: in.AuthType, NoPreempt: in.NoPreempt, PreemptDelay: in.PreemptDelay,
		UnicastSrc: in.UnicastSrc.String(), UnicastPeers: fmt.Sprint(in.UnicastPeers), ChecksumV2: in.V3ChecksumAsV2}
	if in.AuthType != "" {
		w.Password = in.Password()
	}
	for _, v := range in.VIPs {
		v.Pos = diag.Pos{}
		w.VIPs = append(w.VIPs, v)
	}
	w.Excluded, w.Routes, w.Rules = posFree(in.ExcludedVIPs), posFree(in.Routes), posFree(in.Rules)
	w.VMAC, w.VMACAddr, w.VMACXmitBase = in.VMAC, in.VMACAddr, in.VMACXmitBase
	return w
}

func sameScript(a, b *keepalived.Script) bool {
	return slices.Equal(a.Command, b.Command) && a.Interval == b.Interval && a.Timeout == b.Timeout &&
		a.Weight == b.Weight && a.Rise == b.Rise && a.Fall == b.Fall
}

// startPlan is what StartFrom will do, built without touching the running
// manager so that a failure leaves it as it was.
type startPlan struct {
	scripts  map[string]*scriptTracker
	trackers []*scriptTracker // owned by the new manager
	fresh    []*scriptTracker // of which to start
	taken    []*scriptTracker // of which taken from prev
	runners  []*runner        // in configuration order
	starts   []*runner        // of which new
	keep     map[*runner]*keepalived.Instance
	release  []*runner        // prev's, released before the new ones start
	restarts map[*runner]bool // of which those restarted with new settings

	links       *linkWatch
	cancelWatch context.CancelFunc
}

func (m *Manager) owned() ([]*runner, []*scriptTracker) {
	if m == nil {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopping {
		return nil, nil // being released anyway
	}
	return append([]*runner(nil), m.runners...), append([]*scriptTracker(nil), m.trackers...)
}

func (m *Manager) plan(prev *Manager, links *linkWatch) (*startPlan, error) {
	prevRunners, prevTrackers := prev.owned()
	p := &startPlan{scripts: map[string]*scriptTracker{}, keep: map[*runner]*keepalived.Instance{}, restarts: map[*runner]bool{}}
	m.planScripts(p, prevTrackers)
	used := map[*runner]bool{}
	for _, in := range m.cfg.Instances {
		old := match(in, prevRunners, used)
		if old != nil {
			used[old] = true
			if reflect.DeepEqual(wireOf(old.cfg), wireOf(in)) && sameLink(old, in) {
				p.keep[old] = in
				p.runners = append(p.runners, old)
				continue
			}
			p.release = append(p.release, old)
			p.restarts[old] = true
		}
		r, err := m.newRunner(in, links, p.scripts)
		if err != nil {
			for _, r := range p.starts {
				r.closeFn()
			}
			return nil, fmt.Errorf("vip: instance %s: %w", in.Name, err)
		}
		p.runners = append(p.runners, r)
		p.starts = append(p.starts, r)
	}
	for _, r := range prevRunners {
		if !used[r] {
			p.release = append(p.release, r)
		}
	}
	return p, nil
}

func (m *Manager) planScripts(p *startPlan, prevTrackers []*scriptTracker) {
	for _, in := range m.cfg.Instances {
		for _, t := range in.TrackScripts {
			s := m.cfg.Script(t.Name)
			if s == nil || p.scripts[t.Name] != nil {
				continue
			}
			var old *scriptTracker
			for _, o := range prevTrackers {
				if o.s.Name == s.Name {
					old = o
				}
			}
			if old != nil && sameScript(old.s, s) {
				p.scripts[s.Name] = old
				p.trackers = append(p.trackers, old)
				p.taken = append(p.taken, old)
				continue
			}
			nt := newScriptTracker(s, m.log)
			if old != nil {
				nt.seed(old)
			}
			p.scripts[s.Name] = nt
			p.trackers = append(p.trackers, nt)
			p.fresh = append(p.fresh, nt)
		}
	}
}

// match finds the running instance in is the continuation of: same
// interface, VRID and family first, else the same name.
func match(in *keepalived.Instance, prev []*runner, used map[*runner]bool) *runner {
	for _, r := range prev {
		if !used[r] && keyOf(r.cfg) == keyOf(in) {
			return r
		}
	}
	for _, r := range prev {
		if !used[r] && r.cfg.Name == in.Name {
			return r
		}
	}
	return nil
}

// sameLink reports whether the interface is still the one the running
// instance's sockets are bound to, with the same advert source: a
// recreated interface needs new sockets.
func sameLink(r *runner, in *keepalived.Instance) bool {
	ifi, err := net.InterfaceByName(in.Interface)
	if err != nil || ifi.Index != r.ifindex {
		return false
	}
	if in.UnicastSrc.IsValid() {
		return true
	}
	src, err := primaryAddr(in.Interface, in.IsIPv6(), in.AllVIPs())
	return err == nil && src == r.src
}

// commit carries out the plan: take over, release, clean up, start.
func (m *Manager) commit(p *startPlan, prev *Manager) {
	if prev != nil {
		prev.disown(p)
	}
	for _, r := range p.release {
		why := "removed from the configuration"
		if p.restarts[r] {
			why = "its settings changed: restarting it"
		}
		r.logf("releasing on reload: %s", why)
		r.stop(stopRelease)
	}
	deadline := time.NewTimer(releaseWait)
	defer deadline.Stop()
	for _, r := range p.release {
		select {
		case <-r.stopped:
		case <-deadline.C:
			m.log.Warn("vip: a released instance is slow to stop; starting its successor anyway", "instance", r.cfg.Name)
			deadline.Reset(0)
		}
	}
	nameOf := func(r *runner) string {
		if in := p.keep[r]; in != nil {
			return in.Name
		}
		return r.cfg.Name
	}
	groups := buildSyncGroups(m.cfg, p.runners, nameOf, m.log, m.opts.NotifyTimeout)
	for _, r := range p.starts {
		r.setGroup(groups[r])
	}
	for r, in := range p.keep {
		if !r.update(runnerUpdate{cfg: in, group: groups[r], health: m.opts.Health, scripts: p.scripts, links: p.links, log: m.log}) {
			m.log.Warn("vip: instance stopped during the reload", "instance", in.Name)
		}
	}
	if prev == nil {
		m.prepareFresh(p.starts)
	}
	m.installStatics(prev)
	m.mu.Lock()
	m.runners, m.trackers, m.cancelWatch = p.runners, p.trackers, p.cancelWatch
	m.committed = true
	for _, t := range p.fresh {
		t.start()
	}
	for _, r := range p.starts {
		r.start()
	}
	stopping, mode := m.stopping, m.stopMode
	if !stopping {
		setRunning(m, true)
	}
	m.mu.Unlock()
	if stopping {
		// Stop came while the plan was carried out: stop what started.
		m.stopAll(mode, p.runners, p.trackers, p.cancelWatch)
	}
}

// disown removes from prev what the new manager took over, so that prev's
// Stop no longer releases it. Released instances stay prev's: its Done
// still waits for their notify scripts.
func (m *Manager) disown(p *startPlan) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runners = slices.DeleteFunc(m.runners, func(r *runner) bool { return p.keep[r] != nil })
	m.trackers = slices.DeleteFunc(m.trackers, func(t *scriptTracker) bool { return slices.Contains(p.taken, t) })
}

// prepareFresh decides how the first instances of a process start. A VIP
// of this configuration found on its interface is either a crash's
// leftover (removed before the instance decides its state, as keepalived
// does) or, in a binary upgrade, held by the running process this one
// succeeds (adopted: the instance starts as master at once).
func (m *Manager) prepareFresh(runners []*runner) {
	for _, r := range runners {
		if !m.opts.Upgrade {
			// Routes and rules only a master has: a crash's leftovers
			// (static ones are installed after this, whatever is here).
			removeRouting(r.router, r.cfg.Routes, r.cfg.Rules, r.logf)
		}
		held := 0
		for _, v := range r.cfg.AllVIPs() {
			n, err := r.addrs.Held(v)
			if err != nil {
				m.log.Warn("vip: cannot list addresses", "instance", r.cfg.Name, "err", err)
			}
			held += n
		}
		if held == 0 {
			continue
		}
		if m.opts.Upgrade {
			r.adopt = true
			r.logf("found %d VIP(s) of the previous varde process on the interface: adopting them", held)
			continue
		}
		for _, v := range r.cfg.AllVIPs() {
			if n, err := r.addrs.Purge(v); err != nil {
				r.logf("removing VIP %s left by a previous run: %v", v.Prefix.Addr(), err)
			} else if n > 0 {
				r.logf("removed VIP %s left by a previous run", v.Prefix.Addr())
			}
		}
	}
}
