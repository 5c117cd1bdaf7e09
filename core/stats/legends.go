package stats

import (
	"fmt"
	"strings"
)

// The optional parts of the HTML page that HAProxy's `stats show-legends`
// and `stats show-modules` turn on. HAProxy 2.6 prints the legends as
// hover notes under each proxy, backend and server name; the modules as
// one "Extra modules" column per statistics module, its cell a note
// listing the module's counters.

// pxCap is HAProxy's proxy_cap_str: frontend, backend, or proxy for a
// section that is both (listen).
func pxCap(p Proxy) string {
	switch {
	case p.Frontend != nil && p.Backend != nil:
		return "proxy"
	case p.Frontend != nil:
		return "frontend"
	}
	return "backend"
}

// proxyLegend is the note on a proxy's name: cap, mode and id.
func proxyLegend(p Proxy) string {
	mode := p.Mode
	if mode == "" {
		mode = "tcp"
	}
	return fmt.Sprintf("cap: %s, mode: %s, id: %d", pxCap(p), mode, p.ID)
}

// rowLegend is the note on a BACKEND or server row's name, as HAProxy's:
// the balance algorithm and cookie of a backend; the address, id and
// cookie of a server. Frontend rows have none.
func rowLegend(r Row) string {
	var b strings.Builder
	switch r.Type {
	case TypeBackend:
		fmt.Fprintf(&b, "balancing: %s", r.Get("algo").Text)
	case TypeServer:
		switch addr := r.Get("addr").Text; {
		case addr == "":
		case addr[0] == '[':
			fmt.Fprintf(&b, "IPv6: %s, ", addr)
		case addr[0] >= '0' && addr[0] <= '9':
			fmt.Fprintf(&b, "IPv4: %s, ", addr)
		default:
			fmt.Fprintf(&b, "%s, ", addr)
		}
		fmt.Fprintf(&b, "id: %d", r.Get("sid").N)
	default:
		return ""
	}
	if c := r.Get("cookie"); c.Set && c.Text != "" {
		fmt.Fprintf(&b, ", cookie: '%s'", c.Text)
	}
	return b.String()
}

// statsModule is one of HAProxy's extra statistics modules that varde
// counts: its name and its counters (column, HAProxy's description).
type statsModule struct {
	Name   string
	Fields [][2]string
}

// modules are the modules varde fills (ModuleFields): HAProxy's "ssl".
// HAProxy's h1 and h2 modules are not counted by varde and not shown.
var modules = []statsModule{{Name: "ssl", Fields: [][2]string{
	{"ssl_sess", "Total number of ssl sessions established"},
	{"ssl_reused_sess", "Total number of ssl sessions reused"},
	{"ssl_failed_handshake", "Total number of failed handshake"},
}}}

// htmlModule is one module's cell of a row.
type htmlModule struct {
	Name  string
	Stats [][2]string // description, value ("-" where varde does not count it)
}

func rowModules(r Row) []htmlModule {
	out := make([]htmlModule, 0, len(modules))
	for _, m := range modules {
		hm := htmlModule{Name: m.Name}
		for _, f := range m.Fields {
			v := "-"
			if x := r.Get(f[0]); x.Set {
				v = x.String()
			}
			hm.Stats = append(hm.Stats, [2]string{f[1], v})
		}
		out = append(out, hm)
	}
	return out
}

func moduleNames() []string {
	names := make([]string, len(modules))
	for i, m := range modules {
		names[i] = m.Name
	}
	return names
}
