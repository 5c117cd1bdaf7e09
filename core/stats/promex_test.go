package stats_test

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/stats"
	"github.com/varde-lb/varde/core/testenv"
)

// scrape is a parsed text exposition: each family's type and each
// series' value, keyed by name{label="value",...} with sorted labels.
type scrape struct {
	types  map[string]string
	series map[string]float64
	raw    string
}

func parseScrape(t *testing.T, text string) scrape {
	t.Helper()
	s := scrape{types: map[string]string{}, series: map[string]float64{}, raw: text}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "# TYPE ") {
			f := strings.Fields(line)
			s.types[f[2]] = f[3]
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		s.series[canonical(line[:i])] = v
	}
	return s
}

// canonical sorts a series' labels (HAProxy and client_golang order them
// differently). Label values here never hold commas.
func canonical(series string) string {
	name, labels, ok := strings.Cut(series, "{")
	if !ok {
		return series
	}
	l := strings.Split(strings.TrimSuffix(labels, "}"), ",")
	sort.Strings(l)
	return name + "{" + strings.Join(l, ",") + "}"
}

func (s scrape) want(t *testing.T, series string, v float64) {
	t.Helper()
	got, ok := s.series[canonical(series)]
	switch {
	case !ok:
		t.Errorf("no series %s", series)
	case math.IsNaN(v) && !math.IsNaN(got), !math.IsNaN(v) && got != v:
		t.Errorf("%s = %v, want %v", series, got, v)
	}
}

func get(t *testing.T, h http.Handler, query string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics"+query, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func exporterOf(f *fixture) http.Handler {
	return stats.NewExporter(stats.ExporterOptions{Source: f.src, Checks: f.m, Latency: func() []stats.Histogram {
		return []stats.Histogram{{Proxy: "app", Count: 3, Sum: 0.5, Buckets: map[float64]uint64{0.1: 2, 1: 3}}}
	}, Tables: func() []stats.TableStat {
		return []stats.TableStat{{Name: "www", Type: "ip", Size: 102400, Used: 3}}
	}})
}

