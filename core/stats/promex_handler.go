package stats

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Histogram is one backend's request-duration histogram.
type Histogram struct {
	Proxy   string
	Buckets map[float64]uint64 // cumulative counts by upper bound, seconds
	Count   uint64
	Sum     float64 // seconds
}

// ExporterOptions are what `http-request use-service prometheus-exporter`
// reports.
type ExporterOptions struct {
	Source Source
	Checks Checks
	// Latency reads the backends' request-duration histograms.
	Latency func() []Histogram
	// Tables reads the stick tables (scope sticktable); nil: none.
	Tables func() []TableStat
	// Collectors are more varde_* collectors (the policies').
	Collectors []prometheus.Collector
	Now        func() time.Time
}

// NewExporter returns the Prometheus exporter: HAProxy 2.6's haproxy_*
// families and varde's own varde_* ones, filtered by HAProxy's query
// parameters (`scope`, `no-maint`).
func NewExporter(o ExporterOptions) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	return exporter(o)
}

type exporter ExporterOptions

func (x exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	scope, noMaint, err := ParseScope(r.URL.RawQuery)
	if err != nil {
		http.Error(w, "400 Bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	reg := prometheus.NewRegistry()
	if err := x.register(reg, scope, noMaint); err != nil {
		http.Error(w, "500 Internal error: "+err.Error(), http.StatusInternalServerError)
		return
	}
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// register adds the collectors of the requested scopes to reg.
func (x exporter) register(reg *prometheus.Registry, scope Scope, noMaint bool) error {
	cs := []prometheus.Collector{promexCollector{src: x.Source, checks: x.Checks, scope: scope, noMaint: noMaint, now: x.Now}}
	if scope&ScopeStickTable != 0 && x.Tables != nil {
		cs = append(cs, tableCollector(x.Tables))
	}
	if scope&ScopeVarde != 0 {
		cs = append(cs, &Collector{src: x.Source, checks: x.Checks, now: x.Now}, extraCollector{x.Source})
		if x.Latency != nil {
			cs = append(cs, latencyCollector(x.Latency))
		}
		cs = append(cs, x.Collectors...)
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering a collector: %w", err)
		}
	}
	return nil
}

var errScope = errors.New("invalid scope")

// scopeNames are HAProxy's scopes; listener is accepted (HAProxy 2.6
// knows it) though varde exports nothing under it yet.
var scopeNames = map[string]Scope{
	"global": ScopeGlobal, "frontend": ScopeFrontend, "backend": ScopeBackend,
	"server": ScopeServer, "listener": 0, "sticktable": ScopeStickTable, "varde": ScopeVarde,
}

// ParseScope reads the exporter's query string as HAProxy does: each
// `scope=NAME` adds a scope (the first one replaces the default, all),
// `scope=*` adds all, an empty `scope=` clears them, `no-maint` skips
// servers in maintenance. A scope without a value or an unknown name is an
// error (HAProxy answers 400). varde adds the `varde` scope for its own
// families, included in the default and in `*`.
func ParseScope(raw string) (scope Scope, noMaint bool, err error) {
	scope = ScopeAll
	seen := false
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, hasValue := strings.Cut(part, "=")
		if k, err = url.QueryUnescape(k); err != nil {
			return 0, false, errScope
		}
		if strings.Contains(v, "=") {
			return 0, false, errScope
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return 0, false, errScope
		}
		switch k {
		case "scope":
			if !seen {
				scope, seen = 0, true
			}
			s, ok := scopeNames[v]
			switch {
			case !hasValue:
				return 0, false, errScope
			case v == "":
				scope = 0
			case v == "*":
				scope |= ScopeAll
			case !ok:
				return 0, false, fmt.Errorf("%w %q", errScope, v)
			default:
				scope |= s
			}
		case "no-maint":
			noMaint = true
		}
	}
	return scope, noMaint, nil
}

// latencyCollector exports varde_backend_http_request_duration_seconds.
type latencyCollector func() []Histogram

var latencyDesc = prometheus.NewDesc("varde_backend_http_request_duration_seconds",
	"Time from the start of an HTTP request to the end of its response, by backend.", []string{"proxy"}, nil)

func (latencyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- latencyDesc }

func (c latencyCollector) Collect(ch chan<- prometheus.Metric) {
	for _, h := range c() {
		m, err := prometheus.NewConstHistogram(latencyDesc, h.Count, h.Sum, h.Buckets, h.Proxy)
		if err == nil {
			ch <- m
		}
	}
}
