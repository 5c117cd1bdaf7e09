package vip

import (
	"fmt"
	"net/netip"
	"time"
)

// State is a VRRP instance state (RFC 5798 §6.4).
type State int

const (
	Init State = iota
	Backup
	Master
	Fault
	Stopped
)

func (s State) String() string {
	switch s {
	case Init:
		return "INIT"
	case Backup:
		return "BACKUP"
	case Master:
		return "MASTER"
	case Fault:
		return "FAULT"
	case Stopped:
		return "STOP"
	}
	return "UNKNOWN"
}

// EventKind is what happened to an instance.
type EventKind int

const (
	EvStartup      EventKind = iota // the instance starts (Init -> Backup or Master)
	EvAdvert                        // a valid advert for our VRID was received
	EvTimer                         // the deadline returned by Deadline passed
	EvShutdown                      // graceful stop: priority-0 advert, VIPs removed
	EvFault                         // a tracked interface/script/varde check failed hard
	EvFaultCleared                  // every fault condition is gone
	EvPriority                      // tracking changed the effective priority
	// EvAdopt starts the instance as master holding the VIPs a previous
	// varde process left for it (binary upgrade): the VIP never moved, so
	// it is no transition: no GARP, no notify, an advert at once.
	EvAdopt
	// EvVIPLost: a VIP of a master was removed from its interface by
	// someone else (an operator, a previous process releasing it): the
	// instance steps down to backup as keepalived does, rather than
	// advertising a VIP nobody answers for; with no other master it takes
	// it back after Master_Down_Interval.
	EvVIPLost
	// EvRouteLost: a tracked virtual route (one written with a dev) or a
	// virtual rule of a master was deleted by someone else. keepalived 2.2.7 steps down
	// with a priority-0 advert ("sent 0 priority", then its routes and
	// VIPs removed) and, with no other master, takes over again after
	// Master_Down_Interval, re-installing the route.
	EvRouteLost
	// EvSyncMaster: the instance's vrrp_sync_group goes MASTER (every
	// member wanted to); EvSyncBackup: a member of the group stepped down
	// from MASTER, so every member does.
	EvSyncMaster
	EvSyncBackup
)

// Event is one input of the state machine.
type Event struct {
	Kind     EventKind
	Priority uint8      // EvAdvert: advert priority; EvPriority: new effective priority
	Src      netip.Addr // EvAdvert: sender's primary address
	Interval uint16     // EvAdvert: advertised interval, centiseconds
}

// ActionKind is what the driver must do.
type ActionKind int

const (
	ActSendAdvert ActionKind = iota // send an advert with Action.Priority
	ActAddVIPs
	ActDelVIPs
	ActGARP   // gratuitous ARP / unsolicited NA burst (and the delayed repeat)
	ActNotify // run notify scripts for Action.State
	ActLog    // log Action.Msg (keepalived wording, without the instance prefix)
	// ActWantMaster: a synced backup's down timer expired; the group
	// decides (EvSyncMaster) once every member wants MASTER.
	ActWantMaster
)

// Action is one output of the state machine, executed in order.
type Action struct {
	Kind     ActionKind
	Priority uint8
	State    State
	Msg      string
}

// Params configure a Machine.
type Params struct {
	Version      int    // 2 or 3
	Priority     uint8  // configured priority 1..255
	Interval     uint16 // own advert interval, centiseconds
	Preempt      bool   // false with nopreempt
	PreemptDelay time.Duration
	Primary      netip.Addr // our primary address, for equal-priority ties
	StartMaster  bool       // `state MASTER`: shorter first wait, as keepalived
}

