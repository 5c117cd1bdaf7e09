package vip

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/testenv"
	"github.com/varde-lb/varde/vip/vrrp"
)

// fakeNet is an in-memory Transport, Addresser and Announcer.
type fakeNet struct {
	in     chan vrrp.Received
	mu     sync.Mutex
	sent   []vrrp.Advert
	vips   map[netip.Prefix]bool
	garps  int
	closed chan struct{}
}

func newFakeNet() *fakeNet {
	return &fakeNet{in: make(chan vrrp.Received, 16), vips: map[netip.Prefix]bool{}, closed: make(chan struct{})}
}

func (f *fakeNet) Send(msg []byte, src, dst netip.Addr) error {
	var a vrrp.Advert
	if err := a.Unmarshal(msg, src.Is6()); err != nil {
		return err
	}
	if ok, _ := vrrp.VerifyChecksum(msg, src, dst); !ok {
		return errors.New("bad checksum sent")
	}
	f.mu.Lock()
	f.sent = append(f.sent, a)
	f.mu.Unlock()
	return nil
}

func (f *fakeNet) Recv() (vrrp.Received, error) {
	select {
	case p := <-f.in:
		return p, nil
	case <-f.closed:
		return vrrp.Received{}, errors.New("closed")
	}
}

func (f *fakeNet) Close() error { close(f.closed); return nil }

func (f *fakeNet) Add(v keepalived.VIP) error {
	f.mu.Lock()
	f.vips[v.Prefix] = true
	f.mu.Unlock()
	return nil
}

func (f *fakeNet) Del(v keepalived.VIP) error {
	f.mu.Lock()
	delete(f.vips, v.Prefix)
	f.mu.Unlock()
	return nil
}

func (f *fakeNet) Held(v keepalived.VIP) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for p := range f.vips {
		if p.Addr() == v.Prefix.Addr() {
			n++
		}
	}
	return n, nil
}

func (f *fakeNet) Purge(v keepalived.VIP) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for p := range f.vips {
		if p.Addr() == v.Prefix.Addr() {
			delete(f.vips, p)
			n++
		}
	}
	return n, nil
}

func (f *fakeNet) Announce(netip.Addr) error {
	f.mu.Lock()
	f.garps++
	f.mu.Unlock()
	return nil
}

func (f *fakeNet) state() (sent []vrrp.Advert, vips, garps int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]vrrp.Advert(nil), f.sent...), len(f.vips), f.garps
}

const runnerConf = `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    version 3
    priority 150
    advert_int 0.05
    garp_master_repeat 2
    garp_master_delay 0
    virtual_ipaddress {
        198.18.0.100/24
    }
}
`

