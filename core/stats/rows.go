package stats

import (
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
)

// Rows builds the rows of a snapshot in HAProxy's order: for each proxy its
// FRONTEND row, its servers, then its BACKEND row. Every column HAProxy
// 2.6 fills for the row's type is filled with HAProxy's meaning; a column
// HAProxy leaves empty stays empty (docs/observability.md lists the few
// where varde's figure differs).
func Rows(snap Snapshot, checks Checks, now time.Time) []Row {
	var rows []Row
	for _, p := range snap.Proxies {
		if p.Frontend != nil {
			rows = append(rows, frontendRow(p, now))
		}
		if p.Backend == nil {
			continue
		}
		for _, s := range p.Servers {
			rows = append(rows, serverRow(p, s, checks, now))
		}
		rows = append(rows, backendRow(p, checks, now))
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

// meters returns c's live meters, or empty ones for a hand-built snapshot.
func meters(c *Counters) *core.Meters {
	if c.Meters != nil {
		return c.Meters
	}
	return &core.Meters{}
}

func common(r *Row, c *Counters, mode string, now time.Time) {
	m := meters(c)
	r.num("scur", c.CurConns)
	r.num("smax", c.MaxConns)
	r.unum("stot", c.TotalConns)
	r.unum("bin", c.BytesIn)
	r.unum("bout", c.BytesOut)
	r.unum("dresp", c.DeniedResp+m.DeniedResp.Load())
	r.num("rate", int64(m.Sess.At(now.UnixNano())))
	r.num("rate_max", int64(m.Sess.Max()))
	// varde has no failing header rewrite (its header buffers grow), so
	// HAProxy's failed-rewrite counter is truthfully 0.
	r.num("wrew", 0)
	r.unum("eint", m.Eint.Load())
	if mode == "http" {
		statusCols(r, &c.Status)
		// The cache-use rules' lookups and hits (core/proxy/cache.go).
		r.unum("cache_lookups", m.CacheLookups.Load())
		r.unum("cache_hits", m.CacheHits.Load())
	}
	// HAProxy's compression counters (core/proxy/compress*.go).
	r.unum("comp_in", m.CompIn.Load())
	r.unum("comp_out", m.CompOut.Load())
	r.unum("comp_byp", m.CompByp.Load())
	r.unum("comp_rsp", m.CompRsp.Load())
	r.text("mode", mode)
}

var statusNames = [6]string{"hrsp_other", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx"}

func statusCols(r *Row, st *[6]uint64) {
	for i, name := range statusNames {
		r.unum(name, st[i])
	}
}

func frontendRow(p Proxy, now time.Time) Row {
	c := p.Frontend
	m := meters(c)
	r := newRow(TypeFrontend, p.Name, "FRONTEND")
	common(&r, c, p.Mode, now)
	if c.LimitConns > 0 {
		r.num("slim", c.LimitConns)
	}
	r.unum("dreq", c.DeniedReq)
	r.unum("ereq", c.ReqErrors)
	r.unum("dcon", c.DeniedConn)
	r.unum("dses", c.DeniedSess)
	st := "OPEN"
	if p.Stopped {
		st = "STOP"
	}
	r.text("status", st)
	r.num("iid", int64(p.ID))
	r.num("sid", 0)
	r.num("rate_lim", 0)
	r.num("req_rate", int64(m.Req.At(now.UnixNano())))
	r.num("req_rate_max", int64(m.Req.Max()))
	r.unum("req_tot", c.Requests)
	if p.Mode == "http" {
		r.unum("intercepted", m.Intercepted.Load())
	}
	r.num("conn_rate", int64(m.Conn.At(now.UnixNano())))
	r.num("conn_rate_max", int64(m.Conn.Max()))
	r.unum("conn_tot", c.TotalConns)
	r.unum("ssl_sess", c.SSLSessions)
	r.unum("ssl_reused_sess", c.SSLReused)
	// HAProxy counts a connection closed before its ClientHello as a
	// failed handshake; varde's Prometheus counter leaves those out.
	r.unum("ssl_failed_handshake", c.SSLFailures+c.SSLClosed)
	return r
}

// times fills qtime..ttime and their maxima from m over samples requests.
func times(r *Row, m *core.Meters, samples uint64) {
	avg, mx := m.Times.Averages(samples), m.Times.Maxima()
	for i, f := range []string{"qtime", "ctime", "rtime", "ttime"} {
		r.num(f, int64(avg[i]))
		r.num(f+"_max", int64(mx[i]))
	}
}

func lastSess(m *core.Meters, now time.Time) int64 {
	if t := m.Last.Load(); t != 0 {
		return (now.UnixNano() - t) / int64(time.Second)
	}
	return -1
}

// usable is HAProxy's srv_willbe_usable: up, ready (not drained, not in
// maintenance) and weighted.
func usable(s *core.Server) bool { return s.Usable() }

func backendRow(p Proxy, checks Checks, now time.Time) Row {
	c := p.Backend
	m := meters(c)
	r := newRow(TypeBackend, p.Name, "BACKEND")
	common(&r, c, p.Mode, now)
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
	backendState(&r, p, m, checks, now)
	r.num("iid", int64(p.ID))
	r.num("sid", 0)
	backendSums(&r, p, now)
	samples := c.TotalConns
	if p.Mode == "http" {
		r.unum("req_tot", c.Requests)
		samples = c.Requests
	}
	r.unum("cli_abrt", m.CliAbrt.Load())
	r.unum("srv_abrt", m.SrvAbrt.Load())
	times(&r, m, samples)
	r.text("algo", p.Algo)
	// HAProxy 2.6 prints these aggregates as 0 on every BACKEND row
	// (observed with 2.6.12 for backends fully up and fully down; the
	// aggregation lives in its Prometheus exporter).
	for _, f := range []string{"agg_server_status", "agg_server_check_status", "agg_check_status"} {
		r.num(f, 0)
	}
	if p.Cookie != "" {
		r.text("cookie", p.Cookie)
	}
	return r
}

// backendState fills status, weight, uweight, act, bck, chkdown, lastchg
// and downtime. HAProxy counts act/bck and the weight over usable servers
// only (recount_servers, update_backend_weight): a drained, weight-0 or
// DOWN server is not counted, without actives only the first backup (all
// with allbackups), and the backend is DOWN when no server is usable
// (tot_weight == 0); without servers (a stats-only listen) it is UP.
func backendState(r *Row, p Proxy, m *core.Meters, checks Checks, now time.Time) {
	var act, bck, wact, wbck, uwact, uwbck int64
	for _, s := range p.Servers {
		if !usable(s) {
			continue
		}
		uw := userWeight(s, checks)
		if s.Backup {
			bck++
			if bck == 1 || p.AllBackups {
				wbck, uwbck = wbck+int64(s.Weight()), uwbck+uw
			}
		} else {
			act++
			wact += int64(s.Weight())
			uwact += uw
		}
	}
	w, uw := wact, uwact
	if act == 0 {
		w, uw = wbck, uwbck
	}
	if p.NoBalancer {
		w, uw = 0, 0
	}
	m.Up.Update(w > 0 || len(p.Servers) == 0, now.UnixNano())
	down, trans, lastchg, downtime := m.Up.Read(now.UnixNano())
	r.text("status", map[bool]string{false: "UP", true: "DOWN"}[down])
	r.num("weight", w)
	r.num("uweight", uw)
	r.num("act", act)
	r.num("bck", bck)
	r.unum("chkdown", trans)
	r.num("lastchg", lastchg)
	if len(p.Servers) > 0 {
		r.num("downtime", downtime)
	}
}

// backendSums fills lbtot, connect, reuse and lastsess from the servers:
// they count sessions given to a server, so a request answered 503 for
// want of one is none (HAProxy's cum_lbconn, last_sess); in a listen, its
// stats page and other services also count for lastsess, as HAProxy's
// applets.
func backendSums(r *Row, p Proxy, now time.Time) {
	var lbtot, connect, reuse uint64
	var last int64
	for _, s := range p.Servers {
		lbtot += s.Total.Load()
		connect += s.Meters.Connect.Load()
		reuse += s.Meters.Reuse.Load()
		last = max(last, s.Meters.Last.Load())
	}
	if p.Frontend != nil && p.Frontend.Meters != nil {
		last = max(last, p.Frontend.Meters.Applet.Load())
	}
	r.unum("lbtot", lbtot)
	r.unum("connect", connect)
	r.unum("reuse", reuse)
	r.num("lastsess", -1)
	if last != 0 {
		r.num("lastsess", (now.UnixNano()-last)/int64(time.Second))
	}
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
	serverTraffic(&r, p, s, now)
	r.text("status", health.StatusText(s, info, known))
	r.num("lastchg", secondsSince(time.Unix(0, s.LastChange.Load()), now))
	if p.NoBalancer { // HAProxy's servers have no effective weight without a balancer
		r.num("weight", 0)
	} else {
		r.num("weight", int64(s.Weight()))
	}
	r.num("uweight", userWeight(s, checks))
	r.num("act", map[bool]int64{true: 0, false: 1}[s.Backup])
	r.num("bck", map[bool]int64{true: 1, false: 0}[s.Backup])
	if known && info.Enabled {
		checkCols(&r, s, info, now)
	}
	// chkdown also counts a server put in maintenance while up (HAProxy's
	// down_trans).
	if v := r.Get("chkdown"); v.Set {
		r.unum("chkdown", v.uint()+s.Meters.MaintDowns.Load())
	}
	if known && info.Agent {
		r.text("agent_status", info.AgentStatus)
		r.text("last_agt", info.AgentDetail)
	}
	if s.MaxQueue > 0 {
		r.num("qlimit", s.MaxQueue)
	}
	r.num("iid", int64(p.ID))
	r.num("sid", int64(s.ID))
	if known && info.Throttle < 100 {
		r.num("throttle", int64(info.Throttle))
	}
	r.text("addr", serverAddr(s))
	if s.Cookie != "" {
		r.text("cookie", s.Cookie)
	}
	r.text("mode", p.Mode)
	return r
}

// serverTraffic fills a server's counters, rates, responses and times.
func serverTraffic(r *Row, p Proxy, s *core.Server, now time.Time) {
	m := &s.Meters
	r.num("qcur", s.Queued.Load())
	// varde queues at the backend only (a full server's requests wait in
	// the backend's queue), so a server's queue is never used.
	r.num("qmax", 0)
	r.num("scur", s.Active.Load())
	r.num("smax", s.MaxActive.Load())
	if mc := s.MaxConn(); mc > 0 {
		r.num("slim", mc)
	}
	r.unum("stot", s.Total.Load())
	r.unum("bin", s.BytesIn.Load())
	r.unum("bout", s.BytesOut.Load())
	r.unum("dresp", m.DeniedResp.Load())
	r.unum("econ", s.ConnErrors.Load())
	r.unum("eresp", s.RespErrors.Load())
	r.unum("wretr", s.Retries.Load())
	r.unum("wredis", s.Redispatch.Load())
	r.num("wrew", 0)
	r.unum("eint", m.Eint.Load())
	r.unum("lbtot", s.Total.Load())
	r.unum("connect", m.Connect.Load())
	r.unum("reuse", m.Reuse.Load())
	r.num("rate", int64(m.Sess.At(now.UnixNano())))
	r.num("rate_max", int64(m.Sess.Max()))
	samples := s.Total.Load()
	if p.Mode == "http" {
		r.unum("req_tot", m.HTTPReq.Load())
		samples = m.HTTPReq.Load()
		for i, name := range statusNames {
			r.unum(name, m.Resp[i].Load())
		}
	}
	r.unum("cli_abrt", m.CliAbrt.Load())
	r.unum("srv_abrt", m.SrvAbrt.Load())
	r.num("lastsess", lastSess(m, now))
	times(r, m, samples)
}

// checkCols fills the active check's columns (HAProxy: only when the
// check is enabled).
func checkCols(r *Row, s *core.Server, info health.Info, now time.Time) {
	r.unum("chkfail", info.ChkFail)
	r.unum("chkdown", info.ChkDown)
	down := s.DownTotal.Load()
	if since := s.DownSince.Load(); since != 0 {
		down += now.UnixNano() - since
	}
	r.num("downtime", down/int64(time.Second))
	if s.Admin() == core.AdminMaint {
		return // HAProxy pauses the check of a server in maintenance
	}
	r.text("check_status", info.Status)
	if info.Status == "L7OK" || info.Status == "L7OKC" || info.Status == "L7STS" {
		// HAProxy prints the code for these statuses only (>= L57DATA), 0 included.
		r.num("check_code", int64(info.Code))
	}
	if !info.LastCheck.IsZero() { // HAProxy: any completed check, failed connections included
		r.num("check_duration", int64(info.Duration/time.Millisecond))
	}
	// The probe's text as HAProxy's: empty for a passing plain TCP or
	// HTTP check, the server's words for a passing SMTP check,
	// "(tcp-check)" for a passing rule set, the reason of a failure.
	r.text("last_chk", info.Detail)
	r.text("check_desc", info.Desc)
	r.num("check_rise", int64(info.Rise))
	r.num("check_fall", int64(info.Fall))
	r.num("check_health", int64(info.Health))
}

// userWeight is the weight an operator set (HAProxy's uweight), which
// slowstart and agents do not change.
func userWeight(s *core.Server, checks Checks) int64 {
	if checks != nil {
		if info, ok := checks.Info(s); ok {
			return int64(info.UserWeight)
		}
	}
	return int64(s.Weight())
}

func serverAddr(s *core.Server) string {
	a := s.Address()
	if !a.Addr().IsValid() && s.Via.IsUnix() {
		return "unix" // HAProxy's stats for a Unix-domain server
	}
	if !a.Addr().IsValid() {
		return "" // no address yet (init-addr none, resolution maintenance): HAProxy prints nothing
	}
	return a.String() // HAProxy prints the address in use, also for a server given by name
}
