package stats

import "html/template"

var pageTmpl = template.Must(template.New("stats").Funcs(template.FuncMap{"tip": func(k string) string { return headTips[k] }}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}{{with .Node}} on {{.}}{{end}}</title>
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}
<style>
*{box-sizing:border-box}
body{font-family:Arial,Helvetica,sans-serif;font-size:12px;margin:8px;background:#fff;color:#000}
h1{font-size:18px;margin:0 0 6px 0;color:#fff;background:#20408c;padding:6px 10px}
.top{display:flex;flex-wrap:wrap;gap:8px;margin-bottom:8px}
.top>div{border:1px solid #999;padding:4px 8px;background:#f4f4f4}
.top a{margin-right:8px}
.wrap{max-width:100%;overflow-x:auto}
table.px{border-collapse:collapse;margin-bottom:12px;width:100%}
table.px th,table.px td{border:1px solid #999;padding:1px 2px;text-align:right;white-space:nowrap;font-size:11px}
table.px td.name,table.px th.name{text-align:left}
table.px td.txt{text-align:left;white-space:normal;min-width:64px;overflow-wrap:anywhere}
table.px input[type=checkbox]{margin:0}
table.px th.pxname{background:#b00040;color:#ffff40;text-align:left;font-size:13px}
th[title],td[title]{cursor:help}
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
.legend span{display:inline-block;padding:1px 5px;margin:1px 3px 1px 0;border:1px solid #999}
.notice{background:#ffffa0;border:1px solid #999;padding:4px;margin:6px 0}
svg.spark{vertical-align:middle}
u{text-decoration:underline dotted;position:relative;cursor:help}
.tips{display:none;position:absolute;left:0;top:100%;z-index:2;background:#ffffe0;color:#000;border:1px solid #999;padding:2px 4px;font-weight:normal;text-align:left;white-space:nowrap}
u:hover .tips{display:block}
table.det th,table.det td{border:none;text-align:left;font-size:11px;background:none;color:#000}
@media (max-width:1100px){table.px td.txt{min-width:60px}}
</style></head><body>
<h1>varde {{.Title}}{{with .Version}} &mdash; version {{.}}{{end}}</h1>
<h2 id="report">Statistics Report for pid {{.Pid}}{{with .Node}} on {{.}}{{end}}{{with .Desc}}: {{.}}{{end}}</h2>
<div class="top">
<div class="proc" id="process"><b>General process information</b><br>
pid = {{.Pid}}{{with .Uptime}} (uptime {{.}}){{end}}; threads = {{.Threads}}{{with .Node}}; node = {{.}}{{end}}<br>
current conns = {{.CurConns}}{{if .MaxConn}}; maxconn = {{.MaxConn}}{{end}}; session rate = {{.SessRate}}/s<br>
{{.Now}}{{if .Refresh}}; refresh every {{.Refresh}}s{{end}}</div>
<div class="legend"><span style="background:#c0ffc0">active UP</span><span style="background:#b0d0ff">backup UP</span><span style="background:#ffffa0">UP, going down</span><span style="background:#ffd020">DOWN, going up</span><span style="background:#ff9090">DOWN</span><span style="background:#20a0ff">DRAIN</span><span style="background:#c07820;color:#fff">MAINT</span><span style="background:#e8e8d0">not checked</span></div>
<div class="links"><b>Display option:</b><br>
<form method="get" action="{{.ScopePath}}" style="display:inline">{{with .ScopeQuery}}<input type="hidden" name="{{.}}" value="">{{end}}<label>Scope: <input type="text" name="scope" size="10" value="{{.Scope}}"></label> <input type="submit" value="Go"></form><br>
<a id="hide-down" href="{{.LinkHide}}">{{if .HideDown}}Show all servers{{else}}Hide 'DOWN' servers{{end}}</a>
{{if .Refresh}}<a id="refresh" href="{{.LinkRefresh}}">{{if .NoRefresh}}Enable refresh{{else}}Disable refresh{{end}}</a>{{else}}{{if .NoRefresh}}<a id="refresh" href="{{.LinkRefresh}}">Enable refresh</a>{{end}}{{end}}
<a id="refresh-now" href="{{.LinkSelf}}">Refresh now</a><br>
<b>Export:</b> <a id="csv" href="{{.LinkCSV}}">CSV</a> <a id="json" href="{{.LinkJSON}}">JSON</a></div>
</div>
{{with .Notice}}<div class="notice">{{.}}</div>{{end}}
{{range .Proxies}}{{$px := .}}
{{if .Admin}}<form method="post" action="{{$.URI}}"><input type="hidden" name="b" value="{{.Name}}">{{end}}
<div class="wrap"><table class="px" id="px-{{.Name}}">
<tr><th class="pxname" colspan="{{.Cols}}">{{if .Legend}}<u>{{.Name}}<div class="tips">{{.Legend}}</div></u>{{else}}{{.Name}}{{end}}{{with .History}} <span title="{{tip "history"}}">{{.}}</span>{{end}}</th></tr>
<tr class="hdr">{{if .Admin}}<th></th>{{end}}<th class="name"></th><th colspan="3">Queue</th><th colspan="3">Session rate</th><th colspan="6">Sessions</th><th colspan="2">Bytes</th><th colspan="2">Denied</th><th colspan="3">Errors</th><th colspan="2">Warnings</th><th colspan="11">Server</th>{{with $.Modules}}<th colspan="{{len .}}">Extra modules</th>{{end}}</tr>
<tr class="hdr">{{if .Admin}}<th></th>{{end}}<th class="name">Name</th><th title="{{tip "qcur"}}">Cur</th><th title="{{tip "qmax"}}">Max</th><th title="{{tip "qlimit"}}">Limit</th><th title="{{tip "rate"}}">Cur</th><th title="{{tip "rate_max"}}">Max</th><th title="{{tip "rate_lim"}}">Limit</th><th title="{{tip "scur"}}">Cur</th><th title="{{tip "smax"}}">Max</th><th title="{{tip "slim"}}">Limit</th><th title="{{tip "stot"}}">Total</th><th title="{{tip "lbtot"}}">LbTot</th><th title="{{tip "lastsess"}}">Last</th><th title="{{tip "bin"}}">In</th><th title="{{tip "bout"}}">Out</th><th title="{{tip "dreq"}}">Req</th><th title="{{tip "dresp"}}">Resp</th><th title="{{tip "ereq"}}">Req</th><th title="{{tip "econ"}}">Conn</th><th title="{{tip "eresp"}}">Resp</th><th title="{{tip "wretr"}}">Retr</th><th title="{{tip "wredis"}}">Redis</th><th title="{{tip "status"}}">Status</th><th title="{{tip "lastchk"}}">LastChk</th><th title="{{tip "weight"}}">Wght</th><th title="{{tip "act"}}">Act</th><th title="{{tip "bck"}}">Bck</th><th title="{{tip "chkfail"}}">Chk</th><th title="{{tip "chkdown"}}">Dwn</th><th title="{{tip "downtime"}}">Dwntme</th><th title="{{tip "throttle"}}">Thrtle</th><th title="{{tip "lastchg"}}">Last chg</th><th class="name" title="{{tip "check"}}">Check</th>{{range $.Modules}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr class="{{.Class}}"{{if .Server}} data-server="{{.Name}}" data-state="{{.Status}}"{{end}}>{{if $px.Admin}}<td>{{if .Selectable}}<input type="checkbox" name="s" value="{{.Name}}">{{end}}</td>{{end}}<td class="name">{{if .Legend}}<u>{{.Name}}<div class="tips">{{.Legend}}</div></u>{{else}}{{.Name}}{{end}}</td><td>{{.QCur}}</td><td>{{.QMax}}</td><td>{{.QLim}}</td><td>{{.Rate}}</td><td>{{.RateMax}}</td><td>{{.RateLim}}</td><td>{{.SCur}}</td><td>{{.SMax}}</td><td>{{.SLim}}</td><td{{with .TotTip}} title="{{.}}"{{end}}>{{.STot}}</td><td>{{.LbTot}}</td><td>{{.LastSess}}</td><td>{{.BIn}}</td><td>{{.BOut}}</td><td>{{.DReq}}</td><td>{{.DResp}}</td><td>{{.EReq}}</td><td>{{.ECon}}</td><td>{{.EResp}}</td><td>{{.WRetr}}</td><td>{{.WRedis}}</td><td class="state">{{.Status}}</td><td class="txt">{{.LastChk}}</td><td>{{.Weight}}</td><td>{{if .Server}}{{if eq .Act "1"}}Y{{else}}-{{end}}{{else}}{{.Act}}{{end}}</td><td>{{if .Server}}{{if eq .Bck "1"}}Y{{else}}-{{end}}{{else}}{{.Bck}}{{end}}</td><td>{{.ChkFail}}</td><td>{{.ChkDown}}</td><td>{{.Downtime}}</td><td>{{with .Throttle}}{{.}}%{{else}}-{{end}}</td><td>{{.LastChange}}</td><td class="name txt">{{.Check}}</td>{{range .Modules}}<td class="module"><u>{{.Name}}<div class="tips"><table class="det">{{range .Stats}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table></div></u></td>{{end}}</tr>
{{end}}</table></div>
{{if .Admin}}Choose the action to perform on the checked servers: <select name="action"><option value="">--</option><option value="ready">Set state to READY</option><option value="drain">Set state to DRAIN</option><option value="maint">Set state to MAINT</option></select> <input type="submit" value="Apply"></form>{{end}}
{{end}}
{{with .Extra}}<div class="wrap"><table class="px" id="extras" style="width:auto">
<tr><th class="pxname" colspan="4">Other values</th></tr>
<tr class="hdr"><th class="name">Subsystem</th><th class="name">Proxy</th><th class="name">Name</th><th>Value</th></tr>
{{range .}}<tr class="frontend"><td class="name">{{.Subsystem}}</td><td class="name">{{.Proxy}}</td><td class="name">{{.Name}}</td><td>{{.Value}}</td></tr>
{{end}}</table></div>{{end}}
</body></html>
`))
