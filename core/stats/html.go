package stats

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
)

type htmlRow struct {
	Name, Class, Status, LastChk, Check, LastChange, Downtime, Throttle string
	Rate, RateMax, RateLim, TotTip, LbTot, LastSess                     string
	QCur, QMax, QLim, SCur, SMax, SLim, STot, BIn, BOut                 string
	DReq, DResp, EReq, ECon, EResp, WRetr, WRedis                       string
	Weight, Act, Bck, ChkFail, ChkDown                                  string
	Server, Selectable                                                  bool
	Legend                                                              string       // show-legends note on the name
	Modules                                                             []htmlModule // show-modules cells
}

type htmlProxy struct {
	Name    string
	Cols    int    // columns of the table (the title spans them)
	Legend  string // show-legends: cap, mode, id
	Admin   bool
	Rows    []htmlRow
	History template.HTML // backends: inline SVG of the last minutes
}

type htmlPage struct {
	Title, Node, Desc, Version, Now, Uptime, Notice string
	Modules                                         []string // show-modules: the module columns
	Pid                                             int
	Refresh                                         int
	Admin                                           bool
	URI                                             string
	Proxies                                         []htmlProxy
	Extra                                           []Extra // other subsystems' values (policies, log drops)
	// Process block and links.
	Threads                        int
	CurConns, MaxConn, SessRate    int64
	Scope, ScopePath, ScopeQuery   string
	HideDown, NoRefresh            bool
	LinkHide, LinkRefresh, LinkCSV string
	LinkJSON, LinkSelf             string
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

// headTips explain the columns (HAProxy's field descriptions, shortened).
var headTips = map[string]string{
	"qcur": "Requests waiting in the queue now", "qmax": "Highest queue length seen", "qlimit": "Queue limit (maxqueue)",
	"rate": "Sessions over the last second (frontend: connections; backend, server: assignments)", "rate_max": "Highest session rate seen", "rate_lim": "Session rate limit (rate-limit sessions)",
	"scur": "Current sessions", "smax": "Highest concurrent sessions seen", "slim": "Session limit (maxconn)", "stot": "Sessions since start; hover a cell for HTTP responses and timings",
	"bin": "Bytes received from clients", "bout": "Bytes sent to clients",
	"dreq": "Requests denied by rules", "dresp": "Responses denied by rules",
	"ereq": "Request errors (invalid requests, client timeouts before a request)", "econ": "Failed connections to servers (including no server available)", "eresp": "Response errors (invalid or truncated responses, server timeouts)",
	"wretr": "Retried connection attempts", "wredis": "Redispatches to another server",
	"status": "Frontend: OPEN/STOP; backend: UP while a server can take traffic, DOWN otherwise; server: its state", "lastchk": "Last health check: status/code in duration",
	"weight": "Effective weight (backend: total of the usable servers)", "act": "Active server (backend: usable active servers)", "bck": "Backup server (backend: usable backups)",
	"chkfail": "Failed checks while up", "chkdown": "UP to DOWN transitions", "downtime": "Total time DOWN", "throttle": "Slowstart throttle",
	"lastchg": "Time since the last UP/DOWN change", "lbtot": "Sessions given to a server by load balancing or persistence", "lastsess": "Time since the last session given to a server", "check": "Last check description", "history": "Requests/s (blue) and 5xx/s (red) over the last five minutes, sampled every 5 s",
}
