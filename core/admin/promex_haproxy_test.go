package admin_test

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// knownGaps are the families HAProxy 2.6's exporter has and varde's lacks,
// each with the reason; docs/observability.md lists the same. The test
// fails on a gap not listed here, and on a listed one varde now exports
// (then remove it here and in the doc).
var knownGaps = map[string]string{
	// Columns the stats schema (core/stats, `show stat`) does not fill.
	"haproxy_server_idle_connections_current":        "stats schema: the server connection pool's idle count is not exported (srv_icur)",
	"haproxy_server_idle_connections_limit":          "stats schema: varde's fixed per-server idle cap (1024; pool-max-conn is refused) is not in src_ilim",
	"haproxy_server_unsafe_idle_connections_current": "stats schema: the pool does not tell safe from unsafe idle connections",
	"haproxy_server_safe_idle_connections_current":   "stats schema: the pool does not tell safe from unsafe idle connections",
	"haproxy_server_used_connections_current":        "stats schema: used_conn_cur not exported",
	"haproxy_server_need_connections_current":        "stats schema: need_conn_est not estimated",
	"haproxy_process_current_connection_rate":        "rates are not measured process-wide",
	"haproxy_process_max_connection_rate":            "rates are not measured process-wide",
	"haproxy_process_current_session_rate":           "rates are not measured process-wide",
	"haproxy_process_max_session_rate":               "rates are not measured process-wide",
	"haproxy_process_current_ssl_rate":               "rates are not measured process-wide",
	"haproxy_process_max_ssl_rate":                   "rates are not measured process-wide",
	"haproxy_process_current_frontend_ssl_key_rate":  "TLS key rates are not measured",
	"haproxy_process_max_frontend_ssl_key_rate":      "TLS key rates are not measured",
	"haproxy_process_current_backend_ssl_key_rate":   "TLS key rates are not measured",
	"haproxy_process_max_backend_ssl_key_rate":       "TLS key rates are not measured",
	"haproxy_process_frontend_ssl_reuse":             "not computed process-wide (per frontend: varde_frontend_ssl_reused_sessions_total)",
	"haproxy_process_ssl_cache_lookups_total":        "Go's TLS resumes with tickets; there is no session cache to count",
	"haproxy_process_ssl_cache_misses_total":         "Go's TLS resumes with tickets; there is no session cache to count",
	"haproxy_process_current_ssl_connections":        "TLS connections are not counted process-wide",
	"haproxy_process_ssl_connections_total":          "TLS connections are not counted process-wide (per frontend: varde_frontend_ssl_sessions_total)",
	"haproxy_process_bytes_out_total":                "bytes are counted per proxy, not process-wide",
	"haproxy_process_bytes_out_rate":                 "bytes are counted per proxy, not process-wide",
	"haproxy_process_nbthread":                       "varde runs Go event loops, not HAProxy threads: no equivalent number",
	"haproxy_process_pool_allocated_bytes":           "HAProxy's memory pools; Go's runtime manages varde's memory",
	"haproxy_process_pool_used_bytes":                "HAProxy's memory pools; Go's runtime manages varde's memory",
	"haproxy_process_pool_failures_total":            "HAProxy's memory pools; Go's runtime manages varde's memory",
	"haproxy_process_max_memory_bytes":               "-m (memmax) is not supported",
	"haproxy_process_current_tasks":                  "HAProxy's scheduler; varde has none",
	"haproxy_process_current_run_queue":              "HAProxy's scheduler; varde has none",
	"haproxy_process_idle_time_percent":              "HAProxy's scheduler; varde has none",
	"haproxy_process_jobs":                           "HAProxy's job accounting; varde has none",
	"haproxy_process_unstoppable_jobs":               "HAProxy's job accounting; varde has none",
	"haproxy_process_listeners":                      "listeners are not counted in the stats snapshot",
	"haproxy_process_stopping":                       "the stopping state is not in the stats snapshot",
	"haproxy_process_max_sockets":                    "HAProxy's derived socket limit; varde has none (see max_fds)",
	"haproxy_process_hard_max_connections":           "HAProxy's derived limit from memmax/ulimit; varde has none",
	"haproxy_process_failed_resolutions":             "no runtime DNS resolution (resolvers is refused); HAProxy's name also lacks _total and fails promtool",
}

