package admin_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// TestStatsPageInChromium loads the stats page of a running varde in
// headless Chromium, asserts the servers and their states are visible in
// the rendered DOM, and saves a screenshot (also to docs/img/stats.png when
// VARDE_UPDATE_SCREENSHOT=1).
func TestStatsPageInChromium(t *testing.T) {
	chromium := testenv.LookTool(t, "chromium", "chromium")
	bs := []*backend{newBackend(t, "web1"), newBackend(t, "web2"), newBackend(t, "spare")}
	v := startVarde(t, bs, "")
	v.waitStatus(t, "web1", "UP")
	bs[1].sick.Store(true)
	v.waitStatus(t, "web2", "DOWN")
	v.cli(t, "set server app/web1 state drain")
	// Some traffic so counters are not all zero.
	for i := 0; i < 20; i++ {
		if _, err := v.get(t, &http.Client{Timeout: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", v.stats)
	run := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir(), "--window-size=1400,900"}
		cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
		}
		return out.Bytes()
	}
	dom := string(run("--dump-dom", url))
	for _, want := range []string{
		`data-server="web1" data-state="DRAIN"`,
		`data-server="web2" data-state="DOWN"`,
		`data-server="spare" data-state="UP"`,
		`<td class="name">web1</td>`, `<td class="name">web2</td>`, `<td class="name">spare</td>`,
		"Layer7 wrong status", `type="checkbox"`, "Set state to DRAIN",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	// With the admin checkboxes and a long check description, the page
	// still fits a 1280 px window.
	if p := probePage(t, injector(t, url), 1280); p.SW > p.IW || p.Right > p.IW {
		t.Errorf("admin page at 1280 px: document %d px, rightmost cell at %d px (%s)", p.SW, p.Right, p.Where)
	}
	shot := filepath.Join(t.TempDir(), "stats.png")
	run("--screenshot="+shot, url)
	png, err := os.ReadFile(shot)
	if err != nil || len(png) < 10000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot %s: %d bytes, %v", shot, len(png), err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
	if os.Getenv("VARDE_UPDATE_SCREENSHOT") == "1" {
		root, err := testenv.ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, "docs", "img", "stats.png")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPrometheusExporterPromtool scrapes `use-service prometheus-exporter`
// of a running varde and lints it with promtool.
func TestPrometheusExporterPromtool(t *testing.T) {
	promtool := testenv.LookTool(t, "promtool", "prometheus")
	bs := []*backend{newBackend(t, "web1"), newBackend(t, "web2"), newBackend(t, "spare")}
	v := startVarde(t, bs, "")
	bs[1].sick.Store(true)
	v.waitStatus(t, "web2", "DOWN")
	for i := 0; i < 10; i++ {
		if _, err := v.get(t, &http.Client{Timeout: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", v.web))
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
		`varde_server_check_up_down_total{proxy="app",server="web2"} 1`,
		`varde_backend_active_servers{proxy="app"} 1`,
		`varde_frontend_http_requests_total{proxy="www"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestStatsAuth: `stats auth` with a plain password and a SHA-512 crypt
// hash, the realm, hide-version and the CSV export of a running varde.
func TestStatsAuth(t *testing.T) {
	bs := []*backend{newBackend(t, "web1"), newBackend(t, "web2"), newBackend(t, "spare")}
	v := startVarde(t, bs, "")
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(suffix, user, pass string) (int, http.Header, string) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/haproxy?stats%s", v.authStats, suffix), nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	code, h, _ := get("", "", "")
	if code != 401 || h.Get("WWW-Authenticate") != `Basic realm="Strictly Private"` {
		t.Fatalf("no credentials: %d %q", code, h.Get("WWW-Authenticate"))
	}
	if code, _, _ := get("", "admin", "wrong"); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	code, _, body := get("", "admin", "password123")
	if code != 200 || !strings.Contains(body, `data-server="web1"`) || strings.Contains(body, "version dev") {
		t.Fatalf("plain password: %d, hide-version respected=%v", code, !strings.Contains(body, "version dev"))
	}
	code, _, csv := get(";csv", "ops", "S3cret pass")
	if code != 200 || !strings.HasPrefix(csv, "# pxname,svname,") || !strings.Contains(csv, "\napp,web2,") {
		t.Fatalf("crypt password, ;csv: %d %.120q", code, csv)
	}
	if code, _, _ := get("", "ops", "password123"); code != 401 {
		t.Fatalf("crypt user with another's password: %d", code)
	}
}
