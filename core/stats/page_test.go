package stats_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/stats"
)

func getPage(t *testing.T, h http.Handler, target string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	if rec.Code != 200 {
		t.Fatalf("%s: %d %s", target, rec.Code, b)
	}
	return string(b)
}

// TestPageOptions: the links, the scope box and the ;up, ;norefresh,
// scope= options of the stats URI (HAProxy's), on the page and on ;csv.
func TestPageOptions(t *testing.T) {
	f := newFixture(t)
	hist := stats.NewHistory(f.src)
	h := stats.NewHandler(stats.PageConfig{URI: "/haproxy?stats", Refresh: 5 * time.Second, History: hist}, f.src, f.m, f.m, nil)
	hist.Sample(time.Second)
	hist.Sample(time.Second)

	page := getPage(t, h, "/haproxy?stats")
	for _, want := range []string{
		`id="process"`, "threads = ", "session rate = ",
		`href="/haproxy?stats;csv"`, `href="/haproxy?stats;json"`, `href="/haproxy?stats;up"`, `href="/haproxy?stats;norefresh"`,
		`<form method="get" action="/haproxy" style="display:inline"><input type="hidden" name="stats" value="">`, `name="scope"`,
		`<th colspan="3">Session rate</th>`, `title="Cum. HTTP requests: 40`, "- HTTP 2xx responses: 38",
		`<svg class="spark"`, `data-server="web2" data-state="DOWN"`, ">LbTot</th>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if up := getPage(t, h, "/haproxy?stats;up"); strings.Contains(up, `data-server="web2"`) || !strings.Contains(up, `data-server="web1"`) || !strings.Contains(up, "Show all servers") {
		t.Errorf(";up must hide the DOWN server web2 only")
	}
	// HAProxy's ;up also applies to the CSV and counts up/total servers.
	if csv := getPage(t, h, "/haproxy?stats;up;csv"); strings.Contains(csv, "\napp,web2,") || !strings.Contains(csv, ",UP (3/4),") {
		t.Errorf(";up;csv: %q", csv)
	}
	if nr := getPage(t, h, "/haproxy?stats;norefresh"); strings.Contains(nr, `http-equiv="refresh"`) {
		t.Errorf(";norefresh still refreshes")
	}
	sc := getPage(t, h, "/haproxy?stats=&scope=www")
	if strings.Contains(sc, `id="px-app"`) || !strings.Contains(sc, `id="px-www"`) || !strings.Contains(sc, `value="www"`) {
		t.Errorf("scope=www must show only www")
	}
	csv := getPage(t, h, "/haproxy?stats;csv;scope=app")
	if strings.Contains(csv, "\nwww,") || !strings.Contains(csv, "\napp,BACKEND,") {
		t.Errorf(";csv;scope=app: %q", csv)
	}
}

// TestHistorySparkline: per-backend rates between samples, drawn as an
// inline SVG (no external asset), bounded to HistoryLen points.
func TestHistorySparkline(t *testing.T) {
	be := &stats.Counters{}
	src := stats.SourceFunc(func() stats.Snapshot {
		return stats.Snapshot{Proxies: []stats.Proxy{{Name: "app", Mode: "http", Backend: be}}}
	})
	h := stats.NewHistory(src)
	for i := 0; i < stats.HistoryLen+10; i++ {
		be.Requests += 50
		be.Status[5] += 5
		h.Sample(5 * time.Second)
	}
	req, errs := h.Series("app")
	if len(req) != stats.HistoryLen || req[len(req)-1] != 10 || errs[len(errs)-1] != 1 {
		t.Fatalf("series: %d points, last %v req/s %v 5xx/s", len(req), req[len(req)-1], errs[len(errs)-1])
	}
	svg := string(h.Sparkline("app"))
	if !strings.HasPrefix(svg, "<svg") || strings.Count(svg, "<polyline") != 2 || strings.Contains(svg, "http") {
		t.Errorf("sparkline: %s", svg)
	}
	if s := string(h.Sparkline("none")); !strings.HasPrefix(s, "<svg") || strings.Contains(s, "<polyline") {
		t.Errorf("empty sparkline: %s", s)
	}
}