// TestPrometheusMatchesHAProxyExporter runs HAProxy 2.6's exporter and
// varde on one configuration and traffic, and compares the families, their
// types and labels, and the values both must agree on.
func TestPrometheusMatchesHAProxyExporter(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	if out, _ := exec.Command(hap, "-vv").CombinedOutput(); !bytes.Contains(out, []byte("prometheus-exporter")) {
		t.Skip("haproxy built without the prometheus-exporter service")
	}
	bin := testenv.VardeBinary(t)
	web1, web2 := newBackend(t, "web1"), newBackend(t, "web2")
	web2.sick.Store(true)
	dir := t.TempDir()
	type lb struct{ name, sock, web, metrics string }
	var lbs []lb
	for _, name := range []string{"haproxy", "varde"} {
		ports := testenv.FreePorts(t, 3)
		l := lb{name: name, sock: filepath.Join(dir, name+".sock"),
			web: fmt.Sprintf("127.0.0.1:%d", ports[0]), metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[1])}
		cfg := filepath.Join(dir, name+".cfg")
		text := promexConfig(l.sock, ports, web1.addr(), web2.addr())
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if name == "haproxy" {
			testenv.Start(t, hap, "-db", "-f", cfg)
		} else {
			testenv.Start(t, bin, "run", "-f", cfg)
		}
		// Wait on the metrics port: a probe of www would count there.
		testenv.WaitTCP(t, strings.TrimSuffix(strings.TrimPrefix(l.metrics, "http://"), "/metrics"), 10*time.Second)
		lbs = append(lbs, l)
	}
	// Both see web2 down and web1 up before any traffic.
	for _, l := range lbs {
		waitSeries(t, l.metrics, map[string]float64{
			`haproxy_server_status{proxy="app",server="web2",state="DOWN"}`: 1,
			`haproxy_server_status{proxy="app",server="web1",state="UP"}`:   1,
		})
	}
	const n = 7
	// One connection per request, so that sessions count requests.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, l := range lbs {
		for i := 0; i < n; i++ {
			resp, err := client.Get("http://" + l.web + "/")
			if err != nil {
				t.Fatalf("%s: %v", l.name, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s: GET / -> %d", l.name, resp.StatusCode)
			}
		}
	}
	want := map[string]float64{
		`haproxy_frontend_http_requests_total{proxy="www"}`:                    n,
		`haproxy_frontend_http_responses_total{proxy="www",code="2xx"}`:        n,
		`haproxy_frontend_http_responses_total{proxy="www",code="5xx"}`:        0,
		`haproxy_frontend_sessions_total{proxy="www"}`:                         n,
		`haproxy_frontend_status{proxy="www",state="UP"}`:                      1,
		`haproxy_frontend_http_comp_responses_total{proxy="www"}`:              0,
		`haproxy_frontend_sessions_total{proxy="db"}`:                          0,
		`haproxy_backend_http_responses_total{proxy="app",code="2xx"}`:         n,
		`haproxy_backend_http_responses_total{proxy="app",code="4xx"}`:         0,
		`haproxy_backend_sessions_total{proxy="app"}`:                          n,
		`haproxy_backend_status{proxy="app",state="UP"}`:                       1,
		`haproxy_backend_active_servers{proxy="app"}`:                          1,
		`haproxy_backend_agg_server_status{proxy="app",state="UP"}`:            1,
		`haproxy_backend_agg_server_status{proxy="app",state="DOWN"}`:          1,
		`haproxy_backend_agg_check_status{proxy="app",state="L7STS"}`:          1,
		`haproxy_server_sessions_total{proxy="app",server="web1"}`:             n,
		`haproxy_server_sessions_total{proxy="app",server="web2"}`:             0,
		`haproxy_server_status{proxy="app",server="web2",state="DOWN"}`:        1,
		`haproxy_server_status{proxy="app",server="web2",state="UP"}`:          0,
		`haproxy_server_status{proxy="app",server="web1",state="UP"}`:          1,
		`haproxy_server_check_status{proxy="app",server="web1",state="L7OK"}`:  1,
		`haproxy_server_check_status{proxy="app",server="web2",state="L7STS"}`: 1,
		`haproxy_server_check_status{proxy="app",server="web2",state="L4CON"}`: 0,
		`haproxy_server_check_code{proxy="app",server="web2"}`:                 503,
		`haproxy_server_weight{proxy="app",server="web1"}`:                     1,
		`haproxy_server_limit_sessions{proxy="app",server="web1"}`:             math.NaN(),
		`haproxy_server_queue_limit{proxy="app",server="web1"}`:                math.NaN(),
		`haproxy_process_nbproc`:                                               1,
		`haproxy_process_pipes_used_total`:                                     0,
		`haproxy_process_limit_connection_rate`:                                0,
		`haproxy_sticktable_size{name="www",type="ip"}`:                        102400,
		`haproxy_sticktable_used{name="www",type="ip"}`:                        1,
	}
	var scrapes []promScrape
	for _, l := range lbs {
		scrapes = append(scrapes, waitSeries(t, l.metrics, want))
	}
	h, v := scrapes[0], scrapes[1]
	compareFamilies(t, h, v)
	for i, s := range scrapes {
		if got := s.series[promCanonical(`haproxy_server_http_responses_total{proxy="app",server="web1",code="2xx"}`)]; got != n {
			t.Errorf("%s: web1 2xx = %v, want %d", lbs[i].name, got, n)
		}
	}
	if c := v.series[promCanonical(`varde_backend_http_request_duration_seconds_count{proxy="app"}`)]; c != n {
		t.Errorf("latency histogram counted %v requests, want %d", c, n)
	}
	promtool := testenv.LookTool(t, "promtool", "prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(v.raw)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics on varde's output: %v\n%s", err, out)
	}

	// Draining: the server's state label follows on both.
	for _, l := range lbs {
		if out := send(t, "unix", l.sock, "set server app/web1 state drain"); out != "\n" {
			t.Fatalf("%s: drain: %q", l.name, out)
		}
		want := map[string]float64{
			`haproxy_server_status{proxy="app",server="web1",state="DRAIN"}`: 1,
			`haproxy_server_status{proxy="app",server="web1",state="UP"}`:    0,
		}
		// No server can take traffic: the backend is DOWN on both.
		want[`haproxy_backend_status{proxy="app",state="DOWN"}`] = 1
		waitSeries(t, l.metrics, want)
	}
	// HAProxy's scope parameter selects the same families on both.
	for _, q := range []string{"?scope=backend", "?scope=global&scope=server", "?scope=", "?scope=sticktable"} {
		a, b := familyNames(fetchScrape(t, lbs[0].metrics+q)), familyNames(fetchScrape(t, lbs[1].metrics+q))
		if p1, p2 := prefixesOf(a), prefixesOf(b); p1 != p2 {
			t.Errorf("%s: haproxy families %s, varde %s", q, p1, p2)
		}
	}
}

