package stats

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
)

// pageOpts are the stats URI's options after `stats uri`, as HAProxy's:
// ;csv ;json ;up (hide DOWN servers) ;norefresh ;st=RESULT and scope=NAME
// (only that proxy; also as a query parameter).
type pageOpts struct {
	CSV, JSON, HideDown, NoRefresh bool
	Notice, Scope                  string
}

func parseOpts(opts string) pageOpts {
	o := pageOpts{CSV: strings.Contains(opts, ";csv"), JSON: strings.Contains(opts, ";json"),
		HideDown: strings.Contains(opts, ";up"), NoRefresh: strings.Contains(opts, ";norefresh")}
	o.Notice = optValue(opts, ";st=")
	o.Scope = optValue(opts, "scope=")
	return o
}

func optValue(opts, key string) string {
	i := strings.Index(opts, key)
	if i < 0 {
		return ""
	}
	v := opts[i+len(key):]
	if j := strings.IndexAny(v, ";&"); j >= 0 {
		v = v[:j]
	}
	return v
}

// filterRows keeps the scope's proxy (exact name, as HAProxy) and, with
// hideDown (HAProxy's ;up), drops servers in maintenance or fully DOWN
// (one rising, "DOWN 1/2", stays) and adds " (up/total)" to the BACKEND
// status, as HAProxy does with that option.
func filterRows(rows []Row, o pageOpts) []Row {
	if o.Scope == "" && !o.HideDown {
		return rows
	}
	out := rows[:0:0]
	var nbup, nbsrv int
	for _, r := range rows {
		if o.Scope != "" && r.Proxy != o.Scope {
			continue
		}
		if o.HideDown {
			switch st := r.Get("status").Text; r.Type {
			case TypeServer:
				nbsrv++
				if r.Server.IsUp() && r.Server.Admin() != core.AdminMaint {
					nbup++
				}
				if strings.HasPrefix(st, "MAINT") || st == "DOWN" {
					continue
				}
			case TypeBackend:
				r.Values = append([]Value(nil), r.Values...)
				r.text("status", fmt.Sprintf("%s (%d/%d)", st, nbup, nbsrv))
				nbup, nbsrv = 0, 0
			}
		}
		out = append(out, r)
	}
	return out
}

// link builds a stats URL with the given options.
func (h *Handler) link(o pageOpts, extra string) string {
	u := h.cfg.URI
	if o.HideDown {
		u += ";up"
	}
	if o.NoRefresh {
		u += ";norefresh"
	}
	u += extra
	if o.Scope != "" {
		u += ";scope=" + o.Scope
	}
	return u
}

func (h *Handler) page(w io.Writer, rows []Row, now time.Time, admin bool, o pageOpts) error {
	snap := h.src.Snapshot()
	pg := htmlPage{Title: "Statistics Report", Node: h.cfg.Node, Desc: h.cfg.Desc, Version: h.cfg.Version, Now: now.UTC().Format(time.RFC1123),
		Pid: os.Getpid(), Refresh: int(h.cfg.Refresh / time.Second), Admin: admin, URI: h.cfg.URI,
		Threads: runtime.GOMAXPROCS(0), CurConns: snap.Info.CurConns, MaxConn: snap.Info.MaxConn,
		Scope: o.Scope, HideDown: o.HideDown, NoRefresh: o.NoRefresh}
	if o.NoRefresh {
		pg.Refresh = 0
	}
	pg.ScopePath, pg.ScopeQuery, _ = strings.Cut(h.cfg.URI, "?")
	toggle := o
	toggle.HideDown = !o.HideDown
	pg.LinkHide = h.link(toggle, "")
	toggle = o
	toggle.NoRefresh = !o.NoRefresh
	pg.LinkRefresh = h.link(toggle, "")
	pg.LinkSelf = h.link(o, "")
	pg.LinkCSV, pg.LinkJSON = h.link(pageOpts{Scope: o.Scope}, ";csv"), h.link(pageOpts{Scope: o.Scope}, ";json")
	if !snap.Info.Started.IsZero() {
		pg.Uptime = human(now.Sub(snap.Info.Started))
	}
	if h.cfg.HideVersion {
		pg.Version = ""
	}
	pg.Notice = map[string]string{"DONE": "Action processed successfully.", "PART": "Action not processed for every server.",
		"NONE": "Nothing has changed."}[o.Notice]
	if h.cfg.Modules {
		pg.Modules = moduleNames()
	}
	pxs := make(map[string]Proxy, len(snap.Proxies))
	for _, p := range snap.Proxies {
		pxs[p.Name] = p
	}
	idx := map[string]int{}
	for _, r := range rows {
		i, ok := idx[r.Proxy]
		if !ok {
			i = len(pg.Proxies)
			idx[r.Proxy] = i
			pg.Proxies = append(pg.Proxies, htmlProxy{Name: r.Proxy})
			if h.cfg.Legends {
				pg.Proxies[i].Legend = proxyLegend(pxs[r.Proxy])
			}
		}
		hr := htmlRowOf(r, admin)
		if h.cfg.Legends {
			hr.Legend = rowLegend(r)
		}
		if h.cfg.Modules {
			hr.Modules = rowModules(r)
		}
		if r.Type == TypeFrontend {
			pg.SessRate += r.Get("rate").N
		}
		if r.Type == TypeBackend && h.cfg.History != nil {
			pg.Proxies[i].History = h.cfg.History.Sparkline(r.Proxy)
		}
		if hr.Selectable {
			pg.Proxies[i].Admin = true
		}
		pg.Proxies[i].Rows = append(pg.Proxies[i].Rows, hr)
	}
	for i := range pg.Proxies {
		pg.Proxies[i].Cols = 33 + len(pg.Modules)
		if pg.Proxies[i].Admin {
			pg.Proxies[i].Cols++
		}
	}
	pg.Extra = snap.Extra
	return pageTmpl.Execute(w, pg)
}

