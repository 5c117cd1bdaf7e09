package main

import (
	"context"

	"github.com/varde-lb/varde/core/admin"
	"github.com/varde-lb/varde/core/stats"
	"github.com/varde-lb/varde/logpipe"
	_ "github.com/varde-lb/varde/plugins/check/all" // health probes: tcp, http, ssl-hello, agent
)

// The health/persistence/stats/admin subsystem of `varde run`: health
// checks from the server lines, cookie persistence, `stats uri` pages, the
// Prometheus exporter and the `stats socket` admin API.
func init() {
	registerSubsystem(subsystem{
		name:  "admin",
		phase: afterEngine,
		start: func(ctx context.Context, env *runEnv) (func(context.Context) error, error) {
			if env.Engine == nil || env.Set.HAProxy == nil {
				return nil, nil
			}
			var extra func() []stats.Extra
			if p, ok := env.Sink.(interface{ Stats() []logpipe.TargetStats }); ok {
				extra = func() []stats.Extra {
					var dropped, failed float64
					for _, t := range p.Stats() {
						dropped += float64(t.Dropped)
						failed += float64(t.Failed)
					}
					return []stats.Extra{
						{Subsystem: "log", Name: "dropped_records_total", Help: "Log records dropped because a target's queue was full.", Counter: true, Value: dropped},
						{Subsystem: "log", Name: "failed_records_total", Help: "Log records in batches a target failed to write.", Counter: true, Value: failed},
					}
				}
			}
			logExtra := extra
			extra = func() []stats.Extra { // + VRRP instances (run_vip.go), read at scrape time
				var out []stats.Extra
				if logExtra != nil {
					out = logExtra()
				}
				return append(out, vrrpExtra()...)
			}
			a, err := admin.Attach(ctx, admin.AttachOptions{
				Config: env.Set.HAProxy, Engine: env.Engine, Logger: env.Log, Version: version, Extra: extra,
			})
			if err != nil {
				return nil, err
			}
			return func(context.Context) error { return a.Close() }, nil
		},
	})
}
