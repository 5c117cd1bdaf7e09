package vip

import (
	"context"
	"log/slog"
	"os/exec"
	"sync"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/varde-lb/varde/core/config/keepalived"
)

// BackendHealth is what the built-in tracker (track_varde) reads from the
// engine: declared here, where it is consumed. AllDown reports whether every
// server of the named backend is down (an unknown backend counts as down);
// ListenersUp whether every frontend listener accepts connections.
type BackendHealth interface {
	AllDown(backend string) bool
	ListenersUp() bool
}

// VardeTrackInterval is how often track_varde polls the engine's health: a
// few atomic loads, so polling finely costs nothing and keeps the VIP move
// within one advert interval + 0.1 s of the servers going down.
const VardeTrackInterval = 10 * time.Millisecond

// scriptTracker runs one vrrp_script every Interval under Timeout, without a
// shell. The first result sets its state at once; after that it takes Fall
// consecutive failures to go down and Rise successes to come back, as in
// keepalived. Instances poll its state.
type scriptTracker struct {
	s   *keepalived.Script
	log *slog.Logger

	mu     sync.Mutex
	up     bool
	known  bool
	seeded bool // up/known come from the tracker this one replaced on reload
	streak int  // consecutive results in the opposite direction

	cancel context.CancelFunc
	done   chan struct{}
}

// start runs the tracker on its own context: a reload may hand it to the
// next generation.
func (t *scriptTracker) start() {
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel, t.done = cancel, make(chan struct{})
	go func() { defer close(t.done); t.run(ctx) }()
}

func (t *scriptTracker) stop() {
	if t.cancel != nil {
		t.cancel()
		<-t.done
	}
}

// seed starts a changed script from the verdict of the one it replaces:
// until its own first result, instances see the old state rather than
// "unknown" (which would drop the script's weight and could make a
// failing master look healthy for a moment).
func (t *scriptTracker) seed(old *scriptTracker) {
	up, known := old.Up()
	t.mu.Lock()
	t.up, t.known, t.seeded = up, known, known
	t.mu.Unlock()
}

func newScriptTracker(s *keepalived.Script, log *slog.Logger) *scriptTracker {
	return &scriptTracker{s: s, log: log}
}

// Up reports the script's current state (false until the first result).
func (t *scriptTracker) Up() (up, known bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.up, t.known
}

func (t *scriptTracker) run(ctx context.Context) {
	tick := time.NewTicker(t.s.Interval)
	defer tick.Stop()
	for {
		ok := t.once(ctx)
		if ctx.Err() != nil {
			return
		}
		t.record(ok)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (t *scriptTracker) once(ctx context.Context) bool {
	cctx, cancel := context.WithTimeout(ctx, t.s.Timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, t.s.Command[0], t.s.Command[1:]...)
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if cctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		t.log.Warn("VRRP_Script timed out", "script", t.s.Name)
		return false
	}
	return err == nil
}

func (t *scriptTracker) record(ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.known || t.seeded {
		// First result decides at once, so a failing check does not wait
		// fall intervals after startup.
		t.known, t.up, t.seeded = true, ok, false
		t.logState()
		return
	}
	if ok == t.up {
		t.streak = 0
		return
	}
	t.streak++
	need := t.s.Fall
	if ok {
		need = t.s.Rise
	}
	if t.streak >= need {
		t.up, t.streak = ok, 0
		t.logState()
	}
}

func (t *scriptTracker) logState() {
	if t.up {
		t.log.Info("VRRP_Script(" + t.s.Name + ") succeeded")
	} else {
		t.log.Info("VRRP_Script(" + t.s.Name + ") failed")
	}
}

// linkUp reports whether a link is usable: administratively up and with
// carrier (keepalived: "Netlink reports eth0 down").
func linkUp(l netlink.Link) bool {
	a := l.Attrs()
	if a.Flags&(1<<0) == 0 { // IFF_UP
		return false
	}
	return a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown
}
