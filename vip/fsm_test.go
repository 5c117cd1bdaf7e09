package vip

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	t0    = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	peerA = netip.MustParseAddr("198.18.0.11")
	self  = netip.MustParseAddr("198.18.0.12")
)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestTimers(t *testing.T) {
	for _, tc := range []struct {
		version  int
		prio     uint8
		interval uint16
		skew     time.Duration
		mdi      time.Duration
	}{
		// keepalived 2.2.7 measured 0.4141 / 3.4141 s (vrrp.md §4).
		{2, 150, 100, 414062 * time.Microsecond, 3414062 * time.Microsecond},
		{2, 200, 100, 218750 * time.Microsecond, 3218750 * time.Microsecond},
		{3, 150, 100, 414062 * time.Microsecond, 3414062 * time.Microsecond},
		{3, 150, 10, 41406 * time.Microsecond, 341406 * time.Microsecond},
		{3, 254, 1, 78 * time.Microsecond, 30078 * time.Microsecond},
		// v2 skew does not scale with the interval.
		{2, 150, 300, 414062 * time.Microsecond, 9414062 * time.Microsecond},
	} {
		m := NewMachine(Params{Version: tc.version, Priority: tc.prio, Interval: tc.interval, Preempt: true})
		if got := m.SkewTime(); got != tc.skew {
			t.Errorf("%+v: skew %v", tc, got)
		}
		if got := m.MasterDownInterval(); got != tc.mdi {
			t.Errorf("%+v: mdi %v", tc, got)
		}
	}
}

type step struct {
	at        time.Duration
	ev        Event
	wantState State
	want      []ActionKind // non-log actions, in order
	wantDead  time.Duration
}

func kinds(acts []Action) []ActionKind {
	var out []ActionKind
	for _, a := range acts {
		if a.Kind != ActLog {
			out = append(out, a.Kind)
		}
	}
	return out
}

func runSteps(t *testing.T, p Params, steps []step) *Machine {
	t.Helper()
	m := NewMachine(p)
	for i, s := range steps {
		acts := m.Handle(at(s.at), s.ev)
		if m.State() != s.wantState {
			t.Fatalf("step %d: state %v, want %v (actions %+v)", i, m.State(), s.wantState, acts)
		}
		if diff := cmp.Diff(s.want, kinds(acts)); diff != "" {
			t.Fatalf("step %d: actions (-want +got):\n%s", i, diff)
		}
		if s.wantDead == 0 {
			if !m.Deadline().IsZero() {
				t.Fatalf("step %d: deadline %v, want none", i, m.Deadline())
			}
		} else if s.wantDead > 0 {
			if got := m.Deadline().Sub(t0); got != s.wantDead {
				t.Fatalf("step %d: deadline %v, want %v", i, got, s.wantDead)
			}
		}
	}
	return m
}

const ms = time.Millisecond

func adv(p uint8, src netip.Addr) Event {
	return Event{Kind: EvAdvert, Priority: p, Src: src, Interval: 100}
}

