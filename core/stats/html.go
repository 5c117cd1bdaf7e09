package stats

import (
	"fmt"
	"html/template"
	"io"
	"os"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
)

type htmlRow struct {
	Name, Class, Status, LastChk, Check, LastChange, Downtime, Throttle string
	QCur, QMax, QLim, SCur, SMax, SLim, STot, BIn, BOut                 string
	DReq, DResp, EReq, ECon, EResp, WRetr, WRedis                       string
	Weight, Act, Bck, ChkFail, ChkDown                                  string
	Server, Selectable                                                  bool
}

type htmlProxy struct {
	Name  string
	Admin bool
	Rows  []htmlRow
}

type htmlPage struct {
	Title, Node, Version, Now, Uptime, Notice string
	Pid                                       int
	Refresh                                   int
	Admin                                     bool
	URI                                       string
	Proxies                                   []htmlProxy
	Extra                                     []Extra // other subsystems' values (policies, log drops)
}

// stateClass maps a server's state to a colour class of the legend.
func stateClass(r Row) string {
	s := r.Server
	st := r.Get("status").Text
	switch {
	case s.Admin() == core.AdminMaint:
		return "maint"
	case s.Admin() == core.AdminDrain:
		return "draining"
	case strings.HasPrefix(st, "DOWN "):
		return "going_up"
	case !s.IsUp():
		return "down"
	case strings.HasPrefix(st, "UP "):
		return "going_down"
	case st == "no check":
		return "no_check"
	case s.Backup:
		return "backup_up"
	}
	return "active_up"
}

func human(d time.Duration) string {
	if d < 0 {
		return ""
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, (s/60)%60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, (s/3600)%24)
}

func (h *Handler) page(w io.Writer, rows []Row, now time.Time, admin bool, notice string) error {
	snap := h.src.Snapshot()
	pg := htmlPage{Title: "Statistics Report", Node: h.cfg.Node, Version: h.cfg.Version, Now: now.UTC().Format(time.RFC1123),
		Pid: os.Getpid(), Refresh: int(h.cfg.Refresh / time.Second), Admin: admin, URI: h.cfg.URI}
	if !snap.Info.Started.IsZero() {
		pg.Uptime = human(now.Sub(snap.Info.Started))
	}
	if h.cfg.HideVersion {
		pg.Version = ""
	}
	switch notice {
	case "DONE":
		pg.Notice = "Action processed successfully."
	case "PART":
		pg.Notice = "Action not processed for every server."
	case "NONE":
		pg.Notice = "Nothing has changed."
	}
	idx := map[string]int{}
	for _, r := range rows {
		i, ok := idx[r.Proxy]
		if !ok {
			i = len(pg.Proxies)
			idx[r.Proxy] = i
			pg.Proxies = append(pg.Proxies, htmlProxy{Name: r.Proxy})
		}
		g := func(n string) string { return r.Get(n).String() }
		hr := htmlRow{Name: r.Name, Status: g("status"), QCur: g("qcur"), QMax: g("qmax"), QLim: g("qlimit"),
			SCur: g("scur"), SMax: g("smax"), SLim: g("slim"), STot: g("stot"), BIn: g("bin"), BOut: g("bout"),
			DReq: g("dreq"), DResp: g("dresp"), EReq: g("ereq"), ECon: g("econ"), EResp: g("eresp"),
			WRetr: g("wretr"), WRedis: g("wredis"), Weight: g("weight"), Act: g("act"), Bck: g("bck"),
			ChkFail: g("chkfail"), ChkDown: g("chkdown"), Throttle: g("throttle")}
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
			if c := r.Check; c.Enabled {
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
			if admin {
				hr.Selectable = true
				pg.Proxies[i].Admin = true
			}
		}
		pg.Proxies[i].Rows = append(pg.Proxies[i].Rows, hr)
	}
	pg.Extra = snap.Extra
	return pageTmpl.Execute(w, pg)
}

