package stats_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/stats"
)

type recordCtl struct{ set []string }

func (c *recordCtl) SetAdmin(s *core.Server, a core.AdminState) {
	c.set = append(c.set, s.Backend+"/"+s.Name+"="+a.String())
}

// TestStatsScopeLimitsRowsAndAdmin: `stats scope` hides other proxies'
// rows and refuses admin actions on their servers (a hand-made POST).
func TestStatsScopeLimitsRowsAndAdmin(t *testing.T) {
	addr := netip.MustParseAddrPort("127.0.0.1:80")
	src := stats.SourceFunc(func() stats.Snapshot {
		return stats.Snapshot{Proxies: []stats.Proxy{
			{Name: "app", Mode: "http", Backend: &stats.Counters{}, Servers: []*core.Server{core.NewServer("app", "a1", 1, addr, 1, 0)}},
			{Name: "hidden", Mode: "http", Backend: &stats.Counters{}, Servers: []*core.Server{core.NewServer("hidden", "h1", 1, addr, 1, 0)}},
		}}
	})
	for _, tc := range []struct {
		scope    []string
		backend  string
		rows     string
		adminSet string
	}{
		{nil, "hidden", "app,a1 app,BACKEND hidden,h1 hidden,BACKEND", "hidden/h1=maint"},
		{[]string{"app"}, "hidden", "app,a1 app,BACKEND", ""},
		{[]string{"app"}, "app", "app,a1 app,BACKEND", "app/a1=maint"},
		{[]string{"nope"}, "app", "", ""},
	} {
		ctl := &recordCtl{}
		h := stats.NewHandler(stats.PageConfig{URI: "/s", Scope: tc.scope, Admin: func(*http.Request) bool { return true }}, src, nil, ctl, nil)
		csv := getPage(t, h, "/s;csv")
		var rows []string
		for _, l := range strings.Split(strings.TrimSpace(csv), "\n")[1:] {
			f := strings.SplitN(l, ",", 3)
			rows = append(rows, f[0]+","+f[1])
		}
		if got := strings.Join(rows, " "); got != tc.rows {
			t.Errorf("scope %v: rows %q, want %q", tc.scope, got, tc.rows)
		}
		form := url.Values{"b": {tc.backend}, "s": {tc.backend[:1] + "1"}, "action": {"maint"}}
		req := httptest.NewRequest("POST", "/s", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got := strings.Join(ctl.set, " "); got != tc.adminSet {
			t.Errorf("scope %v: POST on %s set %q, want %q", tc.scope, tc.backend, got, tc.adminSet)
		}
	}
}