func TestFSM(t *testing.T) {
	base := Params{Version: 2, Priority: 150, Interval: 100, Preempt: true, Primary: self}
	mdi150 := 3414062 * time.Microsecond
	skew150 := 414062 * time.Microsecond
	none := []ActionKind(nil)
	becomeMaster := []ActionKind{ActAddVIPs, ActGARP, ActSendAdvert, ActNotify}
	for _, tc := range []struct {
		name  string
		p     func(*Params)
		steps []step
	}{
		{"backup times out and becomes master", nil, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, mdi150},
			{mdi150 - ms, Event{Kind: EvTimer}, Backup, none, mdi150},
			{mdi150, Event{Kind: EvTimer}, Master, becomeMaster, mdi150 + time.Second},
			{mdi150 + time.Second, Event{Kind: EvTimer}, Master, []ActionKind{ActSendAdvert}, mdi150 + 2*time.Second},
		}},
		{"higher priority advert keeps backup", nil, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, mdi150},
			{time.Second, adv(200, peerA), Backup, none, time.Second + mdi150},
		}},
		{"priority 0 advert: takeover after skew", nil, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, mdi150},
			{time.Second, adv(0, peerA), Backup, none, time.Second + skew150},
			{time.Second + skew150, Event{Kind: EvTimer}, Master, becomeMaster, -1},
		}},
		{"owner starts master", func(p *Params) { p.Priority = 255 }, []step{
			{0, Event{Kind: EvStartup}, Master, becomeMaster, time.Second},
		}},
		{"master steps down for higher priority", nil, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, -1},
			{mdi150, Event{Kind: EvTimer}, Master, becomeMaster, -1},
			{4 * time.Second, adv(200, peerA), Backup, []ActionKind{ActDelVIPs, ActNotify}, 4*time.Second + mdi150},
		}},
		{"equal priority: higher address wins", func(p *Params) { p.Primary = peerA }, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, -1},
			{mdi150, Event{Kind: EvTimer}, Master, becomeMaster, -1},
			{4 * time.Second, adv(150, self), Backup, []ActionKind{ActDelVIPs, ActNotify}, -1},
		}},
		{"equal priority: lower address loses, master forces election", nil, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, -1},
			{mdi150, Event{Kind: EvTimer}, Master, becomeMaster, -1},
			{4 * time.Second, adv(150, peerA), Master, []ActionKind{ActSendAdvert, ActGARP}, 5 * time.Second},
		}},
		{"master answers lower priority with advert and GARP", nil, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, -1},
			{mdi150, Event{Kind: EvTimer}, Master, becomeMaster, -1},
			{4 * time.Second, adv(100, peerA), Master, []ActionKind{ActSendAdvert, ActGARP}, -1},
			{5 * time.Second, adv(0, peerA), Master, []ActionKind{ActSendAdvert}, 6 * time.Second},
		}},
		{"preempt: lower priority master replaced after skew", nil, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, mdi150},
			{time.Second, adv(100, peerA), Backup, none, time.Second + skew150},
		}},
		{"nopreempt: lower priority master kept", func(p *Params) { p.Preempt = false }, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, mdi150},
			{time.Second, adv(100, peerA), Backup, none, time.Second + mdi150},
			{2 * time.Second, adv(100, peerA), Backup, none, 2*time.Second + mdi150},
		}},
		{"preempt_delay: no preemption during the delay", func(p *Params) { p.PreemptDelay = 3 * time.Second }, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, mdi150},
			{time.Second, adv(100, peerA), Backup, none, time.Second + mdi150},
			{3500 * ms, adv(100, peerA), Backup, none, 3500*ms + skew150},
		}},
		{"shutdown as master sends priority 0", nil, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, -1},
			{mdi150, Event{Kind: EvTimer}, Master, becomeMaster, -1},
			{5 * time.Second, Event{Kind: EvShutdown}, Stopped, []ActionKind{ActSendAdvert, ActDelVIPs, ActNotify}, 0},
		}},
		{"fault and recovery", nil, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, -1},
			{mdi150, Event{Kind: EvTimer}, Master, becomeMaster, -1},
			{5 * time.Second, Event{Kind: EvFault}, Fault, []ActionKind{ActSendAdvert, ActDelVIPs, ActNotify}, 0},
			{6 * time.Second, adv(100, peerA), Fault, none, 0},
			{7 * time.Second, Event{Kind: EvFaultCleared}, Backup, []ActionKind{ActNotify}, 7*time.Second + mdi150},
		}},
		{"state MASTER waits one interval plus skew", func(p *Params) { p.StartMaster = true }, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, time.Second + skew150},
		}},
		{"adopt: master at once, advert, no GARP, no notify", nil, []step{
			{0, Event{Kind: EvAdopt}, Master, []ActionKind{ActAddVIPs, ActSendAdvert}, time.Second},
			{time.Second, Event{Kind: EvTimer}, Master, []ActionKind{ActSendAdvert}, 2 * time.Second},
			{2 * time.Second, Event{Kind: EvStartup}, Master, none, 2 * time.Second},
		}},
		{"VIP removed by someone else: master steps down", nil, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, -1},
			{mdi150, Event{Kind: EvTimer}, Master, becomeMaster, -1},
			{4 * time.Second, Event{Kind: EvVIPLost}, Backup, []ActionKind{ActDelVIPs, ActNotify}, 4*time.Second + mdi150},
			{5 * time.Second, Event{Kind: EvVIPLost}, Backup, none, 4*time.Second + mdi150},
		}},
		{"lowered priority as master is advertised at once", nil, []step{
			{0, Event{Kind: EvStartup}, Backup, []ActionKind{ActDelVIPs, ActNotify}, -1},
			{mdi150, Event{Kind: EvTimer}, Master, becomeMaster, -1},
			{4 * time.Second, Event{Kind: EvPriority, Priority: 90}, Master, []ActionKind{ActSendAdvert}, 5 * time.Second},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base
			if tc.p != nil {
				tc.p(&p)
			}
			runSteps(t, p, tc.steps)
		})
	}
}

func TestV3AdoptsInterval(t *testing.T) {
	m := NewMachine(Params{Version: 3, Priority: 200, Interval: 100, Preempt: true})
	m.Handle(t0, Event{Kind: EvStartup})
	acts := m.Handle(at(time.Second), Event{Kind: EvAdvert, Priority: 250, Src: peerA, Interval: 50})
	if m.MasterInterval() != 500*ms {
		t.Fatalf("interval %v", m.MasterInterval())
	}
	// keepalived measured 1.611 s for this case (vrrp.md §4): 3*0.5 + 56*50/256 cs.
	if got := m.Deadline().Sub(at(time.Second)); got != 1609375*time.Microsecond {
		t.Fatalf("down interval %v", got)
	}
	if len(acts) != 1 || acts[0].Msg != "advertisement interval updated from 1000ms to 500ms by master" {
		t.Fatalf("%+v", acts)
	}
}

func TestSplitBrainCounted(t *testing.T) {
	m := NewMachine(Params{Version: 2, Priority: 150, Interval: 100, Preempt: true, Primary: self})
	m.Handle(t0, Event{Kind: EvStartup})
	m.Handle(at(4*time.Second), Event{Kind: EvTimer})
	m.Handle(at(5*time.Second), adv(100, peerA))
	if m.SplitBrain != 1 || m.Transitions != 2 {
		t.Fatalf("split %d transitions %d", m.SplitBrain, m.Transitions)
	}
}

// Adopting the VIPs of a previous process is not a transition: the
// counter, and so the stats' transitions, stay at zero.
func TestAdoptIsNoTransition(t *testing.T) {
	m := NewMachine(Params{Version: 2, Priority: 150, Interval: 100, Preempt: true, Primary: self})
	m.Handle(t0, Event{Kind: EvAdopt})
	if m.State() != Master || m.Transitions != 0 {
		t.Fatalf("state %v, %d transitions", m.State(), m.Transitions)
	}
}