// FuzzStatsURIOptions: any stats URI suffix is served without a panic,
// in every format.
func FuzzStatsURIOptions(f *testing.F) {
	for _, s := range []string{"", ";csv", ";json;scope=app", ";up;norefresh", "?scope=", ";st=DONE", "scope=%00;;", ";csv;scope=" + strings.Repeat("x", 300)} {
		f.Add(s)
	}
	src := stats.SourceFunc(func() stats.Snapshot {
		return stats.Snapshot{Proxies: []stats.Proxy{{Name: "app", Mode: "http", Backend: &stats.Counters{}, Frontend: &stats.Counters{}}}}
	})
	h := stats.NewHandler(stats.PageConfig{URI: "/s"}, src, nil, nil, nil)
	f.Fuzz(func(t *testing.T, opts string) {
		req := httptest.NewRequest("GET", "/s", nil)
		req.RequestURI = "/s" + opts
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("%q: %d", opts, rec.Code)
		}
	})
}

// TestBackendRowLikeHAProxy: the BACKEND's status, act/bck and weights
// count usable servers only (HAProxy's recount_servers and
// update_backend_weight): drained, in maintenance, weight 0 or DOWN
// servers take no traffic; without actives only the first backup does,
// unless allbackups.
func TestBackendRowLikeHAProxy(t *testing.T) {
	type srv struct {
		backup bool
		weight int
		admin  core.AdminState
		down   bool
	}
	for _, tc := range []struct {
		name       string
		servers    []srv
		allBackups bool
		status     string
		act, bck   int64
		weight     int64
	}{
		{"two actives", []srv{{weight: 2}, {weight: 3}}, false, "UP", 2, 0, 5},
		{"drained and down", []srv{{weight: 1, admin: core.AdminDrain}, {weight: 1, down: true}}, false, "DOWN", 0, 0, 0},
		{"maint and weight 0", []srv{{weight: 1, admin: core.AdminMaint}, {weight: 0}}, false, "DOWN", 0, 0, 0},
		{"first backup only", []srv{{weight: 1, down: true}, {backup: true, weight: 4}, {backup: true, weight: 5}}, false, "UP", 0, 2, 4},
		{"allbackups", []srv{{weight: 1, down: true}, {backup: true, weight: 4}, {backup: true, weight: 5}}, true, "UP", 0, 2, 9},
		{"actives hide backups", []srv{{weight: 2}, {backup: true, weight: 5}}, false, "UP", 1, 1, 2},
		{"no servers", nil, false, "UP", 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var servers []*core.Server
			for i, s := range tc.servers {
				cs := core.NewServer("app", fmt.Sprintf("s%d", i), i+1, netip.MustParseAddrPort("127.0.0.1:80"), s.weight, 0)
				cs.Backup = s.backup
				cs.InitAdmin(s.admin)
				if s.down {
					cs.SetHealth(core.HealthDown)
				}
				servers = append(servers, cs)
			}
			snap := stats.Snapshot{Proxies: []stats.Proxy{{Name: "app", ID: 2, Mode: "http", Backend: &stats.Counters{}, Servers: servers, AllBackups: tc.allBackups}}}
			rows := stats.Rows(snap, nil, time.Now())
			be := rows[len(rows)-1]
			if st := be.Get("status").Text; st != tc.status || be.Get("act").N != tc.act || be.Get("bck").N != tc.bck || be.Get("weight").N != tc.weight {
				t.Errorf("status %s act %d bck %d weight %d; want %s %d %d %d", st, be.Get("act").N, be.Get("bck").N, be.Get("weight").N, tc.status, tc.act, tc.bck, tc.weight)
			}
		})
	}
}