func htmlRowOf(r Row, admin bool) htmlRow {
	g := func(n string) string { return r.Get(n).String() }
	hr := htmlRow{Name: r.Name, Status: g("status"), QCur: g("qcur"), QMax: g("qmax"), QLim: g("qlimit"),
		SCur: g("scur"), SMax: g("smax"), SLim: g("slim"), STot: g("stot"), BIn: g("bin"), BOut: g("bout"),
		DReq: g("dreq"), DResp: g("dresp"), EReq: g("ereq"), ECon: g("econ"), EResp: g("eresp"),
		WRetr: g("wretr"), WRedis: g("wredis"), Weight: g("weight"), Act: g("act"), Bck: g("bck"),
		ChkFail: g("chkfail"), ChkDown: g("chkdown"), Throttle: g("throttle"),
		Rate: g("rate"), RateMax: g("rate_max"), RateLim: g("rate_lim"), TotTip: totalTip(r), LbTot: g("lbtot")}
	if v := r.Get("lastsess"); v.Set && v.N >= 0 {
		hr.LastSess = human(time.Duration(v.N) * time.Second)
	} else if v.Set {
		hr.LastSess = "?"
	}
	if v := r.Get("lastchg"); v.Set && v.N >= 0 {
		hr.LastChange = human(time.Duration(v.N) * time.Second)
	}
	if v := r.Get("downtime"); v.Set && v.N > 0 {
		hr.Downtime = human(time.Duration(v.N) * time.Second)
	}
	switch r.Type {
	case TypeFrontend:
		hr.Class = "frontend"
	case TypeBackend:
		hr.Class = "backend"
		if hr.Status == "DOWN" {
			hr.Class = "backend down"
		}
	case TypeServer:
		hr.Server = true
		hr.Class = stateClass(r)
		if c := r.Check; c.Enabled && r.Get("check_status").Set { // paused in maintenance
			hr.LastChk = c.Status
			if c.Code > 0 {
				hr.LastChk += fmt.Sprintf("/%d", c.Code)
			}
			if !c.LastCheck.IsZero() {
				hr.LastChk += fmt.Sprintf(" in %dms", c.Duration/time.Millisecond)
			}
			hr.Check = c.Desc
			if c.Detail != "" {
				hr.Check += ": " + c.Detail
			}
		}
		hr.Selectable = admin
	}
	return hr
}

// totalTip is the tooltip of the Total sessions cell, as HAProxy's: the
// HTTP requests and responses by class, and the time averages.
func totalTip(r Row) string {
	g := func(n string) string { return r.Get(n).String() }
	var b strings.Builder
	if v := g("req_tot"); v != "" {
		fmt.Fprintf(&b, "Cum. HTTP requests: %s\n", v)
	}
	for _, c := range []string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"} {
		if v := g("hrsp_" + c); v != "" {
			fmt.Fprintf(&b, "- HTTP %s responses: %s\n", c, v)
		}
	}
	if v := g("lbtot"); v != "" && r.Type != TypeFrontend {
		fmt.Fprintf(&b, "Cum. load-balanced sessions: %s\n", v)
	}
	if v := g("cli_abrt"); v != "" {
		fmt.Fprintf(&b, "Aborted by client: %s, by server: %s\n", v, g("srv_abrt"))
	}
	if v := g("qtime"); v != "" {
		fmt.Fprintf(&b, "Avg over last %d requests: queue %s ms, connect %s ms, response %s ms, total %s ms\n",
			512, v, g("ctime"), g("rtime"), g("ttime"))
		fmt.Fprintf(&b, "Max: queue %s ms, connect %s ms, response %s ms, total %s ms\n",
			g("qtime_max"), g("ctime_max"), g("rtime_max"), g("ttime_max"))
	}
	if v := g("lastsess"); v != "" && v != "-1" {
		fmt.Fprintf(&b, "Last session: %ss ago\n", v)
	}
	if v := g("conn_tot"); v != "" {
		fmt.Fprintf(&b, "Cum. connections: %s (rate %s/s, max %s/s)\n", v, g("conn_rate"), g("conn_rate_max"))
	}
	if v := g("req_rate"); v != "" && r.Type == TypeFrontend {
		fmt.Fprintf(&b, "HTTP request rate: %s/s (max %s/s)\n", v, g("req_rate_max"))
	}
	return strings.TrimSpace(b.String())
}