// Machine is the VRRP state machine of one instance. It does no I/O and
// reads no clock: the driver passes `now` with every event and sleeps until
// Deadline. Behaviour follows RFC 5798 plus keepalived's interop extras
// (answer lower-priority adverts as master, v3 backups adopt the master's
// interval, priority-0 advert on stop and fault).
type Machine struct {
	p        Params
	state    State
	prio     uint8     // effective priority
	masterCS uint16    // Master_Adver_Interval, centiseconds
	downAt   time.Time // Master_Down_Timer (Backup)
	adverAt  time.Time // Adver_Timer (Master)
	started  time.Time

	Transitions uint64 // state changes
	SplitBrain  uint64 // adverts from another master heard while master

	// Synced: the instance is in a vrrp_sync_group; its down timer then
	// only asks for MASTER (ActWantMaster) and want records that it did,
	// until an advert from a master or a transition.
	Synced bool
	want   bool
}

// Wanting reports whether a synced backup waits for its group to go MASTER.
func (m *Machine) Wanting() bool { return m.want }

// NewMachine returns a machine in Init.
func NewMachine(p Params) *Machine {
	return &Machine{p: p, prio: p.Priority, masterCS: p.Interval}
}

// State is the current state.
func (m *Machine) State() State { return m.state }

// Priority is the effective priority.
func (m *Machine) Priority() uint8 { return m.prio }

// MasterInterval is the Master_Adver_Interval in use.
func (m *Machine) MasterInterval() time.Duration { return cs(m.masterCS) }

func cs(n uint16) time.Duration { return time.Duration(n) * 10 * time.Millisecond }

// SkewTime is (256-Priority)/256 s for VRRPv2, and that fraction of the
// master's interval for VRRPv3, computed in microseconds like keepalived so
// mixed clusters elect identically.
func (m *Machine) SkewTime() time.Duration {
	p := int64(256 - int(m.prio))
	if m.p.Version == 3 {
		return time.Duration(p*int64(m.masterCS)*625/16) * time.Microsecond
	}
	return time.Duration(p*1_000_000/256) * time.Microsecond
}

// MasterDownInterval is 3 x Master_Adver_Interval + Skew_Time.
func (m *Machine) MasterDownInterval() time.Duration {
	return 3*cs(m.masterCS) + m.SkewTime()
}

// Deadline is when the driver must deliver EvTimer; zero when no timer runs.
func (m *Machine) Deadline() time.Time {
	switch m.state {
	case Backup:
		return m.downAt
	case Master:
		return m.adverAt
	}
	return time.Time{}
}

func (m *Machine) logf(acts []Action, format string, args ...any) []Action {
	return append(acts, Action{Kind: ActLog, Msg: fmt.Sprintf(format, args...)})
}

func (m *Machine) enter(acts []Action, s State, why string) []Action {
	m.state = s
	m.want = false
	m.Transitions++
	msg := "Entering " + s.String() + " STATE"
	if why != "" {
		msg += " (" + why + ")"
	}
	acts = m.logf(acts, "%s", msg)
	return acts
}

func (m *Machine) becomeMaster(now time.Time, acts []Action) []Action {
	acts = m.enter(acts, Master, "")
	m.masterCS = m.p.Interval
	m.adverAt = now.Add(cs(m.p.Interval))
	// Addresses and GARPs before the advert: the VIP answers as early as
	// possible; the order makes no difference to the other routers.
	acts = append(acts,
		Action{Kind: ActAddVIPs},
		Action{Kind: ActLog, Msg: "setting VIPs."},
		Action{Kind: ActGARP},
		Action{Kind: ActSendAdvert, Priority: m.prio},
		Action{Kind: ActNotify, State: Master})
	return acts
}

func (m *Machine) becomeBackup(now time.Time, acts []Action, why string, wasMaster bool) []Action {
	acts = m.enter(acts, Backup, why)
	if wasMaster {
		acts = append(acts, Action{Kind: ActDelVIPs}, Action{Kind: ActLog, Msg: "removing VIPs."})
	}
	m.downAt = now.Add(m.MasterDownInterval())
	return append(acts, Action{Kind: ActNotify, State: Backup})
}

