package vip

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/varde-lb/varde/core/config/keepalived"
)

// syncGroup couples the instances of a vrrp_sync_group, as keepalived:
//   - FAULT: any member's own fault puts every member in FAULT, until
//     no member has one (each runner reads anyFault at every poll);
//   - BACKUP: a member stepping down from MASTER makes every other master
//     step down (EvSyncBackup);
//   - MASTER: a backup whose down timer expires only wants MASTER; the
//     group goes MASTER (EvSyncMaster to every member) when all members
//     want it, or at once when the group is MASTER already.
//
// Group notify scripts run when the group's state changes: FAULT when a
// member is in FAULT, MASTER or BACKUP when every member is.
type syncGroup struct {
	cfg     *keepalived.SyncGroup
	log     *slog.Logger
	notify  *notifier
	mu      sync.Mutex
	members []*runner
	state   map[*runner]State
	want    map[*runner]bool
	fault   map[*runner]bool
	gstate  State // Init until every member has a state
}

func newSyncGroup(cfg *keepalived.SyncGroup, log *slog.Logger, timeout time.Duration) *syncGroup {
	l := log.With("sync_group", cfg.Name)
	return &syncGroup{cfg: cfg, log: l, notify: &notifier{log: l, timeout: timeout},
		state: map[*runner]State{}, want: map[*runner]bool{}, fault: map[*runner]bool{}}
}

// add makes r a member in state s (a reload's kept instance keeps its
// state; a new one starts in Init).
func (g *syncGroup) add(r *runner, s State) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.members = append(g.members, r)
	g.state[r] = s
	g.gstate = g.compute()
}

// setFault records r's own fault and returns whether any member has one.
func (g *syncGroup) setFault(r *runner, own bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fault[r] = own
	for _, f := range g.fault {
		if f {
			return true
		}
	}
	return false
}

// wantMaster: r's down timer expired. The group goes MASTER when every
// other member wants it too (keepalived prefers BACKUP to thrashing).
func (g *syncGroup) wantMaster(r *runner) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.want[r] = true
	if g.gstate == Master {
		r.syncSend(EvSyncMaster)
		return
	}
	for _, o := range g.members {
		if o != r && !g.want[o] && g.state[o] != Master {
			return
		}
	}
	g.log.Info("VRRP_Group(" + g.cfg.Name + ") Syncing instances to MASTER state")
	for _, o := range g.members {
		g.want[o] = false
		o.syncSend(EvSyncMaster)
	}
}

// observe records r's state after each event; a step down from MASTER is
// followed by the other masters, and the group's state is recomputed.
func (g *syncGroup) observe(r *runner, prev, cur State, wanting bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.state[r] = cur
	g.want[r] = wanting && cur == Backup
	if prev == Master && cur == Backup {
		synced := false
		for _, o := range g.members {
			if o != r && g.state[o] == Master {
				if !synced {
					g.log.Info("VRRP_Group(" + g.cfg.Name + ") Syncing instances to BACKUP state")
					synced = true
				}
				o.syncSend(EvSyncBackup)
			}
		}
	}
	if s := g.compute(); s != g.gstate && s != Init {
		g.gstate = s
		g.log.Info("VRRP_Group(" + g.cfg.Name + ") " + s.String())
		g.runNotify(s)
	}
}

// compute is the group's state from its members': FAULT if one is, else
// MASTER or BACKUP when all are; otherwise (a transition under way, or a
// member not started) unchanged.
func (g *syncGroup) compute() State {
	all := func(s State) bool {
		for _, o := range g.members {
			if g.state[o] != s {
				return false
			}
		}
		return len(g.members) > 0
	}
	for _, o := range g.members {
		if g.state[o] == Fault {
			return Fault
		}
	}
	switch {
	case all(Master):
		return Master
	case all(Backup):
		return Backup
	}
	return g.gstate
}

// runNotify starts the group's notify_<state> script and `notify` with
// keepalived's arguments GROUP NAME STATE 0.
func (g *syncGroup) runNotify(s State) {
	var specific []string
	switch s {
	case Master:
		specific = g.cfg.NotifyMaster
	case Backup:
		specific = g.cfg.NotifyBackup
	case Fault:
		specific = g.cfg.NotifyFault
	}
	ctx := context.Background()
	if len(specific) > 0 {
		g.notify.start(ctx, g.cfg.Name, g.log, specific)
	}
	if len(g.cfg.Notify) > 0 {
		argv := append(append([]string(nil), g.cfg.Notify...), "GROUP", g.cfg.Name, s.String(), "0")
		g.notify.start(ctx, g.cfg.Name, g.log, argv)
	}
}

// syncSend queues a group event for r's loop (never blocks: the group's
// lock is held).
func (r *runner) syncSend(k EventKind) {
	r.syncMu.Lock()
	r.syncPending = append(r.syncPending, k)
	r.syncMu.Unlock()
	select {
	case r.syncWake <- struct{}{}:
	default:
	}
}

func (r *runner) syncTake() []EventKind {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	evs := r.syncPending
	r.syncPending = nil
	return evs
}

// buildSyncGroups makes the groups of cfg and puts runners in them, each
// in its current state (so a reload notifies nothing for kept instances).
func buildSyncGroups(cfg *keepalived.Config, runners []*runner, nameOf func(*runner) string, log *slog.Logger, timeout time.Duration) map[*runner]*syncGroup {
	out := map[*runner]*syncGroup{}
	for _, gc := range cfg.SyncGroups {
		g := newSyncGroup(gc, log, timeout)
		for _, r := range runners {
			for _, name := range gc.Members {
				if nameOf(r) == name {
					g.add(r, stateOf(r.snapshot().State))
					out[r] = g
				}
			}
		}
	}
	return out
}

func stateOf(s string) State {
	for st := Init; st <= Stopped; st++ {
		if strings.EqualFold(st.String(), s) {
			return st
		}
	}
	return Init
}