// TestRunner drives one instance through the seams: it becomes master on
// timeout (VIP added, GARPs, adverts), counts a bad packet by reason, steps
// down for a higher priority, and sends priority 0 on stop.
func TestRunner(t *testing.T) {
	var d diag.List
	cfg := keepalived.Parse("k.conf", []byte(runnerConf), &d)
	cfg.Validate(&d)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	in := cfg.Instances[0]
	fn := newFakeNet()
	self := netip.MustParseAddr("198.18.0.12")
	peer := netip.MustParseAddr("198.18.0.11")
	r := &runner{
		cfg: in, log: slog.New(slog.DiscardHandler), tr: fn, addrs: fn, ann: fn,
		src: self, dsts: []netip.Addr{vrrp.Group4},
		links:  &linkWatch{state: map[string]bool{}},
		notify: &notifier{in: in, log: slog.New(slog.DiscardHandler), timeout: time.Second},
		now:    time.Now,
		m:      NewMachine(Params{Version: 3, Priority: 150, Interval: 5, Preempt: true, Primary: self}),
		local:  vrrp.Local{Version: 3, VRID: 51, Interval: 5, Addrs: []netip.Addr{netip.MustParseAddr("198.18.0.100")}},
	}
	r.snap = Snapshot{Name: in.Name}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	wait := func(what string, cond func() bool) {
		t.Helper()
		if err := testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
			if !cond() {
				return errors.New(what)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	wait("master with the VIP", func() bool {
		sent, vips, garps := fn.state()
		return r.snapshot().State == "MASTER" && vips == 1 && garps >= 2 && len(sent) >= 2
	})

	advert := func(prio uint8, corrupt bool) {
		a := vrrp.Advert{Version: 3, VRID: 51, Priority: prio, Interval: 5, Addrs: r.local.Addrs}
		b, err := a.Marshal(peer, vrrp.Group4, false)
		if err != nil {
			t.Fatal(err)
		}
		if corrupt {
			b[6] ^= 0xff
		}
		fn.in <- vrrp.Received{Payload: b, Src: peer, Dst: vrrp.Group4, TTL: 255}
	}
	advert(200, true)
	wait("checksum drop counted", func() bool { return r.snapshot().Drops["checksum"] == 1 })
	if s := r.snapshot(); s.State != "MASTER" {
		t.Fatalf("a corrupt advert changed the state: %+v", s)
	}
	advert(100, false) // lower priority: the master asserts itself
	wait("split brain counted", func() bool { return r.snapshot().SplitBrain == 1 })
	advert(200, false)
	wait("backup without the VIP", func() bool {
		_, vips, _ := fn.state()
		return r.snapshot().State == "BACKUP" && vips == 0
	})

	// Master again (no more adverts from the peer), then a graceful stop.
	wait("master again", func() bool { return r.snapshot().State == "MASTER" })
	cancel()
	<-done
	sent, vips, _ := fn.state()
	if last := sent[len(sent)-1]; last.Priority != 0 || vips != 0 {
		t.Fatalf("stop: last advert priority %d, %d VIPs left", last.Priority, vips)
	}
	if s := r.snapshot(); s.Transitions < 4 || s.AdvertsRecv != 2 {
		t.Fatalf("snapshot %+v", s)
	}
}

func TestTrackingPriority(t *testing.T) {
	w := func(n int) *int { return &n }
	in := &keepalived.Instance{Interface: "eth0", Priority: 100,
		TrackInterfaces: []keepalived.Track{{Name: "eth1", Weight: w(-30)}},
		TrackVarde:      []keepalived.TrackVarde{{Backend: "app", Weight: -60}, {Backend: "web"}},
	}
	h := &fakeHealth{down: map[string]bool{}}
	links := &linkWatch{state: map[string]bool{"eth0": true, "eth1": true}}
	r := &runner{cfg: in, links: links, health: h}
	check := func(wantP uint8, wantFault bool) {
		t.Helper()
		if p, f := r.tracking(); p != wantP || f != wantFault {
			t.Fatalf("tracking = %d %v, want %d %v", p, f, wantP, wantFault)
		}
	}
	check(100, false)
	links.state["eth1"] = false
	check(70, false)
	h.down["app"] = true
	check(10, false)
	h.down["web"] = true // weight 0: FAULT
	check(10, true)
	links.state["eth0"] = false // own interface down: FAULT regardless
	h.down["web"] = false
	check(10, true)
	in.Priority = 255 // an owner's priority is never changed
	links.state["eth0"] = true
	check(255, false)
}

type fakeHealth struct{ down map[string]bool }

func (h *fakeHealth) AllDown(b string) bool { return h.down[b] }
func (h *fakeHealth) ListenersUp() bool     { return true }

// newFakeRunner builds a runner on the in-memory seams, started the way a
// Manager starts it (own context, stop modes, updates).
func newFakeRunner(t *testing.T) (*runner, *fakeNet, *keepalived.Instance) {
	t.Helper()
	var d diag.List
	cfg := keepalived.Parse("k.conf", []byte(runnerConf), &d)
	cfg.Validate(&d)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	in := cfg.Instances[0]
	fn := newFakeNet()
	self := netip.MustParseAddr("198.18.0.12")
	log := slog.New(slog.DiscardHandler)
	r := &runner{
		cfg: in, log: log, tr: fn, addrs: fn, ann: fn,
		src: self, dsts: []netip.Addr{vrrp.Group4},
		links:   &linkWatch{state: map[string]bool{}},
		notify:  &notifier{in: in, log: log, timeout: time.Second},
		now:     time.Now,
		m:       NewMachine(Params{Version: 3, Priority: 150, Interval: 5, Preempt: true, Primary: self}),
		local:   vrrp.Local{Version: 3, VRID: 51, Interval: 5, Addrs: []netip.Addr{netip.MustParseAddr("198.18.0.100")}},
		closeFn: func() { fn.Close() },
	}
	r.snap = Snapshot{Name: in.Name}
	return r, fn, in
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		if !cond() {
			return errors.New(what)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestRunnerStopModes: a handover stop leaves the VIP and sends nothing,
// and a later release cannot undo that decision; a release stop sends
// priority 0 and removes the VIP.
func TestRunnerStopModes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		first     stopMode
		then      stopMode
		wantVIPs  int
		wantZeros int
	}{
		{"release", stopRelease, stopHandover, 0, 1},
		{"handover", stopHandover, stopRelease, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, fn, _ := newFakeRunner(t)
			r.start()
			waitFor(t, "master", func() bool { _, vips, _ := fn.state(); return r.snapshot().State == "MASTER" && vips == 1 })
			r.stop(tc.first)
			r.stop(tc.then)
			<-r.done
			sent, vips, _ := fn.state()
			zeros := 0
			for _, a := range sent {
				if a.Priority == 0 {
					zeros++
				}
			}
			if vips != tc.wantVIPs || zeros != tc.wantZeros {
				t.Fatalf("after %s: %d VIPs, %d priority-0 adverts; want %d, %d", tc.name, vips, zeros, tc.wantVIPs, tc.wantZeros)
			}
		})
	}
}

// TestRunnerUpdate: a reload's soft update reaches the running loop
// without a transition; an update to a stopped runner reports false.
func TestRunnerUpdate(t *testing.T) {
	r, fn, in := newFakeRunner(t)
	r.start()
	waitFor(t, "master", func() bool { _, vips, _ := fn.state(); return r.snapshot().State == "MASTER" && vips == 1 })
	before := r.snapshot().Transitions
	renamed := *in
	renamed.Name = "VI_web"
	if !r.update(runnerUpdate{cfg: &renamed, links: r.links, log: slog.New(slog.DiscardHandler)}) {
		t.Fatal("update of a running instance failed")
	}
	if s := r.snapshot(); s.Name != "VI_web" || s.State != "MASTER" || s.Transitions != before {
		t.Fatalf("after the update: %+v (transitions before %d)", s, before)
	}
	r.stop(stopRelease)
	<-r.done
	if r.update(runnerUpdate{cfg: in, links: r.links, log: slog.New(slog.DiscardHandler)}) {
		t.Fatal("update of a stopped instance reported success")
	}
}
