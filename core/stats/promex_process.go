package stats

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// processFamily is one haproxy_process_* family varde can fill truthfully
// from its snapshot. HAProxy's others (pools, pipes, tasks, SSL key
// rates, zlib, peers...) describe HAProxy internals varde does not have
// or does not measure; docs/observability.md lists them.
type processFamily struct {
	name   string
	help   string
	typ    prometheus.ValueType
	labels []string
	value  func(snap Snapshot, now time.Time) (float64, bool)
}

var processFamilies = append([]processFamily{
	{"nbproc", "Number of worker processes (always 1).", gauge, nil, constant(1)},
	{"relative_process_id", "Relative worker process number (always 1).", gauge, nil, constant(1)},
	{"uptime_seconds", "How long ago the process was started, in seconds.", gauge, nil, func(s Snapshot, now time.Time) (float64, bool) {
		return math.Floor(now.Sub(s.Info.Started).Seconds()), !s.Info.Started.IsZero()
	}},
	{"start_time_seconds", "Unix time the process was started, in seconds.", gauge, nil, func(s Snapshot, _ time.Time) (float64, bool) {
		return float64(s.Info.Started.Unix()), !s.Info.Started.IsZero()
	}},
	{"max_connections", "Configured global maxconn; NaN when unlimited.", gauge, nil, func(s Snapshot, _ time.Time) (float64, bool) {
		if s.Info.MaxConn <= 0 {
			return math.NaN(), true
		}
		return float64(s.Info.MaxConn), true
	}},
	{"current_connections", "Current number of client connections.", gauge, nil, func(s Snapshot, _ time.Time) (float64, bool) {
		return float64(s.Info.CurConns), true
	}},
	{"connections_total", "Total number of client connections accepted by the frontends.", counter, nil, sumFrontends(func(c *Counters) uint64 { return c.TotalConns })},
	{"requests_total", "Total number of HTTP requests received by the frontends.", counter, nil, sumFrontends(func(c *Counters) uint64 { return c.Requests })},
	{"dropped_logs_total", "Total number of log records dropped (a log target's queue was full).", counter, nil, func(s Snapshot, _ time.Time) (float64, bool) {
		for _, e := range s.Extra {
			if e.Subsystem == "log" && e.Name == "dropped_records_total" {
				return e.Value, true
			}
		}
		return 0, false
	}},
	{"spliced_bytes_out_total", "Bytes sent through a kernel pipe (bodies and tunnels, both directions).", counter, nil, func(s Snapshot, _ time.Time) (float64, bool) {
		for _, e := range s.Extra {
			if e.Subsystem == "proxy" && e.Name == "spliced_bytes_total" {
				return e.Value, true
			}
		}
		return 0, true
	}},
	{"build_info", "Build information (version label: varde's version).", gauge, []string{"version"}, constant(1)},
	{"max_fds", "Limit on the number of file descriptors (RLIMIT_NOFILE).", gauge, nil, func(Snapshot, time.Time) (float64, bool) { return maxFDs() }},
	// HAProxy exports its compression rates (bytes per second over the
	// last second) under these _total names.
	{"http_comp_bytes_in_total", "Compression input rate of the process, in bytes per second (HAProxy's name).", counter, nil, compRate(0)},
	{"http_comp_bytes_out_total", "Compression output rate of the process, in bytes per second (HAProxy's name).", counter, nil, compRate(1)},
	{"limit_http_comp", "maxcomprate in bytes per second, 0 when unlimited.", gauge, nil, compRate(2)},
}, absentProcess()...)

// CompressionRates returns the process's compression input and output
// rates and its maxcomprate, in bytes per second; core/proxy sets it.
var CompressionRates func() [3]float64

func compRate(i int) func(Snapshot, time.Time) (float64, bool) {
	return func(Snapshot, time.Time) (float64, bool) {
		if CompressionRates == nil {
			return 0, true
		}
		return CompressionRates()[i], true
	}
}

// The features behind these families are refused by varde's configuration
// (maxconnrate, maxsessrate, maxsslrate, maxsslconn, busy-polling,
// maxpipes and splicing, peers, log-forward), so their
// HAProxy values are known: 0 (0 meaning "no limit" for the limits), NaN
// for the zlib memory, as HAProxy built without zlib reports.
var absentProcessFamilies = []struct {
	name, help string
	typ        prometheus.ValueType
	v          float64
}{
	{"max_ssl_connections", "Limit on TLS connections, 0 when unlimited (varde: maxsslconn is not supported, always 0).", gauge, 0},
	{"max_pipes", "Limit on pipes for splicing (varde: maxpipes is not supported, 0 = no limit).", gauge, 0},
	{"pipes_used_total", "Pipes in use for splicing (varde does not export it: 0).", counter, 0},
	{"pipes_free_total", "Free pipes for splicing (varde does not export it: 0).", counter, 0},
	{"limit_connection_rate", "Limit on new connections per second, 0 when unlimited (varde: maxconnrate is not supported, always 0).", gauge, 0},
	{"limit_session_rate", "Limit on new sessions per second, 0 when unlimited (varde: maxsessrate is not supported, always 0).", gauge, 0},
	{"limit_ssl_rate", "Limit on new TLS sessions per second, 0 when unlimited (varde: maxsslrate is not supported, always 0).", gauge, 0},
	{"current_zlib_memory", "Memory used by zlib (varde does not use zlib: NaN, as HAProxy built with libslz).", gauge, math.NaN()},
	{"max_zlib_memory", "Limit on zlib memory (varde does not use zlib: NaN, as HAProxy built with libslz).", gauge, math.NaN()},
	{"active_peers", "Active peers connections (varde has no peers: 0).", gauge, 0},
	{"connected_peers", "Connected peers (varde has no peers: 0).", gauge, 0},
	{"busy_polling_enabled", "1 when busy-polling is in use (varde: not supported, 0).", gauge, 0},
	{"recv_logs_total", "Log messages received by log-forward sections (varde has none: 0).", counter, 0},
}

func absentProcess() []processFamily {
	var out []processFamily
	for _, a := range absentProcessFamilies {
		out = append(out, processFamily{a.name, a.help, a.typ, nil, constant(a.v)})
	}
	return out
}

func constant(v float64) func(Snapshot, time.Time) (float64, bool) {
	return func(Snapshot, time.Time) (float64, bool) { return v, true }
}

func sumFrontends(get func(*Counters) uint64) func(Snapshot, time.Time) (float64, bool) {
	return func(s Snapshot, _ time.Time) (float64, bool) {
		var n uint64
		for _, p := range s.Proxies {
			if p.Frontend != nil {
				n += get(p.Frontend)
			}
		}
		return float64(n), true
	}
}

func collectProcess(ch chan<- prometheus.Metric, snap Snapshot, now time.Time) {
	e := emitter{ch: ch}
	for _, p := range processFamilies {
		v, ok := p.value(snap, now)
		if !ok {
			continue
		}
		var labels []string
		if len(p.labels) > 0 {
			labels = []string{snap.Info.Version}
		}
		e.send(descs["haproxy_process_"+p.name], p.typ, v, labels...)
	}
}