// Handle applies ev at time now and returns the actions to perform.
func (m *Machine) Handle(now time.Time, ev Event) []Action {
	var acts []Action
	switch ev.Kind {
	case EvStartup:
		if m.state != Init {
			return nil
		}
		m.started = now
		if m.prio == 255 {
			return m.becomeMaster(now, acts)
		}
		acts = m.enter(acts, Backup, "init")
		// Addresses left behind by a crash of a previous run go first, as
		// keepalived does at startup.
		acts = append(acts, Action{Kind: ActDelVIPs}, Action{Kind: ActLog, Msg: "removing VIPs."})
		m.downAt = now.Add(m.MasterDownInterval())
		if m.p.StartMaster {
			m.downAt = now.Add(cs(m.p.Interval) + m.SkewTime())
		}
		return append(acts, Action{Kind: ActNotify, State: Backup})

	case EvAdopt:
		if m.state != Init {
			return nil
		}
		m.started = now
		m.state = Master
		m.adverAt = now.Add(cs(m.p.Interval))
		// ActAddVIPs re-adds any VIP the old process lacked (adding one
		// that is there is a no-op); the advert goes at once so the
		// backups' down timers never see a gap.
		return append(acts, Action{Kind: ActLog, Msg: "adopting the VIPs of the previous varde process: MASTER, no transition"},
			Action{Kind: ActAddVIPs}, Action{Kind: ActSendAdvert, Priority: m.prio})

	case EvVIPLost:
		if m.state != Master {
			return nil
		}
		acts = m.logf(acts, "a VIP was removed from the interface while MASTER")
		return m.becomeBackup(now, acts, "VIP removed", true)

	case EvRouteLost:
		if m.state != Master {
			return nil
		}
		acts = m.enter(acts, Backup, "virtual route or rule removed")
		acts = append(acts, Action{Kind: ActSendAdvert, Priority: 0},
			Action{Kind: ActDelVIPs}, Action{Kind: ActLog, Msg: "removing VIPs."})
		m.downAt = now.Add(m.MasterDownInterval())
		return append(acts, Action{Kind: ActNotify, State: Backup})

	case EvTimer:
		switch m.state {
		case Backup:
			if !m.downAt.IsZero() && !now.Before(m.downAt) {
				acts = m.logf(acts, "Receive advertisement timeout")
				if m.Synced {
					// keepalived: go MASTER only when the whole group
					// wants to; wait another Master_Down_Interval meanwhile.
					m.want = true
					m.downAt = now.Add(m.MasterDownInterval())
					return append(acts, Action{Kind: ActWantMaster})
				}
				return m.becomeMaster(now, acts)
			}
		case Master:
			if !now.Before(m.adverAt) {
				m.adverAt = now.Add(cs(m.p.Interval))
				return append(acts, Action{Kind: ActSendAdvert, Priority: m.prio})
			}
		}
		return nil

	case EvAdvert:
		return m.advert(now, ev, acts)

	case EvSyncMaster:
		if m.state != Backup {
			return nil
		}
		acts = m.logf(acts, "sync group going MASTER")
		return m.becomeMaster(now, acts)

	case EvSyncBackup:
		if m.state != Master {
			return nil
		}
		return m.becomeBackup(now, acts, "sync group", true)

	case EvShutdown:
		if m.state == Master {
			acts = append(acts, Action{Kind: ActSendAdvert, Priority: 0}, Action{Kind: ActLog, Msg: "sent 0 priority"},
				Action{Kind: ActDelVIPs}, Action{Kind: ActLog, Msg: "removing VIPs."})
		}
		if m.state != Stopped {
			m.state = Stopped
			m.Transitions++
			acts = append(acts, Action{Kind: ActNotify, State: Stopped})
		}
		return acts

	case EvFault:
		if m.state == Fault || m.state == Stopped {
			return nil
		}
		was := m.state
		acts = m.enter(acts, Fault, "")
		if was == Master {
			acts = append(acts, Action{Kind: ActSendAdvert, Priority: 0}, Action{Kind: ActLog, Msg: "sent 0 priority"},
				Action{Kind: ActDelVIPs}, Action{Kind: ActLog, Msg: "removing VIPs."})
		}
		return append(acts, Action{Kind: ActNotify, State: Fault})

	case EvFaultCleared:
		if m.state != Fault {
			return nil
		}
		if m.prio == 255 {
			return m.becomeMaster(now, acts)
		}
		return m.becomeBackup(now, acts, "", false)

	case EvPriority:
		if ev.Priority == m.prio || ev.Priority == 0 {
			return nil
		}
		old := m.prio
		m.prio = ev.Priority
		acts = m.logf(acts, "Changing effective priority from %d to %d", old, m.prio)
		if m.state == Master && m.prio < old {
			// Tell the backups at once: a higher-priority backup preempts
			// on this advert instead of after the next interval.
			m.adverAt = now.Add(cs(m.p.Interval))
			acts = append(acts, Action{Kind: ActSendAdvert, Priority: m.prio})
		}
		return acts
	}
	return nil
}