var pageTmpl = template.Must(template.New("stats").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}{{with .Node}} on {{.}}{{end}}</title>
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}
<style>
body{font-family:Arial,Helvetica,sans-serif;font-size:12px;margin:12px;background:#fff;color:#000}
h1{font-size:18px;margin:0 0 4px 0;color:#fff;background:#20408c;padding:6px 10px}
.info{margin:6px 0 12px 0}
table.px{border-collapse:collapse;margin-bottom:14px;min-width:1100px}
table.px th,table.px td{border:1px solid #999;padding:2px 5px;text-align:right;white-space:nowrap}
table.px td.name,table.px th.name{text-align:left}
table.px th.pxname{background:#b00040;color:#ffff40;text-align:left;font-size:13px}
tr.hdr th{background:#20408c;color:#fff;font-weight:normal}
tr.frontend td{background:#e8e8d0}
tr.backend td{background:#e8e8d0;font-weight:bold}
tr.backend.down td{background:#ff9090}
tr.active_up td{background:#c0ffc0}
tr.backup_up td{background:#b0d0ff}
tr.going_down td{background:#ffffa0}
tr.going_up td{background:#ffd020}
tr.down td{background:#ff9090}
tr.maint td{background:#c07820;color:#fff}
tr.draining td{background:#20a0ff}
tr.no_check td{background:#e8e8d0}
td.state{font-weight:bold;text-align:center}
.legend span{display:inline-block;padding:2px 6px;margin-right:4px;border:1px solid #999}
.notice{background:#ffffa0;border:1px solid #999;padding:4px;margin:6px 0}
</style></head><body>
<h1>varde {{.Title}}{{with .Version}} &mdash; version {{.}}{{end}}</h1>
<div class="info">pid = {{.Pid}}{{with .Uptime}}; uptime = {{.}}{{end}}{{with .Node}}; node = {{.}}{{end}}; {{.Now}}{{if .Refresh}}; refresh every {{.Refresh}}s{{end}}</div>
<div class="legend"><span style="background:#c0ffc0">active UP</span><span style="background:#b0d0ff">backup UP</span><span style="background:#ffffa0">active UP, going down</span><span style="background:#ffd020">active DOWN, going up</span><span style="background:#ff9090">active or backup DOWN</span><span style="background:#20a0ff">DRAIN</span><span style="background:#c07820;color:#fff">MAINT</span><span style="background:#e8e8d0">not checked</span></div>
{{with .Notice}}<div class="notice">{{.}}</div>{{end}}
{{range .Proxies}}{{$px := .}}
{{if .Admin}}<form method="post" action="{{$.URI}}"><input type="hidden" name="b" value="{{.Name}}">{{end}}
<table class="px" id="px-{{.Name}}">
<tr><th class="pxname" colspan="{{if .Admin}}29{{else}}28{{end}}">{{.Name}}</th></tr>
<tr class="hdr">{{if .Admin}}<th></th>{{end}}<th class="name"></th><th colspan="3">Queue</th><th colspan="4">Sessions</th><th colspan="2">Bytes</th><th colspan="2">Denied</th><th colspan="3">Errors</th><th colspan="2">Warnings</th><th colspan="11">Server</th></tr>
<tr class="hdr">{{if .Admin}}<th></th>{{end}}<th class="name">Name</th><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th><th>Last change</th><th>Check</th></tr>
{{range .Rows}}<tr class="{{.Class}}"{{if .Server}} data-server="{{.Name}}" data-state="{{.Status}}"{{end}}>{{if $px.Admin}}<td>{{if .Selectable}}<input type="checkbox" name="s" value="{{.Name}}">{{end}}</td>{{end}}<td class="name">{{.Name}}</td><td>{{.QCur}}</td><td>{{.QMax}}</td><td>{{.QLim}}</td><td>{{.SCur}}</td><td>{{.SMax}}</td><td>{{.SLim}}</td><td>{{.STot}}</td><td>{{.BIn}}</td><td>{{.BOut}}</td><td>{{.DReq}}</td><td>{{.DResp}}</td><td>{{.EReq}}</td><td>{{.ECon}}</td><td>{{.EResp}}</td><td>{{.WRetr}}</td><td>{{.WRedis}}</td><td class="state">{{.Status}}</td><td>{{.LastChk}}</td><td>{{.Weight}}</td><td>{{if .Server}}{{if eq .Act "1"}}Y{{else}}-{{end}}{{else}}{{.Act}}{{end}}</td><td>{{if .Server}}{{if eq .Bck "1"}}Y{{else}}-{{end}}{{else}}{{.Bck}}{{end}}</td><td>{{.ChkFail}}</td><td>{{.ChkDown}}</td><td>{{.Downtime}}</td><td>{{with .Throttle}}{{.}}%{{else}}-{{end}}</td><td>{{.LastChange}}</td><td class="name">{{.Check}}</td></tr>
{{end}}</table>
{{if .Admin}}Choose the action to perform on the checked servers: <select name="action"><option value="">--</option><option value="ready">Set state to READY</option><option value="drain">Set state to DRAIN</option><option value="maint">Set state to MAINT</option></select> <input type="submit" value="Apply"></form>{{end}}
{{end}}
{{with .Extra}}<table class="px" id="extras" style="min-width:0">
<tr><th class="pxname" colspan="4">Other values</th></tr>
<tr class="hdr"><th class="name">Subsystem</th><th class="name">Proxy</th><th class="name">Name</th><th>Value</th></tr>
{{range .}}<tr class="frontend"><td class="name">{{.Subsystem}}</td><td class="name">{{.Proxy}}</td><td class="name">{{.Name}}</td><td>{{.Value}}</td></tr>
{{end}}</table>{{end}}
</body></html>
`))