func promexConfig(sock string, ports []int, web1, web2 string) string {
	return fmt.Sprintf(`global
    stats socket %s mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 2s
frontend www
    bind 127.0.0.1:%d
    stick-table type ip size 100k expire 30s store http_req_rate(10s)
    http-request track-sc0 src
    default_backend app
frontend metrics
    bind 127.0.0.1:%d
    http-request use-service prometheus-exporter if { path /metrics }
listen db
    mode tcp
    bind 127.0.0.1:%d
    server db1 %s
backend app
    balance roundrobin
    option httpchk GET /health
    server web1 %s check inter 100ms rise 1 fall 1
    server web2 %s check inter 100ms rise 1 fall 1
`, sock, ports[0], ports[1], ports[2], web1, web1, web2)
}

// compareFamilies checks varde's haproxy_* families against HAProxy's:
// every missing one is a known gap, none is extra, types and label names
// agree.
func compareFamilies(t *testing.T, h, v promScrape) {
	t.Helper()
	for name := range h.types {
		if _, ok := v.types[name]; !ok && knownGaps[name] == "" {
			t.Errorf("varde lacks HAProxy's %s (%s): export it, or list it in knownGaps and docs/observability.md with the reason", name, h.types[name])
		}
	}
	for name := range knownGaps {
		if _, ok := v.types[name]; ok {
			t.Errorf("%s is listed as a gap but varde exports it now: remove it from knownGaps and docs/observability.md", name)
		} else if _, ok := h.types[name]; !ok {
			t.Errorf("%s is listed as a gap but HAProxy does not export it", name)
		}
	}
	for name, typ := range v.types {
		if !strings.HasPrefix(name, "haproxy_") {
			continue
		}
		ht, ok := h.types[name]
		switch {
		case !ok:
			t.Errorf("varde exports %s, HAProxy does not", name)
		case ht != typ:
			t.Errorf("%s: type %s, HAProxy's %s", name, typ, ht)
		case h.labels[name] != v.labels[name]:
			t.Errorf("%s: labels %s, HAProxy's %s", name, v.labels[name], h.labels[name])
		}
	}
}

