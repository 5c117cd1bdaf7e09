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
}

// Proxy is one frontend, backend or listen section. A `listen` has both
// Frontend and Backend set.
type Proxy struct {
	Name     string
	ID       int    // HAProxy's iid: 1-based position in the configuration
	Mode     string // http or tcp
	Algo     string // balance algorithm, backends only
	Frontend *Counters
	Backend  *Counters
	Servers  []*core.Server
	Stopped  bool // frontend not listening
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

// Rows builds the rows of a snapshot in HAProxy's order: for each proxy its
// FRONTEND row, its servers, then its BACKEND row.
func Rows(snap Snapshot, checks Checks, now time.Time) []Row {
	var rows []Row
	for _, p := range snap.Proxies {
		if p.Frontend != nil {
			rows = append(rows, frontendRow(p, now))
		}
		if p.Backend == nil {
			continue
		}
		var act, bck int64
		for _, s := range p.Servers {
			r := serverRow(p, s, checks, now)
			rows = append(rows, r)
			if s.IsUp() && s.Admin() != core.AdminMaint {
				if s.Backup {
					bck++
				} else {
					act++
				}
			}
		}
		rows = append(rows, backendRow(p, act, bck, now))
	}
	return rows
}

func newRow(typ int, proxy, name string) Row {
	r := Row{Type: typ, Proxy: proxy, Name: name, Values: make([]Value, len(columns))}
	r.text("pxname", proxy)
	r.text("svname", name)
	r.num("type", int64(typ))
	r.num("pid", 1)
	return r
}

func common(r *Row, c *Counters, mode string) {
	r.num("scur", c.CurConns)
	r.num("smax", c.MaxConns)
	r.unum("stot", c.TotalConns)
	r.unum("bin", c.BytesIn)
	r.unum("bout", c.BytesOut)
	r.unum("dresp", c.DeniedResp)
	r.num("rate", 0)
	r.num("rate_max", 0)
	if mode == "http" {
		for i, name := range []string{"hrsp_other", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx"} {
			r.unum(name, c.Status[i])
		}
	}
	r.text("mode", mode)
}

func frontendRow(p Proxy, now time.Time) Row {
	c := p.Frontend
	r := newRow(TypeFrontend, p.Name, "FRONTEND")
	common(&r, c, p.Mode)
	if c.LimitConns > 0 {
		r.num("slim", c.LimitConns)
	}
	r.unum("dreq", c.DeniedReq)
	r.unum("ereq", c.ReqErrors)
	r.unum("dcon", c.DeniedConn)
	st := "OPEN"
	if p.Stopped {
		st = "STOP"
	}
	r.text("status", st)
	r.num("iid", int64(p.ID))
	r.num("sid", 0)
	r.num("rate_lim", 0)
	if p.Mode == "http" {
		r.num("req_rate", 0)
		r.num("req_rate_max", 0)
		r.unum("req_tot", c.Requests)
	}
	r.num("conn_rate", 0)
	r.num("conn_rate_max", 0)
	r.unum("conn_tot", c.TotalConns)
	r.unum("ssl_sess", c.SSLSessions)
	r.unum("ssl_reused_sess", c.SSLReused)
	// HAProxy counts a connection closed before its ClientHello as a
	// failed handshake; varde's Prometheus counter leaves those out.
	r.unum("ssl_failed_handshake", c.SSLFailures+c.SSLClosed)
	return r
}

func backendRow(p Proxy, act, bck int64, now time.Time) Row {
	c := p.Backend
	r := newRow(TypeBackend, p.Name, "BACKEND")
	common(&r, c, p.Mode)
	r.num("qcur", c.Queued)
	r.num("qmax", c.MaxQueued)
	if c.LimitConns > 0 {
		r.num("slim", c.LimitConns)
	}
	r.unum("dreq", c.DeniedReq)
	r.unum("econ", c.ConnErrors)
	r.unum("eresp", c.RespErrors)
	r.unum("wretr", c.Retries)
	r.unum("wredis", c.Redispatch)
	// HAProxy: a backend without servers (a stats-only listen) is UP.
	st := "UP"
	if act+bck == 0 && len(p.Servers) > 0 {
		st = "DOWN"
	}
	r.text("status", st)
	var w, uw int64
	var lastchg, down int64
	var last int64
	for _, s := range p.Servers {
		if s.IsUp() && s.Admin() != core.AdminMaint && (!s.Backup || act == 0) {
			w += int64(s.Weight())
			uw += int64(s.ConfigWeight)
		}
		if lc := s.LastChange.Load(); lc > last {
			last = lc
		}
	}
	if last > 0 {
		lastchg = int64(now.Sub(time.Unix(0, last)) / time.Second)
	}
	_ = down
	r.num("weight", w)
	r.num("uweight", uw)
	r.num("act", act)
	r.num("bck", bck)
	r.num("chkdown", 0)
	r.num("lastchg", lastchg)
	r.num("downtime", 0)
	r.num("iid", int64(p.ID))
	r.num("sid", 0)
	r.unum("lbtot", c.TotalConns)
	if p.Mode == "http" {
		r.unum("req_tot", c.Requests)
	}
	r.num("lastsess", secondsSince(c.LastSess, now))
	r.text("algo", p.Algo)
	return r
}

func serverRow(p Proxy, s *core.Server, checks Checks, now time.Time) Row {
	r := newRow(TypeServer, p.Name, s.Name)
	r.Server = s
	var info health.Info
	known := false
	if checks != nil {
		info, known = checks.Info(s)
	}
	r.Check = info
	r.num("qcur", s.Queued.Load())
	r.num("qmax", 0)
	r.num("scur", s.Active.Load())
	r.num("smax", s.MaxActive.Load())
	if m := s.MaxConn(); m > 0 {
		r.num("slim", m)
	}
	r.unum("stot", s.Total.Load())
	r.unum("bin", s.BytesIn.Load())
	r.unum("bout", s.BytesOut.Load())
	r.num("dresp", 0)
	r.unum("econ", s.ConnErrors.Load())
	r.unum("eresp", s.RespErrors.Load())
	r.unum("wretr", s.Retries.Load())
	r.unum("wredis", s.Redispatch.Load())
	r.text("status", health.StatusText(s, info, known))
	r.num("weight", int64(s.Weight()))
	uw := int64(s.Weight())
	if known {
		uw = int64(info.UserWeight)
	}
	r.num("uweight", uw)
	if s.Backup {
		r.num("act", 0)
		r.num("bck", 1)
	} else {
		r.num("act", 1)
		r.num("bck", 0)
	}
	if known && info.Enabled {
		r.unum("chkfail", info.ChkFail)
		r.unum("chkdown", info.ChkDown)
		r.text("check_status", info.Status)
		if info.Status == "L7OK" || info.Status == "L7OKC" || info.Status == "L7STS" {
			// HAProxy prints the code for these statuses only (>= L57DATA), 0 included.
			r.num("check_code", int64(info.Code))
		}
		if !info.LastCheck.IsZero() && info.Status != "L4CON" && info.Status != "L4TOUT" {
			r.num("check_duration", int64(info.Duration/time.Millisecond))
		}
		r.text("last_chk", info.Detail)
		r.text("check_desc", info.Desc)
		r.num("check_rise", int64(info.Rise))
		r.num("check_fall", int64(info.Fall))
		r.num("check_health", int64(info.Health))
	}
	if known && info.Agent {
		r.text("agent_status", info.AgentStatus)
		r.text("last_agt", info.AgentDetail)
	}
	r.num("lastchg", secondsSince(time.Unix(0, s.LastChange.Load()), now))
	down := s.DownTotal.Load()
	if since := s.DownSince.Load(); since != 0 {
		down += now.UnixNano() - since
	}
	r.num("downtime", down/int64(time.Second))
	if s.MaxQueue > 0 {
		r.num("qlimit", s.MaxQueue)
	}
	r.num("iid", int64(p.ID))
	r.num("sid", int64(s.ID))
	if known && info.Throttle < 100 {
		r.num("throttle", int64(info.Throttle))
	}
	r.unum("lbtot", s.Total.Load())
	r.num("rate", 0)
	r.num("rate_max", 0)
	if p.Mode == "http" {
		for _, name := range []string{"hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"} {
			r.num(name, 0)
		}
	}
	r.num("lastsess", -1)
	addr := s.Addr.String()
	if s.Host != "" && !strings.Contains(s.Host, ":") {
		addr = s.Host + ":" + strconv.Itoa(int(s.Addr.Port()))
	}
	r.text("addr", addr)
	if s.Cookie != "" {
		r.text("cookie", s.Cookie)
	}
	r.text("mode", p.Mode)
	return r
}
