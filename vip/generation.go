package vip

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/proxy"
	"github.com/varde-lb/varde/core/stats"
)

// The VRRP part of a generation: the vrrp_instance blocks of
// keepalived.conf. `varde run -f keepalived.conf` alone replaces
// keepalived; with a haproxy.cfg too, track_varde reads the engine's
// server states. Prepare checks what starting would: track_varde names,
// interfaces and their addresses, capabilities. It starts after the engine
// and stops before it, so the VIP moves away before the listeners drain.
func init() {
	generation.Register(generation.Subsystem{Name: "vip", Order: generation.OrderVIP, Prepare: prepare})
}

type part struct {
	g    *generation.Generation
	m    *Manager
	prev *part // the running generation's part, on a reload
}

// partKey lets PartOf find a generation's VRRP part (tests drive reloads
// with it; core/generation hands parts to Inherit itself).
var partKey = generation.NewKey[*part]("vip part")

// PartOf returns g's VRRP part, or nil when its configuration has no
// vrrp_instance.
func PartOf(g *generation.Generation) generation.Part {
	if p := partKey.Get(g); p != nil {
		return p
	}
	return nil
}

// ManagerOf returns the Manager of g's VRRP part, or nil.
func ManagerOf(g *generation.Generation) *Manager {
	if p := partKey.Get(g); p != nil {
		return p.m
	}
	return nil
}

func prepare(g *generation.Generation, d *diag.List) generation.Part {
	kc := g.Set.Keepalived
	if kc != nil && len(kc.Instances) == 0 {
		refuseStaticsAlone(kc, d)
	}
	if kc == nil || len(kc.Instances) == 0 {
		return nil
	}
	if g.HAProxy() != nil {
		warnHAProxyScripts(kc, d)
		warnHAProxyProcesses(kc, d)
	}
	var health BackendHealth
	if e := proxy.EngineOf.Get(g); e != nil {
		health = engineHealth{e: e}
	}
	bad := false
	for _, in := range kc.Instances {
		bad = checkInstance(g, in, d) || bad
	}
	bad = checkRoutingDevs(kc, d) || bad
	if bad {
		return nil
	}
	m, err := New(kc, Options{Logger: g.Opts.Logger.With("subsystem", "vrrp"), Health: health, Upgrade: g.Opts.Upgrade})
	if err != nil {
		d.Add(diag.Locate(err, kc.Instances[0].Pos, "vrrp_instance", ""))
		return nil
	}
	if err := CheckCapabilities(); err != nil {
		d.Add(diag.Locate(err, kc.Instances[0].Pos, "vrrp_instance", "run varde as root or grant CAP_NET_RAW and CAP_NET_ADMIN (systemd: AmbientCapabilities=)"))
		return nil
	}
	pt := &part{g: g, m: m}
	partKey.Set(g, pt)
	g.AddExtra(func() []stats.Extra { return vrrpExtra(m) })
	return pt
}

// checkInstance reports what newRunner would fail on, reading the system
// without changing it. It returns true when it found a problem.
func checkInstance(g *generation.Generation, in *keepalived.Instance, d *diag.List) bool {
	bad := false
	for _, t := range in.TrackVarde {
		if t.Backend == "" {
			continue
		}
		pos := in.Pos
		if t.Line > 0 {
			pos.Line = t.Line
		}
		c := g.HAProxy()
		switch b := backendOf(c, t.Backend); {
		case b == nil:
			d.Errorf(pos, "track_varde", "name a backend or listen section of the haproxy.cfg given with -f", "backend %q is not a backend of the haproxy.cfg", t.Backend)
			bad = true
		case b.Disabled:
			d.Errorf(pos, "track_varde", "enable the backend or track another", "backend %q is disabled: it never has a server up, so the instance would stay degraded", t.Backend)
			bad = true
		}
	}
	if _, err := net.InterfaceByName(in.Interface); err != nil {
		d.Errorf(in.At("interface"), "interface", "name an interface of this machine (ip link)", "interface %q: %v", in.Interface, err)
		return true
	}
	if !in.UnicastSrc.IsValid() {
		if _, err := primaryAddr(in.Interface, in.IsIPv6(), in.AllVIPs()); err != nil {
			d.Add(diag.Locate(err, in.At("interface"), "interface", "give the interface an address of its own, or set unicast_src_ip"))
			bad = true
		}
	}
	return bad
}

func backendOf(c *config.Config, name string) *config.Proxy {
	if c == nil {
		return nil
	}
	return c.Backend(name)
}

