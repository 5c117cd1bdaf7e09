package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/varde-lb/varde/core/proxy"
	"github.com/varde-lb/varde/core/stats"
	"github.com/varde-lb/varde/vip"
)

// The VRRP subsystem of `varde run`: the vrrp_instance blocks of
// keepalived.conf. `varde run -f keepalived.conf` alone replaces keepalived;
// with a haproxy.cfg too, track_varde reads the engine's server states.
// It starts after the engine and stops before it, so the VIP moves away
// before the listeners drain.
func init() {
	registerSubsystem(subsystem{
		name:  "vip",
		phase: afterEngine,
		start: func(ctx context.Context, env *runEnv) (func(context.Context) error, error) {
			kc := env.Set.Keepalived
			if kc == nil || len(kc.Instances) == 0 {
				return nil, nil
			}
			var health vip.BackendHealth
			if env.Engine != nil {
				h := engineHealth{e: env.Engine}
				for _, in := range kc.Instances {
					for _, t := range in.TrackVarde {
						if t.Backend != "" && env.Engine.Backend(t.Backend) == nil {
							return nil, fmt.Errorf("vip: %s: track_varde backend %q is not a backend of the haproxy.cfg", in.Name, t.Backend)
						}
					}
				}
				health = h
			}
			m, err := vip.New(kc, vip.Options{Logger: env.Log.With("subsystem", "vrrp"), Health: health})
			if err != nil {
				return nil, err
			}
			if err := m.Start(ctx); err != nil {
				return nil, err
			}
			vrrpManager.Store(m)
			// Hand the VIP over the moment the stop signal arrives, before
			// `varde run` logs and stops the other subsystems: every
			// millisecond here is a millisecond of failover.
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
			go func() {
				select {
				case <-sig:
					m.Stop()
				case <-m.Done():
				}
				signal.Stop(sig)
			}()
			return func(stopCtx context.Context) error {
				// ctx is already cancelled: the instances are sending their
				// priority-0 adverts and removing the VIPs.
				select {
				case <-m.Done():
					return nil
				case <-stopCtx.Done():
					return fmt.Errorf("vip: instances still stopping: %w", stopCtx.Err())
				}
			}, nil
		},
	})
}

// vrrpManager is the running VRRP manager, read at scrape time by the admin
// subsystem's Prometheus exporter and `show info` (vrrpExtra).
var vrrpManager atomic.Pointer[vip.Manager]

var vrrpStateCode = map[string]float64{"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3, "STOP": 4}

// vrrpExtra exports every instance's state, priority and counters, labelled
// with the instance name.
func vrrpExtra() []stats.Extra {
	m := vrrpManager.Load()
	if m == nil {
		return nil
	}
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
	for _, s := range b.Servers {
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
