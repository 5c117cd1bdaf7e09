// Package stats is varde's one statistics schema and its renderings: the
// HTML stats page, HAProxy-ordered CSV (`;csv`, `show stat`), JSON (`;json`)
// and the Prometheus collector. Everything is computed at read time from a
// Snapshot of live counters, so the four views always agree.
package stats

import (
	"strconv"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
)

// Counters are the totals of a frontend or backend, copied from the engine.
type Counters struct {
	CurConns, MaxConns, LimitConns int64
	TotalConns                     uint64
	Requests                       uint64
	BytesIn, BytesOut              uint64
	DeniedReq, DeniedResp          uint64
	DeniedConn                     uint64 // tcp-request connection reject (dcon)
	DeniedSess                     uint64 // tcp-request session reject (dses)
	ReqErrors, ConnErrors          uint64
	RespErrors                     uint64
	Retries, Redispatch            uint64
	Status                         [6]uint64 // [0] other, [1] 1xx ... [5] 5xx
	Queued, MaxQueued              int64
	LastSess                       time.Time
	SSLFailures                    uint64 // failed TLS handshakes (frontends)
	SSLSessions, SSLReused         uint64 // full TLS handshakes, resumed ones (frontends)
	SSLClosed                      uint64 // TLS connections closed before their ClientHello (frontends)
	ProxyErrors                    uint64 // bad or missing PROXY headers on accept-proxy binds (frontends)
	// Meters are the live rates, time averages, aborts and (backends)
	// UP/DOWN history; nil in hand-built snapshots.
	Meters *core.Meters
}

// Proxy is one frontend, backend or listen section. A `listen` has both
// Frontend and Backend set.
type Proxy struct {
	Name   string
	ID     int    // HAProxy's iid: 1-based position in the configuration
	Mode   string // http or tcp
	Algo   string // balance algorithm, backends only
	Cookie string // persistence cookie name, backends only
	// AllBackups is `option allbackups`: every usable backup shares the
	// traffic when no active server is usable (else only the first).
	AllBackups bool
	Frontend   *Counters
	Backend    *Counters
	Servers    []*core.Server
	Stopped    bool // frontend not listening
	// NoBalancer is a backend with `dispatch` and no balance: HAProxy
	// gives its load balancer no weight, so the BACKEND row shows weight
	// 0, and DOWN when it has servers.
	NoBalancer bool
}

// Extra is a process-level value from another subsystem (log drops, VRRP
// state) that only the Prometheus collector and `show info` export.
type Extra struct {
	Subsystem string // e.g. "log", "vrrp"
	Name      string // e.g. "dropped_records_total"
	Help      string
	Counter   bool
	Value     float64
	Proxy     string // optional label value
	// NoMetric keeps the value off Prometheus (shown on the stats page
	// only): the subsystem exports it with its own labels.
	NoMetric bool
}

// Info is `show info`.
type Info struct {
	Name     string
	Version  string
	Pid      int
	Started  time.Time
	CurConns int64
	MaxConn  int64
	Node     string
}

// Snapshot is everything the views render.
type Snapshot struct {
	Info    Info
	Proxies []Proxy
	Extra   []Extra
}

// Source produces snapshots; the engine adapter implements it.
type Source interface {
	Snapshot() Snapshot
}

// SourceFunc adapts a function to Source.
type SourceFunc func() Snapshot

// Snapshot calls f.
func (f SourceFunc) Snapshot() Snapshot { return f() }

// Checks gives the health state of a server; *health.Manager implements it.
type Checks interface {
	Info(s *core.Server) (health.Info, bool)
}

// Fields is HAProxy's CSV column order (2.6, `show stat` up to the module
// separator); tools such as hatop and the Datadog check index by position.
var Fields = strings.Split("pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status", ",")

// ModuleFields are the columns of HAProxy's extra stats modules that varde
// fills: the SSL module's, in HAProxy 2.6's order. The CSV prints them
// after HAProxy's "-" separator column; in JSON their pos continues
// Fields' numbering (the separator has none), as HAProxy's typed output.
// HAProxy's h2 and h1 modules follow in HAProxy and are not printed.
var ModuleFields = []string{"ssl_sess", "ssl_reused_sess", "ssl_failed_handshake"}

// columns are Fields then ModuleFields: what a Row's Values index.
var columns = append(append([]string(nil), Fields...), ModuleFields...)

var fieldPos = func() map[string]int {
	m := make(map[string]int, len(columns))
	for i, f := range columns {
		m[f] = i
	}
	return m
}()

// Row types, HAProxy's `type` column.
const (
	TypeFrontend = 0
	TypeBackend  = 1
	TypeServer   = 2
)

// Value is one cell: empty, a number or text.
type Value struct {
	Set  bool
	Num  bool
	N    int64
	Text string
}

func (v Value) uint() uint64 {
	if !v.Num || v.N < 0 {
		return 0
	}
	return uint64(v.N)
}

func (v Value) String() string {
	switch {
	case !v.Set:
		return ""
	case v.Num:
		return strconv.FormatInt(v.N, 10)
	}
	return v.Text
}

// Row is one CSV line: a frontend, a backend or a server.
type Row struct {
	Type   int
	Proxy  string
	Name   string
	Server *core.Server // servers only
	Check  health.Info  // servers only
	Values []Value      // indexed like Fields then ModuleFields
}

// Get returns the named field.
func (r *Row) Get(name string) Value { return r.Values[fieldPos[name]] }

func (r *Row) num(name string, n int64) { r.Values[fieldPos[name]] = Value{Set: true, Num: true, N: n} }
func (r *Row) unum(name string, n uint64) {
	r.num(name, int64(min(n, 1<<63-1)))
}
func (r *Row) text(name, s string) { r.Values[fieldPos[name]] = Value{Set: true, Text: s} }

func secondsSince(t time.Time, now time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return int64(now.Sub(t) / time.Second)
}