// promScrape is a parsed text exposition.
type promScrape struct {
	types  map[string]string
	labels map[string]string // family -> sorted label names
	series map[string]float64
	raw    string
}

func fetchScrape(t *testing.T, url string) promScrape {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", url, resp.StatusCode, body)
	}
	return parsePromText(t, string(body))
}

func parsePromText(t *testing.T, text string) promScrape {
	t.Helper()
	s := promScrape{types: map[string]string{}, labels: map[string]string{}, series: map[string]float64{}, raw: text}
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
		val, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		key := promCanonical(line[:i])
		s.series[key] = val
		name, labels, _ := strings.Cut(key, "{")
		var names []string
		for _, kv := range strings.Split(strings.TrimSuffix(labels, "}"), ",") {
			if k, _, ok := strings.Cut(kv, "="); ok {
				names = append(names, k)
			}
		}
		s.labels[name] = strings.Join(names, ",")
	}
	return s
}

// promCanonical sorts a series' labels: HAProxy and client_golang order
// them differently.
func promCanonical(series string) string {
	name, labels, ok := strings.Cut(series, "{")
	if !ok {
		return series
	}
	l := strings.Split(strings.TrimSuffix(labels, "}"), ",")
	sort.Strings(l)
	return name + "{" + strings.Join(l, ",") + "}"
}

// waitSeries scrapes url until every series has its value (NaN matches
// NaN), and returns the last scrape.
func waitSeries(t *testing.T, url string, want map[string]float64) promScrape {
	t.Helper()
	var last promScrape
	err := testenv.Until(15*time.Second, 50*time.Millisecond, func() error {
		last = fetchScrape(t, url)
		for series, w := range want {
			got, ok := last.series[promCanonical(series)]
			if !ok || (math.IsNaN(w) != math.IsNaN(got)) || (!math.IsNaN(w) && got != w) {
				return fmt.Errorf("%s = %v (present %v), want %v", series, got, ok, w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v\n%s", url, err, last.raw)
	}
	return last
}

func familyNames(s promScrape) []string {
	var out []string
	for name := range s.types {
		out = append(out, name)
	}
	return out
}

// prefixesOf is the set of haproxy_<object> prefixes of families.
func prefixesOf(names []string) string {
	seen := map[string]bool{}
	for _, n := range names {
		if p := strings.SplitN(n, "_", 3); len(p) == 3 && p[0] == "haproxy" {
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

// TestPrometheusServiceInBackend: HAProxy runs `http-request use-service`
// in a backend too (reached through use_backend/default_backend); varde
// must answer there as well instead of forwarding the request.
func TestPrometheusServiceInBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	web := newBackend(t, "web1")
	dir := t.TempDir()
	for _, name := range []string{"haproxy", "varde"} {
		port := testenv.FreePort(t)
		cfg := filepath.Join(dir, name+".cfg")
		text := fmt.Sprintf(`defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend www
    bind 127.0.0.1:%d
    default_backend app
backend app
    http-request use-service prometheus-exporter if { path /metrics }
    server web1 %s
`, port, web.addr())
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if name == "haproxy" {
			testenv.Start(t, hap, "-db", "-f", cfg)
		} else {
			testenv.Start(t, bin, "run", "-f", cfg)
		}
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		testenv.WaitTCP(t, base[len("http://"):], 10*time.Second)
		s := fetchScrape(t, base+"/metrics")
		if _, ok := s.types["haproxy_backend_status"]; !ok {
			t.Errorf("%s: /metrics through the backend is not the exporter:\n%.300s", name, s.raw)
		}
		resp, err := http.Get(base + "/page")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "web1" {
			t.Errorf("%s: /page answered %q, want the server's", name, body)
		}
	}
}