func (m *Machine) advert(now time.Time, ev Event, acts []Action) []Action {
	switch m.state {
	case Backup:
		if ev.Priority == 0 {
			acts = m.logf(acts, "Backup received priority 0 advertisement")
			m.downAt = now.Add(m.SkewTime())
			return acts
		}
		inDelay := m.p.PreemptDelay > 0 && now.Before(m.started.Add(m.p.PreemptDelay))
		if !m.p.Preempt || ev.Priority >= m.prio || inDelay {
			if m.p.Version == 3 && ev.Interval != 0 && ev.Interval != m.masterCS {
				acts = m.logf(acts, "advertisement interval updated from %dms to %dms by master", int(m.masterCS)*10, int(ev.Interval)*10)
				m.masterCS = ev.Interval
			}
			m.downAt = now.Add(m.MasterDownInterval())
			m.want = false // a master is there: no longer wanting
			return acts
		}
		acts = m.logf(acts, "received lower priority (%d) advert from %s - discarding", ev.Priority, ev.Src)
		// We preempt: the RFC waits for the down timer, varde takes over
		// after Skew_Time as on a priority-0 advert, so a master whose
		// tracker lowered its priority is replaced within one interval.
		if skew := now.Add(m.SkewTime()); skew.Before(m.downAt) {
			m.downAt = skew
		}
		return acts

	case Master:
		if ev.Priority == 0 {
			acts = m.logf(acts, "Master received priority 0 message")
			m.adverAt = now.Add(cs(m.p.Interval))
			return append(acts, Action{Kind: ActSendAdvert, Priority: m.prio})
		}
		m.SplitBrain++
		higher := ev.Priority > m.prio
		tieWon := ev.Priority == m.prio && addrGreater(ev.Src, m.p.Primary)
		if higher || tieWon {
			if higher {
				acts = m.logf(acts, "Master received advert from %s with higher priority %d, ours %d", ev.Src, ev.Priority, m.prio)
			} else {
				acts = m.logf(acts, "Master received advert from %s with same priority %d but higher IP address than ours", ev.Src, ev.Priority)
			}
			if m.p.Version == 3 && ev.Interval != 0 {
				m.masterCS = ev.Interval
			}
			return m.becomeBackup(now, acts, "", true)
		}
		acts = m.logf(acts, "Received advert from %s with lower priority %d, ours %d, forcing new election", ev.Src, ev.Priority, m.prio)
		m.adverAt = now.Add(cs(m.p.Interval))
		return append(acts, Action{Kind: ActSendAdvert, Priority: m.prio}, Action{Kind: ActGARP})
	}
	return nil
}

// addrGreater compares addresses as unsigned network-order integers.
func addrGreater(a, b netip.Addr) bool { return a.Compare(b) > 0 }
