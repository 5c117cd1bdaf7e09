package admin

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/varde-lb/varde/core/proxy"
	"github.com/varde-lb/varde/core/stats"
)

// exporter is `http-request use-service prometheus-exporter`: HAProxy's
// haproxy_* families and varde's own (policies, log pipeline, VRRP,
// request-duration histograms), see stats.NewExporter.
func (a *Attached) exporter(o AttachOptions) http.Handler {
	return stats.NewExporter(stats.ExporterOptions{
		Source:     a.Source,
		Checks:     a.Health,
		Latency:    engineLatency(o.Engine),
		Tables:     engineTables(o.Engine),
		Collectors: []prometheus.Collector{policyCollector{o.Engine.Policies()}},
	})
}

// engineLatency reads the HTTP backends' request-duration histograms
// (TCP backends have no requests to time).
func engineLatency(e *proxy.Engine) func() []stats.Histogram {
	return func() []stats.Histogram {
		var out []stats.Histogram
		for _, b := range e.Backends() {
			if b.Mode() != proxy.ModeHTTP {
				continue
			}
			s := b.Latency()
			h := stats.Histogram{Proxy: s.Backend, Count: s.Count, Sum: s.Sum.Seconds(), Buckets: make(map[float64]uint64, len(s.Cumulative))}
			for i, n := range s.Cumulative {
				h.Buckets[proxy.LatencyBounds[i].Seconds()] = n
			}
			out = append(out, h)
		}
		return out
	}
}

// engineTables reads the engine's stick tables for the sticktable scope.
func engineTables(e *proxy.Engine) func() []stats.TableStat {
	return func() []stats.TableStat {
		set := e.StickTables()
		var out []stats.TableStat
		for _, name := range set.Names() {
			if t := set.Lookup(name); t != nil {
				out = append(out, stats.TableStat{Name: name, Type: t.Def.Key.String(), Size: t.Def.Size, Used: t.Len()})
			}
		}
		return out
	}
}
