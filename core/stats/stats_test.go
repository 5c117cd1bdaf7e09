package stats_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/stats"
	"github.com/varde-lb/varde/core/testenv"
	_ "github.com/varde-lb/varde/plugins/check/all"
)

// fixture is a backend with three servers in distinct states, checked by a
// real health manager against real loopback listeners.
type fixture struct {
	m       *health.Manager
	servers []*core.Server
	src     stats.Source
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(up.Close)
	upAddr := netip.MustParseAddrPort(up.Listener.Addr().String())
	dead := netip.MustParseAddrPort("127.0.0.1:1") // nothing listens on port 1
	f := &fixture{m: health.NewManager(health.Options{})}
	web1 := core.NewServer("app", "web1", 1, upAddr, 1, 100)
	web1.Cookie = "s1"
	web2 := core.NewServer("app", "web2", 2, dead, 1, 0)
	web3 := core.NewServer("app", "web3", 3, upAddr, 1, 0)
	bak := core.NewServer("app", "spare", 4, upAddr, 1, 0)
	bak.Backup = true
	f.servers = []*core.Server{web1, web2, web3, bak}
	for _, s := range f.servers {
		cfg := health.Config{Enabled: true, Inter: 20 * time.Millisecond, Rise: 2, Fall: 3, Timeout: 2 * time.Second,
			Probe: health.ProbeSpec{Type: "http", HTTP: health.HTTPSpec{Method: "GET", URI: "/health"}}}
		if s == bak {
			cfg = health.Config{}
		}
		if err := f.m.Add(s, cfg); err != nil {
			t.Fatal(err)
		}
	}
	f.m.Start(context.Background())
	t.Cleanup(f.m.Close)
	f.m.SetAdmin(web3, core.AdminDrain)
	fe := &stats.Counters{CurConns: 3, MaxConns: 9, LimitConns: 1000, TotalConns: 42, Requests: 40, BytesIn: 1234, BytesOut: 5678,
		SSLSessions: 30, SSLReused: 12, SSLFailures: 5, ProxyErrors: 4, DeniedConn: 6, DeniedSess: 2}
	be := &stats.Counters{TotalConns: 40, Status: [6]uint64{0, 0, 38, 0, 1, 1}}
	f.src = stats.SourceFunc(func() stats.Snapshot {
		return stats.Snapshot{Info: stats.Info{Name: "varde", Version: "test", Started: time.Now().Add(-time.Hour)},
			Proxies: []stats.Proxy{
				{Name: "www", ID: 2, Mode: "http", Frontend: fe},
				{Name: "app", ID: 3, Mode: "http", Algo: "roundrobin", Backend: be, Servers: f.servers},
			},
			Extra: []stats.Extra{{Subsystem: "log", Name: "dropped_records_total", Help: "Log records dropped.", Counter: true, Value: 7}},
		}
	})
	// Wait until web1 is fully up and web2 is down.
	if err := testenv.Until(10*time.Second, 10*time.Millisecond, func() error {
		i1, _ := f.m.Info(web1)
		i3, _ := f.m.Info(web3)
		if i1.Health != 4 || i3.Health != 4 || web2.IsUp() {
			return fmt.Errorf("web1 health %d, web2 up %v", i1.Health, web2.IsUp())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCSV(t *testing.T) {
	f := newFixture(t)
	var b bytes.Buffer
	if err := stats.WriteCSV(&b, stats.Rows(f.src.Snapshot(), f.m, time.Now())); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if !strings.HasPrefix(lines[0], "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,") ||
		!strings.HasSuffix(lines[0], ",agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,") {
		t.Fatalf("header %q", lines[0])
	}
	// HAProxy 2.6's SSL module columns, after its "-" separator
	cols := append(append(append([]string(nil), stats.Fields...), "-"), stats.ModuleFields...)
	want := map[string]map[string]string{
		"www,FRONTEND": {"status": "OPEN", "scur": "3", "slim": "1000", "stot": "42", "type": "0", "iid": "2",
			"-": "-", "ssl_sess": "30", "ssl_reused_sess": "12", "ssl_failed_handshake": "5"},
		"app,web1":  {"status": "UP", "check_status": "L7OK", "check_code": "200", "act": "1", "bck": "0", "slim": "100", "cookie": "s1", "check_rise": "2", "check_fall": "3", "check_health": "4", "type": "2", "sid": "1"},
		"app,web2":  {"status": "DOWN", "check_status": "L4CON", "last_chk": "Connection refused", "check_desc": "Layer4 connection problem", "chkdown": "1", "check_health": "0"},
		"app,web3":  {"status": "DRAIN"},
		"app,spare": {"status": "no check", "act": "0", "bck": "1"},
		"app,BACKEND": {"status": "UP", "act": "1", "bck": "1", // a drained server is not counted (HAProxy recount_servers)
			"algo": "roundrobin", "hrsp_2xx": "38", "hrsp_5xx": "1", "type": "1", "-": "-", "ssl_failed_handshake": ""},
	}
	if len(lines) != 7 {
		t.Fatalf("got %d lines:\n%s", len(lines), b.String())
	}
	for _, line := range lines[1:] {
		cells := strings.Split(line, ",")
		if len(cells) != len(cols)+1 {
			t.Fatalf("%d cells in %q, want %d", len(cells), line, len(cols)+1)
		}
		key := cells[0] + "," + cells[1]
		for field, v := range want[key] {
			i := indexOf(cols, field)
			if cells[i] != v {
				t.Errorf("%s %s = %q, want %q", key, field, cells[i], v)
			}
		}
		delete(want, key)
	}
	if len(want) != 0 {
		t.Errorf("rows missing: %v", want)
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	panic(s)
}

func TestHandlerAuthAndFormats(t *testing.T) {
	f := newFixture(t)
	hash, err := stats.Crypt("s3cret", "$6$abcdefgh")
	if err != nil {
		t.Fatal(err)
	}
	h := stats.NewHandler(stats.PageConfig{URI: "/stats", Realm: "Strictly Private", Refresh: 30 * time.Second,
		Users: []stats.User{{Name: "admin", Password: "password123"}, {Name: "ops", Password: hash}}}, f.src, f.m, f.m, nil)
	ts := httptest.NewServer(h)
	defer ts.Close()
	get := func(path, user, pass string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	for _, tc := range []struct {
		user, pass string
		code       int
	}{
		{"", "", 401}, {"admin", "nope", 401}, {"admin", "password123", 200}, {"ops", "s3cret", 200}, {"ops", "password123", 401}, {"root", "s3cret", 401},
	} {
		resp, _ := get("/stats", tc.user, tc.pass)
		if resp.StatusCode != tc.code {
			t.Errorf("%s:%s -> %d, want %d", tc.user, tc.pass, resp.StatusCode, tc.code)
		}
		if tc.code == 401 && resp.Header.Get("WWW-Authenticate") != `Basic realm="Strictly Private"` {
			t.Errorf("realm header %q", resp.Header.Get("WWW-Authenticate"))
		}
	}
	resp, body := get("/stats", "ops", "s3cret")
	if resp.Header.Get("Refresh") != "30" || !strings.Contains(body, `data-server="web2" data-state="DOWN"`) {
		t.Errorf("page: refresh %q, body lacks web2 DOWN", resp.Header.Get("Refresh"))
	}
	if strings.Contains(body, `type="checkbox"`) {
		t.Error("admin checkboxes shown without stats admin")
	}
	_, csv := get("/stats;csv", "ops", "s3cret")
	if !strings.HasPrefix(csv, "# pxname,svname,") || !strings.Contains(csv, "app,web2,") {
		t.Errorf("csv: %.200s", csv)
	}
	_, js := get("/stats;json", "ops", "s3cret")
	var rows [][]map[string]any
	if err := json.Unmarshal([]byte(js), &rows); err != nil || len(rows) != 6 {
		t.Fatalf("json: %d rows, %v", len(rows), err)
	}
	// the SSL module's fields continue HAProxy's numbering (typed output
	// F.2.0.105.ssl_failed_handshake in HAProxy 2.6)
	if !strings.Contains(js, `"field":{"pos":105,"name":"ssl_failed_handshake"},"processNum":1,"value":{"type":"u64","value":5}`) {
		t.Errorf("json lacks ssl_failed_handshake at pos 105: %.300s", js[strings.Index(js, "ssl_")-100:])
	}
	// POST without `stats admin` is refused.
	req, _ := http.NewRequest("POST", ts.URL+"/stats", strings.NewReader("b=app&s=web1&action=maint"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ops", "s3cret")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 403 || f.servers[0].Admin() != core.AdminReady {
		t.Fatalf("POST without admin: %d, web1 %v", r2.StatusCode, f.servers[0].Admin())
	}
}

func TestAdminButtons(t *testing.T) {
	f := newFixture(t)
	h := stats.NewHandler(stats.PageConfig{URI: "/", Admin: func(*http.Request) bool { return true }}, f.src, f.m, f.m, nil)
	ts := httptest.NewServer(h)
	defer ts.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		action string
		want   core.AdminState
		status string
	}{{"drain", core.AdminDrain, "DRAIN"}, {"maint", core.AdminMaint, "MAINT"}, {"ready", core.AdminReady, "UP"}} {
		resp, err := client.PostForm(ts.URL+"/", url.Values{"b": {"app"}, "s": {"web1"}, "action": {tc.action}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/;st=DONE" {
			t.Fatalf("%s: %d %q", tc.action, resp.StatusCode, resp.Header.Get("Location"))
		}
		if f.servers[0].Admin() != tc.want {
			t.Fatalf("%s: admin %v", tc.action, f.servers[0].Admin())
		}
		resp, _ = http.Get(ts.URL + "/")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `data-server="web1" data-state="`+tc.status) {
			t.Fatalf("%s: page does not show web1 %s", tc.action, tc.status)
		}
	}
}

func TestPrometheusPromtool(t *testing.T) {
	promtool := testenv.LookTool(t, "promtool", "prometheus")
	f := newFixture(t)
	reg := prometheus.NewPedanticRegistry()
	if err := stats.Register(reg, f.src, f.m); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`varde_server_status_up{proxy="app",server="web2"} 0`,
		`varde_server_status_up{proxy="app",server="web1"} 1`,
		`varde_server_admin_state{proxy="app",server="web3"} 1`,
		`varde_backend_active_servers{proxy="app"} 2`,
		`varde_frontend_sessions_total{proxy="www"} 42`,
		`varde_log_dropped_records_total 7`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "varde_") && !strings.Contains(line, "{") && !strings.HasPrefix(line, "varde_log_") {
			t.Errorf("unlabelled metric %q", line)
		}
	}
	file := filepath.Join(t.TempDir(), "metrics.txt")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