// TestExporterHAProxyFamilies checks the haproxy_* families' values and
// labels on a backend with an up, a down, a drained and an unchecked
// server, and lints the whole output with promtool.
func TestExporterHAProxyFamilies(t *testing.T) {
	f := newFixture(t)
	code, body := get(t, exporterOf(f), "")
	if code != 200 {
		t.Fatalf("scrape: %d %s", code, body)
	}
	s := parseScrape(t, body)
	for _, tc := range []struct {
		series string
		v      float64
	}{
		{`haproxy_server_status{proxy="app",server="web1",state="UP"}`, 1},
		{`haproxy_server_status{proxy="app",server="web1",state="DOWN"}`, 0},
		{`haproxy_server_status{proxy="app",server="web2",state="DOWN"}`, 1},
		{`haproxy_server_status{proxy="app",server="web2",state="UP"}`, 0},
		{`haproxy_server_status{proxy="app",server="web3",state="DRAIN"}`, 1},
		{`haproxy_server_status{proxy="app",server="web3",state="UP"}`, 0},
		{`haproxy_server_status{proxy="app",server="spare",state="UP"}`, 1},
		{`haproxy_server_check_status{proxy="app",server="web1",state="L7OK"}`, 1},
		{`haproxy_server_check_status{proxy="app",server="web2",state="L4CON"}`, 1},
		{`haproxy_server_check_status{proxy="app",server="web2",state="L7OK"}`, 0},
		{`haproxy_server_check_code{proxy="app",server="web1"}`, 200},
		{`haproxy_server_check_code{proxy="app",server="web2"}`, 0},
		{`haproxy_server_limit_sessions{proxy="app",server="web1"}`, 100},
		{`haproxy_server_limit_sessions{proxy="app",server="web2"}`, math.NaN()},
		{`haproxy_server_weight{proxy="app",server="web1"}`, 1},
		{`haproxy_backend_http_responses_total{proxy="app",code="2xx"}`, 38},
		{`haproxy_backend_http_responses_total{proxy="app",code="5xx"}`, 1},
		{`haproxy_backend_http_responses_total{proxy="app",code="other"}`, 0},
		{`haproxy_backend_status{proxy="app",state="UP"}`, 1},
		{`haproxy_backend_agg_server_status{proxy="app",state="UP"}`, 2},
		{`haproxy_backend_agg_server_status{proxy="app",state="DOWN"}`, 1},
		{`haproxy_backend_agg_server_status{proxy="app",state="DRAIN"}`, 1},
		{`haproxy_backend_agg_check_status{proxy="app",state="L7OK"}`, 2},
		{`haproxy_backend_agg_check_status{proxy="app",state="L4CON"}`, 1},
		{`haproxy_frontend_status{proxy="www",state="UP"}`, 1},
		{`haproxy_frontend_status{proxy="www",state="DOWN"}`, 0},
		{`haproxy_frontend_sessions_total{proxy="www"}`, 42},
		{`haproxy_frontend_http_requests_total{proxy="www"}`, 40},
		{`haproxy_frontend_denied_connections_total{proxy="www"}`, 6},
		{`haproxy_frontend_denied_sessions_total{proxy="www"}`, 2},
		{`haproxy_frontend_limit_sessions{proxy="www"}`, 1000},
		{`haproxy_sticktable_size{name="www",type="ip"}`, 102400},
		{`haproxy_sticktable_used{name="www",type="ip"}`, 3},
		{`haproxy_process_build_info{version="test"}`, 1},
		{`haproxy_process_uptime_seconds`, 3600},
		{`haproxy_process_requests_total`, 40},
		{`haproxy_process_dropped_logs_total`, 7},
		{`varde_log_dropped_records_total`, 7},
		{`varde_server_status_up{proxy="app",server="web2"}`, 0},
		{`varde_backend_http_request_duration_seconds_bucket{proxy="app",le="0.1"}`, 2},
		{`varde_backend_http_request_duration_seconds_count{proxy="app"}`, 3},
	} {
		s.want(t, tc.series, tc.v)
	}
	// The unchecked server has no check families, as in HAProxy.
	if _, ok := s.series[canonical(`haproxy_server_check_status{proxy="app",server="spare",state="L7OK"}`)]; ok {
		t.Error("check_status exported for a server without checks")
	}
	for name, typ := range map[string]string{"haproxy_server_status": "gauge", "haproxy_frontend_http_responses_total": "counter",
		"haproxy_backend_sessions_total": "counter", "varde_backend_http_request_duration_seconds": "histogram"} {
		if s.types[name] != typ {
			t.Errorf("%s: type %q, want %s", name, s.types[name], typ)
		}
	}
	promtoolCheck(t, body)
}

