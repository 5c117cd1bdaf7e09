package stats

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// descs holds every HAProxy family's descriptor, built once.
var descs = func() map[string]*prometheus.Desc {
	m := map[string]*prometheus.Desc{}
	add := func(object string, fams []family, labels ...string) {
		for _, x := range fams {
			l := labels
			switch x.name {
			case specialResponses:
				l = append(append([]string(nil), labels...), "code")
			case specialStatus, specialCheckStatus, specialAggServer, specialAggSrvCheck, specialAggCheck:
				l = append(append([]string(nil), labels...), "state")
			}
			name := "haproxy_" + object + "_" + x.name
			m[name] = prometheus.NewDesc(name, x.help, l, nil)
		}
	}
	add("frontend", frontendFamilies, "proxy")
	add("backend", backendFamilies, "proxy")
	add("server", serverFamilies, "proxy", "server")
	for _, p := range processFamilies {
		m["haproxy_process_"+p.name] = prometheus.NewDesc("haproxy_process_"+p.name, p.help, p.labels, nil)
	}
	return m
}()

// promexCollector exports the haproxy_* families of one scrape's scopes.
// It is unchecked (Describe sends nothing): which families have values
// depends on the configuration (HTTP or TCP proxies, checks or not).
type promexCollector struct {
	src     Source
	checks  Checks
	scope   Scope
	noMaint bool // HAProxy's no-maint parameter: skip servers in MAINT
	now     func() time.Time
}

func (promexCollector) Describe(chan<- *prometheus.Desc) {}

func (c promexCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.src.Snapshot()
	now := c.now()
	if c.scope&ScopeGlobal != 0 {
		collectProcess(ch, snap, now)
	}
	if c.scope&(ScopeFrontend|ScopeBackend|ScopeServer) == 0 {
		return
	}
	rows := Rows(snap, c.checks, now)
	servers := map[string][]*Row{}
	for i := range rows {
		if rows[i].Type == TypeServer {
			servers[rows[i].Proxy] = append(servers[rows[i].Proxy], &rows[i])
		}
	}
	e := emitter{ch: ch, servers: servers}
	if c.scope&ScopeFrontend != 0 {
		e.object("frontend", frontendFamilies, rows, func(r *Row) bool { return r.Type == TypeFrontend })
	}
	if c.scope&ScopeBackend != 0 {
		e.object("backend", backendFamilies, rows, func(r *Row) bool { return r.Type == TypeBackend })
	}
	if c.scope&ScopeServer != 0 {
		e.object("server", serverFamilies, rows, func(r *Row) bool {
			return r.Type == TypeServer && !(c.noMaint && serverState(r.Get("status").Text) == "MAINT")
		})
	}
}

// emitter sends the metrics of one scrape.
type emitter struct {
	ch      chan<- prometheus.Metric
	servers map[string][]*Row // a backend's server rows
}

// send drops a metric that does not match its descriptor rather than
// panicking: collectors run in the registry's goroutines, where a panic
// would end the process.
func (e emitter) send(d *prometheus.Desc, typ prometheus.ValueType, v float64, labels ...string) {
	if d == nil {
		return
	}
	if m, err := prometheus.NewConstMetric(d, typ, v, labels...); err == nil {
		e.ch <- m
	}
}

// object emits every family of one object kind, family by family as
// HAProxy's exporter does.
func (e emitter) object(object string, fams []family, rows []Row, want func(*Row) bool) {
	for _, x := range fams {
		d := descs["haproxy_"+object+"_"+x.name]
		for i := range rows {
			r := &rows[i]
			if !want(r) || (x.http && !isHTTP(r)) {
				continue
			}
			labels := []string{r.Proxy}
			if r.Type == TypeServer {
				labels = append(labels, r.Name)
			}
			e.family(d, x, r, labels)
		}
	}
}

// family emits one family of one row.
func (e emitter) family(d *prometheus.Desc, x family, r *Row, labels []string) {
	with := func(extra string) []string { return append(labels[:len(labels):len(labels)], extra) }
	switch x.name {
	case specialStatus:
		st := r.Get("status").Text
		var states []string
		var cur string
		switch r.Type {
		case TypeFrontend:
			states, cur = frontStates, "UP"
			if st == "STOP" {
				cur = "DOWN"
			}
		case TypeBackend:
			states, cur = backStates, "DOWN"
			if st == "UP" {
				cur = "UP"
			}
		default:
			states, cur = srvStates, serverState(st)
		}
		for _, s := range states {
			e.send(d, gauge, b2f(s == cur), with(s)...)
		}
	case specialResponses:
		for _, c := range codeClasses {
			if v, ok := cell(r, c.field, 1); ok {
				e.send(d, counter, v, with(c.label)...)
			}
		}
	case specialCheckStatus:
		if cs, ok := checkState(r); ok {
			for _, s := range checkStates {
				e.send(d, gauge, b2f(s == cs), with(s)...)
			}
		}
	case specialCheckCode:
		if _, ok := checkState(r); ok {
			v, _ := cell(r, "check_code", 1)
			if math.IsNaN(v) {
				v = 0 // HAProxy: 0 when the check has no layer 5-7 code
			}
			e.send(d, gauge, v, labels...)
		}
	case specialAggServer, specialAggSrvCheck, specialAggCheck:
		e.aggregate(d, x.name, r.Proxy, labels)
	default:
		v, ok := cell(r, x.field, x.scale)
		if !ok && x.never {
			v, ok = 0, true
		}
		if ok || x.nan {
			e.send(d, x.typ, v, labels...)
		}
	}
}

// aggregate emits a backend's count of servers per state or per check
// status; nothing for a backend without servers, as HAProxy.
func (e emitter) aggregate(d *prometheus.Desc, name, proxy string, labels []string) {
	srvs := e.servers[proxy]
	if len(srvs) == 0 {
		return
	}
	count := map[string]float64{}
	states := srvStates
	for _, r := range srvs {
		if name == specialAggCheck {
			if cs, ok := checkState(r); ok {
				count[cs]++
			}
			continue
		}
		count[serverState(r.Get("status").Text)]++
	}
	if name == specialAggCheck {
		states = checkStates
	}
	for _, s := range states {
		e.send(d, gauge, count[s], append(labels[:len(labels):len(labels)], s)...)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
