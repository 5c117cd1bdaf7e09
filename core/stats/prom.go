package stats

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/varde-lb/varde/core"
)

// Collector exports the stats schema to Prometheus at scrape time. Metric
// names follow varde_<subsystem>_<name>_<unit>; labels are only proxy and
// server, so cardinality is bounded by the configuration.
type Collector struct {
	src    Source
	checks Checks
	now    func() time.Time
}

// NewCollector returns a collector over src.
func NewCollector(src Source, checks Checks) *Collector {
	return &Collector{src: src, checks: checks, now: time.Now}
}

var _ prometheus.Collector = (*Collector)(nil)

type metric struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

func newMetric(name, help string, typ prometheus.ValueType, labels ...string) metric {
	return metric{prometheus.NewDesc(name, help, labels, nil), typ}
}

var (
	pl  = []string{"proxy"}
	psl = []string{"proxy", "server"}

	feCur      = newMetric("varde_frontend_current_sessions", "Current sessions on the frontend.", prometheus.GaugeValue, pl...)
	feMax      = newMetric("varde_frontend_max_sessions", "Highest number of concurrent sessions seen.", prometheus.GaugeValue, pl...)
	feLimit    = newMetric("varde_frontend_limit_sessions", "Configured session limit (maxconn), 0 when unlimited.", prometheus.GaugeValue, pl...)
	feTot      = newMetric("varde_frontend_sessions_total", "Sessions accepted.", prometheus.CounterValue, pl...)
	feReq      = newMetric("varde_frontend_http_requests_total", "HTTP requests received.", prometheus.CounterValue, pl...)
	feIn       = newMetric("varde_frontend_received_bytes_total", "Bytes received from clients.", prometheus.CounterValue, pl...)
	feOut      = newMetric("varde_frontend_sent_bytes_total", "Bytes sent to clients.", prometheus.CounterValue, pl...)
	feDenied   = newMetric("varde_frontend_denied_requests_total", "Requests denied by rules.", prometheus.CounterValue, pl...)
	feReqErr   = newMetric("varde_frontend_request_errors_total", "Invalid or aborted requests.", prometheus.CounterValue, pl...)
	feSSLFail  = newMetric("varde_frontend_ssl_handshake_failures_total", "Failed TLS handshakes on the frontend's ssl binds.", prometheus.CounterValue, pl...)
	feSSLSess  = newMetric("varde_frontend_ssl_sessions_total", "Full TLS handshakes on the frontend's ssl binds (resumed ones not included).", prometheus.CounterValue, pl...)
	feSSLReuse = newMetric("varde_frontend_ssl_reused_sessions_total", "TLS handshakes that resumed a session.", prometheus.CounterValue, pl...)
	feProxyErr = newMetric("varde_frontend_proxy_protocol_errors_total", "Connections closed on an accept-proxy bind for a missing, invalid, late or cut PROXY header.", prometheus.CounterValue, pl...)
	feStatus   = newMetric("varde_frontend_status_up", "1 when the frontend is listening.", prometheus.GaugeValue, pl...)
	beUp       = newMetric("varde_backend_status_up", "1 when at least one server can take traffic.", prometheus.GaugeValue, pl...)
	beActive   = newMetric("varde_backend_active_servers", "Active servers up.", prometheus.GaugeValue, pl...)
	beBackup   = newMetric("varde_backend_backup_servers", "Backup servers up.", prometheus.GaugeValue, pl...)
	beCur      = newMetric("varde_backend_current_sessions", "Current sessions on the backend.", prometheus.GaugeValue, pl...)
	beMax      = newMetric("varde_backend_max_sessions", "Highest number of concurrent sessions seen.", prometheus.GaugeValue, pl...)
	beTot      = newMetric("varde_backend_sessions_total", "Sessions sent to the backend.", prometheus.CounterValue, pl...)
	beQCur     = newMetric("varde_backend_current_queue", "Requests waiting for a server.", prometheus.GaugeValue, pl...)
	beQMax     = newMetric("varde_backend_max_queue", "Highest queue length seen.", prometheus.GaugeValue, pl...)
	beIn       = newMetric("varde_backend_received_bytes_total", "Bytes received from clients for this backend.", prometheus.CounterValue, pl...)
	beOut      = newMetric("varde_backend_sent_bytes_total", "Bytes sent to clients by this backend.", prometheus.CounterValue, pl...)
	beDenied   = newMetric("varde_backend_denied_requests_total", "Requests denied.", prometheus.CounterValue, pl...)
	beConnErr  = newMetric("varde_backend_connection_errors_total", "Failed connections to servers.", prometheus.CounterValue, pl...)
	beRespErr  = newMetric("varde_backend_response_errors_total", "Invalid or aborted server responses.", prometheus.CounterValue, pl...)
	beRetries  = newMetric("varde_backend_retries_total", "Connection retries.", prometheus.CounterValue, pl...)
	beRedisp   = newMetric("varde_backend_redispatches_total", "Requests redispatched to another server.", prometheus.CounterValue, pl...)
	beWeight   = newMetric("varde_backend_weight", "Sum of the effective weights of servers taking traffic.", prometheus.GaugeValue, pl...)
	svUp       = newMetric("varde_server_status_up", "1 when checks consider the server up.", prometheus.GaugeValue, psl...)
	svAdmin    = newMetric("varde_server_admin_state", "Operator state: 0 ready, 1 drain, 2 maint.", prometheus.GaugeValue, psl...)
	svWeight   = newMetric("varde_server_weight", "Effective weight used by the balancer.", prometheus.GaugeValue, psl...)
	svCur      = newMetric("varde_server_current_sessions", "Current sessions on the server.", prometheus.GaugeValue, psl...)
	svMax      = newMetric("varde_server_max_sessions", "Highest number of concurrent sessions seen.", prometheus.GaugeValue, psl...)
	svLimit    = newMetric("varde_server_limit_sessions", "Effective maxconn, 0 when unlimited.", prometheus.GaugeValue, psl...)
	svTot      = newMetric("varde_server_sessions_total", "Sessions sent to the server.", prometheus.CounterValue, psl...)
	svQCur     = newMetric("varde_server_current_queue", "Requests waiting for this server.", prometheus.GaugeValue, psl...)
	svIn       = newMetric("varde_server_received_bytes_total", "Bytes sent to the server.", prometheus.CounterValue, psl...)
	svOut      = newMetric("varde_server_sent_bytes_total", "Bytes received from the server.", prometheus.CounterValue, psl...)
	svConnErr  = newMetric("varde_server_connection_errors_total", "Failed connections.", prometheus.CounterValue, psl...)
	svRespErr  = newMetric("varde_server_response_errors_total", "Invalid or aborted responses.", prometheus.CounterValue, psl...)
	svRetries  = newMetric("varde_server_retries_total", "Connection retries.", prometheus.CounterValue, psl...)
	svRedisp   = newMetric("varde_server_redispatches_total", "Requests redispatched away from this server.", prometheus.CounterValue, psl...)
	svChkFail  = newMetric("varde_server_check_failures_total", "Failed health checks.", prometheus.CounterValue, psl...)
	svChkDown  = newMetric("varde_server_check_up_down_total", "UP to DOWN transitions.", prometheus.CounterValue, psl...)
	svChkDur   = newMetric("varde_server_check_duration_seconds", "Duration of the last health check.", prometheus.GaugeValue, psl...)
	svDowntime = newMetric("varde_server_downtime_seconds_total", "Time spent down.", prometheus.CounterValue, psl...)
	svLastChg  = newMetric("varde_server_last_change_timestamp_seconds", "Unix time of the last UP/DOWN transition.", prometheus.GaugeValue, psl...)
	svThrottle = newMetric("varde_server_slowstart_throttle_ratio", "Share of the weight applied by slowstart (1 when none).", prometheus.GaugeValue, psl...)

	all = []metric{feCur, feMax, feLimit, feTot, feReq, feIn, feOut, feDenied, feReqErr, feSSLFail, feSSLSess, feSSLReuse, feProxyErr, feStatus,
		beUp, beActive, beBackup, beCur, beMax, beTot, beQCur, beQMax, beIn, beOut, beDenied, beConnErr, beRespErr, beRetries, beRedisp, beWeight,
		svUp, svAdmin, svWeight, svCur, svMax, svLimit, svTot, svQCur, svIn, svOut, svConnErr, svRespErr, svRetries, svRedisp,
		svChkFail, svChkDown, svChkDur, svDowntime, svLastChg, svThrottle}
)