func promtoolCheck(t *testing.T, body string) {
	t.Helper()
	promtool := testenv.LookTool(t, "promtool", "prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader([]byte(body))
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestExporterScopes checks HAProxy's scope and no-maint parameters.
func TestExporterScopes(t *testing.T) {
	f := newFixture(t)
	h := exporterOf(f)
	f.m.SetAdmin(f.servers[3], core.AdminMaint)
	prefixes := func(body string) string {
		seen := map[string]bool{}
		for _, l := range strings.Split(body, "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				p := strings.SplitN(l, "_", 3)
				seen[p[0]+"_"+p[1]] = true
			}
		}
		var out []string
		for p := range seen {
			out = append(out, p)
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		query, want string
	}{
		{"", "haproxy_backend haproxy_frontend haproxy_process haproxy_server haproxy_sticktable varde_backend varde_frontend varde_log varde_server"},
		{"?scope=*", "haproxy_backend haproxy_frontend haproxy_process haproxy_server haproxy_sticktable varde_backend varde_frontend varde_log varde_server"},
		{"?scope=global", "haproxy_process"},
		{"?scope=frontend&scope=backend", "haproxy_backend haproxy_frontend"},
		{"?scope=server", "haproxy_server"},
		{"?scope=varde", "varde_backend varde_frontend varde_log varde_server"},
		{"?scope=", ""},
		{"?scope=listener", ""},
		{"?scope=sticktable", "haproxy_sticktable"},
	} {
		code, body := get(t, h, tc.query)
		if code != 200 || prefixes(body) != tc.want {
			t.Errorf("%q: %d, families %q, want %q", tc.query, code, prefixes(body), tc.want)
		}
	}
	maint := `haproxy_server_status{proxy="app",server="spare",state="MAINT"}`
	_, body := get(t, h, "?scope=server")
	parseScrape(t, body).want(t, maint, 1)
	_, body = get(t, h, "?scope=server&no-maint")
	if strings.Contains(body, `server="spare"`) {
		t.Error("no-maint: the server in maintenance is still exported")
	}
	if !strings.Contains(body, `server="web1"`) {
		t.Error("no-maint dropped a ready server")
	}
	for _, q := range []string{"?scope=nope", "?scope", "?scope=a=b", "?scope=%zz"} {
		if code, _ := get(t, h, q); code != 400 {
			t.Errorf("%q: %d, want 400", q, code)
		}
	}
}

// TestExporterTCPProxy: HTTP-only families are absent for a TCP proxy and
// a backend without servers is UP without aggregates, as in HAProxy.
func TestExporterTCPProxy(t *testing.T) {
	src := stats.SourceFunc(func() stats.Snapshot {
		c := &stats.Counters{TotalConns: 5}
		return stats.Snapshot{Proxies: []stats.Proxy{{Name: "db", ID: 1, Mode: "tcp", Frontend: c, Backend: c}}}
	})
	_, body := get(t, stats.NewExporter(stats.ExporterOptions{Source: src}), "")
	s := parseScrape(t, body)
	s.want(t, `haproxy_frontend_sessions_total{proxy="db"}`, 5)
	s.want(t, `haproxy_backend_status{proxy="db",state="UP"}`, 1)
	for series := range s.series {
		if (strings.HasPrefix(series, "haproxy_frontend") || strings.HasPrefix(series, "haproxy_backend")) && (strings.Contains(series, "http_") || strings.Contains(series, "agg_")) {
			t.Errorf("TCP proxy exports %s", series)
		}
	}
	promtoolCheck(t, body)
}

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		scope   stats.Scope
		noMaint bool
		err     bool
	}{
		{"", stats.ScopeAll, false, false},
		{"scope=global", stats.ScopeGlobal, false, false},
		{"scope=server&scope=backend", stats.ScopeServer | stats.ScopeBackend, false, false},
		{"scope=server&scope=", 0, false, false},
		{"scope=&scope=server", stats.ScopeServer, false, false},
		{"scope=*", stats.ScopeAll, false, false},
		{"no-maint", stats.ScopeAll, true, false},
		{"no-maint&scope=frontend", stats.ScopeFrontend, true, false},
		{"scope=fr%6Fntend", stats.ScopeFrontend, false, false},
		{"other=1&&scope=varde", stats.ScopeVarde, false, false},
		{"scope", 0, false, true},
		{"scope=bogus", 0, false, true},
		{"scope=a=b", 0, false, true},
		{"scope=%zz", 0, false, true},
	} {
		scope, noMaint, err := stats.ParseScope(tc.raw)
		if (err != nil) != tc.err || (err == nil && (scope != tc.scope || noMaint != tc.noMaint)) {
			t.Errorf("%q: %v %v %v", tc.raw, scope, noMaint, err)
		}
	}
}

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"", "scope=global&no-maint", "scope=", "scope=*&scope=server", "scope=%zz", "a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		scope, _, err := stats.ParseScope(raw)
		if err == nil && scope&^stats.ScopeAll != 0 {
			t.Fatalf("%q: scope %b outside ScopeAll", raw, scope)
		}
	})
}