// Inherit records the running generation's part: Start takes over its
// unchanged instances (generation.Inheritor). Nothing changes until Start,
// so a reload that fails before it leaves the running part as it was.
func (pt *part) Inherit(prev generation.Part) {
	if p, ok := prev.(*part); ok && p != pt {
		pt.prev = p
	}
}

func (pt *part) Start(ctx context.Context) error {
	var prev *Manager
	if pt.prev != nil {
		prev = pt.prev.m
	}
	// The instances end on Stop (release or handover), not with the start
	// context, which the generation cancels before it stops its parts:
	// Stop must be the one to decide whether the VIPs go or stay.
	if err := pt.m.StartFrom(context.WithoutCancel(ctx), prev); err != nil {
		return err
	}
	pt.prev = nil
	// Release the VIPs the moment a stop signal arrives, before the other
	// parts stop: every millisecond here is a millisecond of failover.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, generation.StopSignals...)
	go func() {
		select {
		case <-sig:
			pt.m.Stop()
		case <-pt.m.Done():
		}
		signal.Stop(sig)
	}()
	return nil
}

// Stop releases the instances this part still owns (not those a newer
// generation took over): priority-0 adverts and VIPs removed; or, when
// the process ends for a successor (Generation.Handover), leaves the VIPs
// in place and sends nothing, for the successor to adopt. A stop signal
// may have begun the release already; the first decision wins.
func (pt *part) Stop(stopCtx context.Context) error {
	if pt.g.Handover {
		pt.m.Handover()
	} else {
		pt.m.Stop()
	}
	select {
	case <-pt.m.Done():
		return nil
	case <-stopCtx.Done():
		return fmt.Errorf("vip: instances still stopping: %w", stopCtx.Err())
	}
}

// Close drops a part that never started (its reload failed earlier).
func (pt *part) Close() error {
	pt.prev = nil
	pt.m.Stop()
	return nil
}

var vrrpStateCode = map[string]float64{"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3, "STOP": 4}

// vrrpExtra exports every instance's state, priority and counters, labelled
// with the instance name.
func vrrpExtra(m *Manager) []stats.Extra {
	var out []stats.Extra
	for _, s := range m.Snapshot() {
		var drops uint64
		for _, n := range s.Drops {
			drops += n
		}
		out = append(out,
			stats.Extra{Subsystem: "vrrp", Name: "state", Help: "VRRP instance state: 0 init, 1 backup, 2 master, 3 fault, 4 stopped.", Value: vrrpStateCode[s.State], Proxy: s.Name},
			stats.Extra{Subsystem: "vrrp", Name: "priority", Help: "Effective VRRP priority (after tracking).", Value: float64(s.Priority), Proxy: s.Name},
			stats.Extra{Subsystem: "vrrp", Name: "transitions_total", Help: "VRRP state changes.", Counter: true, Value: float64(s.Transitions), Proxy: s.Name},
			stats.Extra{Subsystem: "vrrp", Name: "split_brain_total", Help: "Adverts heard from another master while master.", Counter: true, Value: float64(s.SplitBrain), Proxy: s.Name},
			stats.Extra{Subsystem: "vrrp", Name: "adverts_sent_total", Help: "VRRP adverts sent.", Counter: true, Value: float64(s.AdvertsSent), Proxy: s.Name},
			stats.Extra{Subsystem: "vrrp", Name: "adverts_received_total", Help: "Valid VRRP adverts received.", Counter: true, Value: float64(s.AdvertsRecv), Proxy: s.Name},
			stats.Extra{Subsystem: "vrrp", Name: "adverts_dropped_total", Help: "Received VRRP adverts dropped by the receive checks.", Counter: true, Value: float64(drops), Proxy: s.Name},
		)
	}
	return out
}

// engineHealth is track_varde's view of the engine: server states are
// atomics updated by the health checks, so polling them costs nothing.
type engineHealth struct{ e *proxy.Engine }

// AllDown reports whether no server of the backend (backup servers
// included) is up; an unknown backend counts as down.
func (h engineHealth) AllDown(backend string) bool {
	b := h.e.Backend(backend)
	if b == nil {
		return true
	}
	for _, s := range b.Servers() {
		if s.IsUp() {
			return false
		}
	}
	return true
}

// ListenersUp reports whether every frontend holds its listening sockets.
func (h engineHealth) ListenersUp() bool {
	for _, f := range h.e.Frontends() {
		if len(f.Addrs()) == 0 {
			return false
		}
	}
	return true
}