// Register adds the server/proxy collector and the extra-values collector
// to reg.
func Register(reg prometheus.Registerer, src Source, checks Checks) error {
	if err := reg.Register(NewCollector(src, checks)); err != nil {
		return err
	}
	return reg.Register(extraCollector{src})
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range all {
		ch <- m.desc
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.src.Snapshot()
	now := c.now()
	emit := func(m metric, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(m.desc, m.typ, v, labels...)
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, p := range snap.Proxies {
		if f := p.Frontend; f != nil {
			emit(feCur, float64(f.CurConns), p.Name)
			emit(feMax, float64(f.MaxConns), p.Name)
			emit(feLimit, float64(f.LimitConns), p.Name)
			emit(feTot, float64(f.TotalConns), p.Name)
			emit(feReq, float64(f.Requests), p.Name)
			emit(feIn, float64(f.BytesIn), p.Name)
			emit(feOut, float64(f.BytesOut), p.Name)
			emit(feDenied, float64(f.DeniedReq), p.Name)
			emit(feReqErr, float64(f.ReqErrors), p.Name)
			emit(feSSLFail, float64(f.SSLFailures), p.Name)
			emit(feSSLSess, float64(f.SSLSessions), p.Name)
			emit(feSSLReuse, float64(f.SSLReused), p.Name)
			emit(feProxyErr, float64(f.ProxyErrors), p.Name)
			emit(feStatus, b2f(!p.Stopped), p.Name)
		}
		b := p.Backend
		if b == nil {
			continue
		}
		var act, bck, w float64
		for _, s := range p.Servers {
			if s.IsUp() && s.Admin() != core.AdminMaint {
				if s.Backup {
					bck++
				} else {
					act++
				}
				if s.Admin() == core.AdminReady {
					w += float64(s.Weight())
				}
			}
		}
		emit(beUp, b2f(act+bck > 0 || len(p.Servers) == 0), p.Name)
		emit(beActive, act, p.Name)
		emit(beBackup, bck, p.Name)
		emit(beCur, float64(b.CurConns), p.Name)
		emit(beMax, float64(b.MaxConns), p.Name)
		emit(beTot, float64(b.TotalConns), p.Name)
		emit(beQCur, float64(b.Queued), p.Name)
		emit(beQMax, float64(b.MaxQueued), p.Name)
		emit(beIn, float64(b.BytesIn), p.Name)
		emit(beOut, float64(b.BytesOut), p.Name)
		emit(beDenied, float64(b.DeniedReq), p.Name)
		emit(beConnErr, float64(b.ConnErrors), p.Name)
		emit(beRespErr, float64(b.RespErrors), p.Name)
		emit(beRetries, float64(b.Retries), p.Name)
		emit(beRedisp, float64(b.Redispatch), p.Name)
		emit(beWeight, w, p.Name)
		for _, s := range p.Servers {
			l := []string{p.Name, s.Name}
			emit(svUp, b2f(s.IsUp()), l...)
			emit(svAdmin, float64(s.Admin()), l...)
			emit(svWeight, float64(s.Weight()), l...)
			emit(svCur, float64(s.Active.Load()), l...)
			emit(svMax, float64(s.MaxActive.Load()), l...)
			emit(svLimit, float64(s.MaxConn()), l...)
			emit(svTot, float64(s.Total.Load()), l...)
			emit(svQCur, float64(s.Queued.Load()), l...)
			emit(svIn, float64(s.BytesIn.Load()), l...)
			emit(svOut, float64(s.BytesOut.Load()), l...)
			emit(svConnErr, float64(s.ConnErrors.Load()), l...)
			emit(svRespErr, float64(s.RespErrors.Load()), l...)
			emit(svRetries, float64(s.Retries.Load()), l...)
			emit(svRedisp, float64(s.Redispatch.Load()), l...)
			down := s.DownTotal.Load()
			if since := s.DownSince.Load(); since != 0 {
				down += now.UnixNano() - since
			}
			emit(svDowntime, float64(down)/1e9, l...)
			emit(svLastChg, float64(s.LastChange.Load())/1e9, l...)
			if c.checks != nil {
				if i, ok := c.checks.Info(s); ok {
					emit(svThrottle, float64(i.Throttle)/100, l...)
					if i.Enabled {
						emit(svChkFail, float64(i.ChkFail), l...)
						emit(svChkDown, float64(i.ChkDown), l...)
						emit(svChkDur, i.Duration.Seconds(), l...)
					}
				}
			}
		}
	}
}

// extraCollector exports Snapshot.Extra. It is an unchecked collector
// (Describe sends nothing) because which subsystems report values is only
// known at scrape time.
type extraCollector struct{ src Source }

func (extraCollector) Describe(chan<- *prometheus.Desc) {}

func (c extraCollector) Collect(ch chan<- prometheus.Metric) {
	for _, e := range c.src.Snapshot().Extra {
		if e.NoMetric {
			continue
		}
		name := "varde_" + e.Subsystem + "_" + strings.TrimPrefix(e.Name, e.Subsystem+"_")
		typ := prometheus.GaugeValue
		if e.Counter {
			typ = prometheus.CounterValue
		}
		var labels []string
		var values []string
		if e.Proxy != "" {
			labels, values = pl, []string{e.Proxy}
		}
		m, err := prometheus.NewConstMetric(prometheus.NewDesc(name, e.Help, labels, nil), typ, e.Value, values...)
		if err == nil {
			ch <- m
		}
	}
}
