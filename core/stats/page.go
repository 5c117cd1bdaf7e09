package stats

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
)

// User is one `stats auth USER:PASS`; Password may be a $5$/$6$ crypt hash.
type User struct {
	Name     string
	Password string
}

// PageConfig is the `stats ...` lines of a proxy.
type PageConfig struct {
	URI         string // `stats uri`, default /haproxy?stats
	Realm       string // `stats realm`, default "HAProxy Statistics"
	Users       []User // `stats auth`; none = no authentication
	Refresh     time.Duration
	HideVersion bool
	// Admin reports whether the request may change server states
	// (`stats admin if COND`); nil disables the admin buttons.
	Admin   func(r *http.Request) bool
	Version string
	// Node is `stats show-node`: the node name shown with the pid.
	Node string
	// Desc is `stats show-desc TEXT`: shown after the node, as HAProxy.
	Desc string
	// Legends is `stats show-legends`: notes on proxy, backend and server
	// names (cap, mode, id, balancing, address, cookie).
	Legends bool
	// Modules is `stats show-modules`: the "Extra modules" columns.
	Modules bool
	// History, when set, draws each backend's last minutes on the page.
	History *History
	// Scope is `stats scope`: only these proxies appear on the page, in
	// ;csv and ;json, and only their servers take admin actions. Empty
	// means every proxy.
	Scope []string
}

// Controller applies the admin buttons; *health.Manager implements it.
type Controller interface {
	SetAdmin(s *core.Server, a core.AdminState)
}

// Handler serves the stats page, `;csv` and `;json`.
type Handler struct {
	cfg    PageConfig
	src    Source
	checks Checks
	ctl    Controller
	log    *slog.Logger
	now    func() time.Time
}

// NewHandler returns the stats handler for one `stats uri`.
func NewHandler(cfg PageConfig, src Source, checks Checks, ctl Controller, log *slog.Logger) *Handler {
	if cfg.URI == "" {
		cfg.URI = "/haproxy?stats"
	}
	if cfg.Realm == "" {
		cfg.Realm = "HAProxy Statistics"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, src: src, checks: checks, ctl: ctl, log: log, now: time.Now}
}

// SetHistory makes the page draw h's per-backend history (before serving).
func (h *Handler) SetHistory(hist *History) { h.cfg.History = hist }

// Match reports whether a request target belongs to the stats page: it
// starts with `stats uri` (HAProxy matches the prefix).
func (h *Handler) Match(uri string) bool { return strings.HasPrefix(uri, h.cfg.URI) }

func (h *Handler) authorized(r *http.Request) bool {
	if len(h.cfg.Users) == 0 {
		return true
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	for _, u := range h.cfg.Users {
		if subtle.ConstantTimeCompare([]byte(u.Name), []byte(user)) != 1 {
			continue
		}
		if IsCryptHash(u.Password) {
			ok, err := CryptVerify(u.Password, pass)
			return ok && err == nil
		}
		return subtle.ConstantTimeCompare([]byte(u.Password), []byte(pass)) == 1
	}
	return false
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", h.cfg.Realm))
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n")
		return
	}
	target := r.RequestURI
	if target == "" {
		target = r.URL.RequestURI()
	}
	opts := strings.TrimPrefix(target, h.cfg.URI)
	admin := h.cfg.Admin != nil && h.cfg.Admin(r) && h.ctl != nil
	if r.Method == http.MethodPost {
		if !admin {
			http.Error(w, "403 Forbidden: stats admin is not enabled for this request", http.StatusForbidden)
			return
		}
		h.post(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	now := h.now()
	o := parseOpts(opts)
	rows := filterRows(h.scopeRows(Rows(h.src.Snapshot(), h.checks, now)), o)
	w.Header().Set("Cache-Control", "no-cache")
	switch {
	case o.CSV:
		w.Header().Set("Content-Type", "text/plain")
		_ = WriteCSV(w, rows)
	case o.JSON:
		w.Header().Set("Content-Type", "application/json")
		_ = WriteJSON(w, rows)
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if h.cfg.Refresh > 0 && !o.NoRefresh {
			w.Header().Set("Refresh", fmt.Sprintf("%d", int(h.cfg.Refresh/time.Second)))
		}
		if err := h.page(w, rows, now, admin, o); err != nil {
			h.log.Warn("stats page", "err", err)
		}
	}
}

// post applies an admin action: b=BACKEND, s=SERVER (repeated), action=ready|drain|maint.
func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
		return
	}
	var a core.AdminState
	switch r.PostForm.Get("action") {
	case "ready":
		a = core.AdminReady
	case "drain":
		a = core.AdminDrain
	case "maint":
		a = core.AdminMaint
	default:
		h.redirect(w, r, "NONE")
		return
	}
	be := r.PostForm.Get("b")
	names := map[string]bool{}
	for _, s := range r.PostForm["s"] {
		names[s] = true
	}
	done := 0
	for _, p := range h.src.Snapshot().Proxies {
		if p.Name != be || !h.inScope(p.Name) {
			continue
		}
		for _, s := range p.Servers {
			if names[s.Name] {
				h.ctl.SetAdmin(s, a)
				h.log.Info("stats admin", "backend", be, "server", s.Name, "state", a.String(), "remote", r.RemoteAddr)
				done++
			}
		}
	}
	switch {
	case done == 0:
		h.redirect(w, r, "NONE")
	case done < len(names):
		h.redirect(w, r, "PART")
	default:
		h.redirect(w, r, "DONE")
	}
}

func (h *Handler) redirect(w http.ResponseWriter, r *http.Request, st string) {
	w.Header().Set("Location", h.cfg.URI+";st="+url.PathEscape(st))
	w.WriteHeader(http.StatusSeeOther)
}
