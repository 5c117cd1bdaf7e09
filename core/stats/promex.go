package stats

import (
	"math"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// HAProxy-compatible metrics: the families of HAProxy 2.6's built-in
// `prometheus-exporter` service (addons/promex), with its names, types
// and labels (proxy, server, code, state), so that dashboards and alerts
// written for HAProxy keep working after a migration.
//
// Every value is read from the stats schema's rows (the CSV columns of
// `show stat`), exactly as HAProxy's exporter reads its stats fields: the
// CSV, the stats page and Prometheus cannot disagree, and a column the
// schema fills becomes a metric without another change here. A family is
// exported for the rows whose column is filled; a column the schema leaves
// empty is not turned into a made-up 0. The few columns HAProxy itself
// leaves empty for "unlimited" (slim, qlimit, throttle) are
// exported as NaN, as HAProxy does.

// Scope is a set of HAProxy exporter scopes (`?scope=...`).
type Scope uint8

// The scopes. ScopeVarde is varde's extension: the varde_* families.
const (
	ScopeGlobal Scope = 1 << iota
	ScopeFrontend
	ScopeBackend
	ScopeServer
	ScopeVarde
	ScopeStickTable
	ScopeAll = ScopeGlobal | ScopeFrontend | ScopeBackend | ScopeServer | ScopeVarde | ScopeStickTable
)

// family is one HAProxy metric family fed from a stats column.
type family struct {
	name  string // without the haproxy_<object>_ prefix
	help  string
	typ   prometheus.ValueType
	field string  // CSV column
	scale float64 // 0.001 for the millisecond columns, else 1
	http  bool    // HTTP proxies only, as HAProxy
	nan   bool    // an empty cell is exported as NaN (HAProxy: no limit)
	// never marks a feature varde does not have and refuses in the
	// configuration (compression, cache, tcp-request session, ...): the
	// HAProxy counter is truly 0, so an empty cell is exported as 0 and
	// dashboards show 0 rather than "no data".
	never bool
}

const (
	gauge   = prometheus.GaugeValue
	counter = prometheus.CounterValue
)

func col(name, field string, typ prometheus.ValueType, help string) family {
	return family{name: name, help: help, typ: typ, field: field, scale: 1}
}

// msCol is a family over a millisecond column, exported in seconds.
func msCol(name, field, help string) family {
	return family{name: name, help: help, typ: gauge, field: field, scale: 0.001}
}

func (x family) onlyHTTP() family { x.http = true; return x }
func (x family) emptyNaN() family { x.nan = true; return x }
func (x family) absent() family   { x.never = true; return x }

// Status-like families computed from several columns, named here so the
// tables below keep HAProxy's order.
const (
	specialStatus      = "status"
	specialResponses   = "http_responses_total"
	specialCheckStatus = "check_status"
	specialCheckCode   = "check_code"
	specialAggServer   = "agg_server_status"
	specialAggSrvCheck = "agg_server_check_status"
	specialAggCheck    = "agg_check_status"
)

func special(name, help string) family {
	return family{name: name, help: help, typ: gauge, scale: 1}
}

var frontendFamilies = []family{
	col("current_sessions", "scur", gauge, "Current number of active sessions."),
	col("max_sessions", "smax", gauge, "Maximum observed number of active sessions."),
	col("limit_sessions", "slim", gauge, "Configured session limit.").emptyNaN(),
	col("sessions_total", "stot", counter, "Total number of sessions."),
	col("bytes_in_total", "bin", counter, "Total number of request bytes received."),
	col("bytes_out_total", "bout", counter, "Total number of response bytes sent."),
	col("requests_denied_total", "dreq", counter, "Total number of denied requests."),
	col("responses_denied_total", "dresp", counter, "Total number of denied responses."),
	col("request_errors_total", "ereq", counter, "Total number of request errors."),
	special(specialStatus, "Current status of the frontend (state label: UP or DOWN)."),
	col("limit_session_rate", "rate_lim", gauge, "Configured limit on new sessions per second."),
	col("max_session_rate", "rate_max", gauge, "Maximum observed number of sessions per second."),
	{name: specialResponses, help: "Total number of HTTP responses by status class (code label).", typ: counter, scale: 1, http: true},
	col("http_requests_rate_max", "req_rate_max", gauge, "Maximum observed number of HTTP requests per second.").onlyHTTP(),
	col("http_requests_total", "req_tot", counter, "Total number of HTTP requests received.").onlyHTTP(),
	col("http_comp_bytes_in_total", "comp_in", counter, "Total number of HTTP response bytes fed to the compressor.").onlyHTTP(),
	col("http_comp_bytes_out_total", "comp_out", counter, "Total number of HTTP response bytes emitted by the compressor.").onlyHTTP(),
	col("http_comp_bytes_bypassed_total", "comp_byp", counter, "Total number of bytes that bypassed the HTTP compressor.").onlyHTTP(),
	col("http_comp_responses_total", "comp_rsp", counter, "Total number of HTTP responses that were compressed.").onlyHTTP(),
	col("connections_rate_max", "conn_rate_max", gauge, "Maximum observed number of connections per second."),
	col("connections_total", "conn_tot", counter, "Total number of connections."),
	col("intercepted_requests_total", "intercepted", counter, "Total number of requests answered by the proxy itself.").onlyHTTP(),
	col("denied_connections_total", "dcon", counter, "Total number of connections denied by tcp-request connection rules."),
	col("denied_sessions_total", "dses", counter, "Total number of sessions denied by tcp-request session rules."),
	col("failed_header_rewriting_total", "wrew", counter, "Total number of failed header rewrites."),
	col("http_cache_lookups_total", "cache_lookups", counter, "Total number of HTTP cache lookups.").onlyHTTP().absent(),
	col("http_cache_hits_total", "cache_hits", counter, "Total number of HTTP cache hits.").onlyHTTP().absent(),
	col("internal_errors_total", "eint", counter, "Total number of internal errors."),
}

// commonBackServer are the families backends and servers share, in
// HAProxy's order, up to the status.
func queueAndTraffic(denied bool) []family {
	out := []family{
		col("current_queue", "qcur", gauge, "Current number of queued requests."),
		col("max_queue", "qmax", gauge, "Maximum observed number of queued requests."),
		col("current_sessions", "scur", gauge, "Current number of active sessions."),
		col("max_sessions", "smax", gauge, "Maximum observed number of active sessions."),
		col("limit_sessions", "slim", gauge, "Configured session limit.").emptyNaN(),
		col("sessions_total", "stot", counter, "Total number of sessions."),
		col("bytes_in_total", "bin", counter, "Total number of request bytes received."),
		col("bytes_out_total", "bout", counter, "Total number of response bytes sent."),
	}
	if denied {
		out = append(out, col("requests_denied_total", "dreq", counter, "Total number of denied requests."))
	}
	return append(out,
		col("responses_denied_total", "dresp", counter, "Total number of denied responses."),
		col("connection_errors_total", "econ", counter, "Total number of connection errors."),
		col("response_errors_total", "eresp", counter, "Total number of response errors."),
		col("retry_warnings_total", "wretr", counter, "Total number of retry warnings."),
		col("redispatch_warnings_total", "wredis", counter, "Total number of redispatch warnings."),
	)
}

// timings are the moving averages and maxima of the four phases.
func timings(prefix string) []family {
	names := []struct{ name, field, what string }{
		{"queue_time", "qtime", "time spent in the queue"},
		{"connect_time", "ctime", "connect time"},
		{"response_time", "rtime", "response time"},
		{"total_time", "ttime", "total session time"},
	}
	var out []family
	for _, n := range names {
		if prefix == "avg" {
			out = append(out, msCol(n.name+"_average_seconds", n.field, "Average "+n.what+" over the last 1024 successful connections, in seconds."))
		} else {
			out = append(out, msCol("max_"+n.name+"_seconds", n.field+"_max", "Maximum observed "+n.what+", in seconds."))
		}
	}
	return out
}

var backendFamilies = func() []family {
	out := queueAndTraffic(true)
	out = append(out,
		special(specialStatus, "Current status of the backend (state label: UP or DOWN)."),
		col("weight", "weight", gauge, "Total effective weight of the servers taking traffic."),
		col("active_servers", "act", gauge, "Current number of active servers."),
		col("backup_servers", "bck", gauge, "Current number of backup servers."),
		col("check_up_down_total", "chkdown", counter, "Total number of UP->DOWN transitions."),
		col("check_last_change_seconds", "lastchg", gauge, "Number of seconds since the last UP<->DOWN transition."),
		col("downtime_seconds_total", "downtime", counter, "Total downtime, in seconds."),
		col("loadbalanced_total", "lbtot", counter, "Total number of times a server was selected."),
		col("max_session_rate", "rate_max", gauge, "Maximum observed number of sessions per second."),
		family{name: specialResponses, help: "Total number of HTTP responses by status class (code label).", typ: counter, scale: 1, http: true},
		col("http_requests_total", "req_tot", counter, "Total number of HTTP requests.").onlyHTTP(),
		col("client_aborts_total", "cli_abrt", counter, "Total number of data transfers aborted by the client."),
		col("server_aborts_total", "srv_abrt", counter, "Total number of data transfers aborted by the server."),
		col("http_comp_bytes_in_total", "comp_in", counter, "Total number of HTTP response bytes fed to the compressor.").onlyHTTP(),
		col("http_comp_bytes_out_total", "comp_out", counter, "Total number of HTTP response bytes emitted by the compressor.").onlyHTTP(),
		col("http_comp_bytes_bypassed_total", "comp_byp", counter, "Total number of bytes that bypassed the HTTP compressor.").onlyHTTP(),
		col("http_comp_responses_total", "comp_rsp", counter, "Total number of HTTP responses that were compressed.").onlyHTTP(),
		col("last_session_seconds", "lastsess", gauge, "Number of seconds since the last session was assigned."),
	)
	out = append(out, timings("avg")...)
	out = append(out,
		col("failed_header_rewriting_total", "wrew", counter, "Total number of failed header rewrites."),
		col("connection_attempts_total", "connect", counter, "Total number of connection establishment attempts."),
		col("connection_reuses_total", "reuse", counter, "Total number of connection reuses."),
		col("http_cache_lookups_total", "cache_lookups", counter, "Total number of HTTP cache lookups.").onlyHTTP().absent(),
		col("http_cache_hits_total", "cache_hits", counter, "Total number of HTTP cache hits.").onlyHTTP().absent(),
	)
	out = append(out, timings("max")...)
	return append(out,
		col("internal_errors_total", "eint", counter, "Total number of internal errors."),
		col("uweight", "uweight", gauge, "Total user weight of the servers."),
		special(specialAggServer, "Number of servers in each state (state label)."),
		special(specialAggSrvCheck, "Number of servers in each state (state label; deprecated by HAProxy, same as agg_server_status)."),
		special(specialAggCheck, "Number of servers in each check status (state label)."),
	)
}()

var serverFamilies = func() []family {
	out := queueAndTraffic(false)
	out = append(out,
		special(specialStatus, "Current status of the server (state label: DOWN, UP, MAINT, DRAIN or NOLB)."),
		col("weight", "weight", gauge, "Current effective weight of the server."),
		col("check_failures_total", "chkfail", counter, "Total number of failed health checks."),
		col("check_up_down_total", "chkdown", counter, "Total number of UP->DOWN transitions."),
		col("check_last_change_seconds", "lastchg", gauge, "Number of seconds since the last UP<->DOWN transition."),
		col("downtime_seconds_total", "downtime", counter, "Total downtime, in seconds."),
		col("queue_limit", "qlimit", gauge, "Configured maxqueue of the server.").emptyNaN(),
		col("current_throttle", "throttle", gauge, "Current slowstart throttle, in percent.").emptyNaN(),
		col("loadbalanced_total", "lbtot", counter, "Total number of times the server was selected."),
		col("max_session_rate", "rate_max", gauge, "Maximum observed number of sessions per second."),
		special(specialCheckStatus, "Status of the last health check (state label: HAProxy's check status codes)."),
		special(specialCheckCode, "Layer 5-7 code of the last health check, 0 when none."),
		msCol("check_duration_seconds", "check_duration", "Duration of the last health check, in seconds."),
		family{name: specialResponses, help: "Total number of HTTP responses by status class (code label).", typ: counter, scale: 1, http: true},
		col("client_aborts_total", "cli_abrt", counter, "Total number of data transfers aborted by the client."),
		col("server_aborts_total", "srv_abrt", counter, "Total number of data transfers aborted by the server."),
		col("last_session_seconds", "lastsess", gauge, "Number of seconds since the last session was assigned."),
	)
	out = append(out, timings("avg")...)
	out = append(out,
		col("failed_header_rewriting_total", "wrew", counter, "Total number of failed header rewrites."),
		col("connection_attempts_total", "connect", counter, "Total number of connection establishment attempts."),
		col("connection_reuses_total", "reuse", counter, "Total number of connection reuses."),
		col("idle_connections_current", "srv_icur", gauge, "Current number of idle connections available for reuse."),
		col("idle_connections_limit", "src_ilim", gauge, "Limit on the number of idle connections."),
	)
	out = append(out, timings("max")...)
	return append(out,
		col("internal_errors_total", "eint", counter, "Total number of internal errors."),
		col("unsafe_idle_connections_current", "idle_conn_cur", gauge, "Current number of unsafe idle connections."),
		col("safe_idle_connections_current", "safe_conn_cur", gauge, "Current number of safe idle connections."),
		col("used_connections_current", "used_conn_cur", gauge, "Current number of connections in use."),
		col("need_connections_current", "need_conn_est", gauge, "Estimated number of connections needed."),
		col("uweight", "uweight", gauge, "Current user weight of the server."),
	)
}()

// Label values of the status families, in HAProxy's order.
var (
	frontStates = []string{"DOWN", "UP"}
	backStates  = []string{"DOWN", "UP"}
	srvStates   = []string{"DOWN", "UP", "MAINT", "DRAIN", "NOLB"}
	// checkStates are HAProxy's check status codes that end a check
	// (those the exporter lists); in-progress ones (INI, UNK) have none.
	checkStates = []string{"HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT", "L7RSP", "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK"}
	codeClasses = []struct{ label, field string }{{"1xx", "hrsp_1xx"}, {"2xx", "hrsp_2xx"}, {"3xx", "hrsp_3xx"}, {"4xx", "hrsp_4xx"}, {"5xx", "hrsp_5xx"}, {"other", "hrsp_other"}}
)

// serverState maps a server row's status text to HAProxy's exporter
// state (promex_srv_status): MAINT wins, DRAIN is an up server being
// drained, "no check" and "UP 1/3" (going down) are UP, "DOWN 1/2"
// (coming up) is DOWN.
func serverState(status string) string {
	for _, s := range []string{"MAINT", "DRAIN", "NOLB", "DOWN"} {
		if strings.HasPrefix(status, s) {
			return s
		}
	}
	if strings.HasPrefix(status, "UP") || status == "no check" {
		return "UP"
	}
	return "DOWN"
}

// checkState is a row's check status without HAProxy's in-progress "* ".
func checkState(r *Row) (string, bool) {
	v := r.Get("check_status")
	if !v.Set {
		return "", false
	}
	return strings.TrimPrefix(v.Text, "* "), true
}

// cell is a row's column as a float; ok is false for an empty cell.
func cell(r *Row, field string, scale float64) (float64, bool) {
	v := r.Get(field)
	if !v.Set || !v.Num {
		return math.NaN(), false
	}
	return float64(v.N) * scale, true
}

func isHTTP(r *Row) bool { return r.Get("mode").Text == "http" }
