package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/stats"
	"github.com/varde-lb/varde/core/testenv"
)

// probeScript measures the rendered page in the browser and writes the
// result into the DOM for --dump-dom: whether the document is wider than
// the window, and the BACKEND row's status text and colours.
const probeScript = `<script>
(function(){
var d=document.documentElement, out={sw:d.scrollWidth, iw:window.innerWidth, right:0, rows:[]};
document.querySelectorAll('td, th').forEach(function(c){ var r=Math.ceil(c.getBoundingClientRect().right); if(r>out.right){out.right=r; var tb=c.closest('table'); out.where=(tb&&tb.id||'')+': '+c.textContent.slice(0,40);} });
document.querySelectorAll('tr').forEach(function(tr){
  var first=tr.cells.length>1 ? (tr.cells[0].textContent+' '+tr.cells[1].textContent) : '';
  if(!/\bBackend\b|\bBACKEND\b/.test(first)) return;
  var row={text:tr.textContent.replace(/\s+/g,' '), bg:'', color:''};
  Array.prototype.forEach.call(tr.querySelectorAll('td, td *'), function(el){
    if(el.childElementCount===0 && /^\s*DOWN\s*$/.test(el.textContent)){
      row.color=getComputedStyle(el).color; row.bg=getComputedStyle(el.closest('td')).backgroundColor;
    }
  });
  out.rows.push(row);
});
out.lines=document.querySelectorAll('svg.spark polyline').length;
document.body.setAttribute('data-probe', JSON.stringify(out));
})();
</script>`

type pageProbe struct {
	SW, IW int
	Right  int    // right edge of the rightmost table cell
	Where  string // its table and text
	Lines  int    // polylines drawn in the backends' history
	Rows   []struct{ Text, BG, Color string }
}

// injector serves target's page with probeScript before </body>.
func injector(t *testing.T, target string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(target)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		page := strings.Replace(string(b), "</body>", probeScript+"</body>", 1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

func chromiumRun(t *testing.T, width int, args ...string) []byte {
	chromium := testenv.LookTool(t, "chromium", "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), fmt.Sprintf("--window-size=%d,900", width), "--virtual-time-budget=3000"}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

var probeAttr = regexp.MustCompile(`data-probe="([^"]*)"`)

func probePage(t *testing.T, url string, width int) pageProbe {
	dom := string(chromiumRun(t, width, "--dump-dom", url))
	m := probeAttr.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no probe result in the rendered page at %d px", width)
	}
	raw := strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(m[1])
	var p pageProbe
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatalf("probe %q: %v", raw, err)
	}
	return p
}

// TestStatsPageDegradedVsHAProxy renders HAProxy's and varde's stats
// pages for the degraded case (web1 drained, web2 down, the backup in
// maintenance) in headless Chromium at 1280 and 1920 px: both show the
// backend DOWN in red, and varde's page is never wider than the window.
// With VARDE_UPDATE_SCREENSHOT=1 the screenshots go to docs/img/.
func TestStatsPageDegradedVsHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	testenv.LookTool(t, "chromium", "chromium")
	bs := []*backend{newBackend(t, "web1"), newBackend(t, "web2"), newBackend(t, "spare")}
	statsPorts := map[string]int{}
	n := 0
	lbs := startPair(t, func(sock string, port int) string {
		sp := testenv.FreePort(t)
		statsPorts[[]string{"haproxy", "varde"}[n]] = sp
		n++
		return diffConfig(sock, port, bs) + fmt.Sprintf("listen stats\n    bind 127.0.0.1:%d\n    stats enable\n    stats uri /stats\n", sp)
	})
	// Traffic spread over the history's first sampling periods, so varde's
	// page draws a request-rate line (then a 5xx one, once degraded).
	spread := func(d time.Duration, status int) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			for _, l := range lbs {
				diffTraffic(t, l, 1, status)
			}
		}
	}
	spread(stats.HistoryStep+time.Second, 200)
	bs[1].sick.Store(true)
	for _, l := range lbs {
		diffTraffic(t, l, 10, 200)
	}
	for _, l := range lbs {
		if err := testenv.Until(15*time.Second, 10*time.Millisecond, func() error {
			if st := parseCSV(t, send(t, "unix", l.sock, "show stat")).rows["app,web2"]["status"]; st != "DOWN" {
				return fmt.Errorf("%s web2 %q", l.name, st)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"set server app/web1 state drain", "disable server app/spare"} {
			send(t, "unix", l.sock, cmd)
		}
		diffTraffic(t, l, 3, 503)
	}
	spread(stats.HistoryStep+time.Second, 503)
	dir := t.TempDir()
	if os.Getenv("VARDE_UPDATE_SCREENSHOT") == "1" {
		root, err := testenv.ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "docs", "img")
	}
	for _, l := range lbs {
		url := injector(t, fmt.Sprintf("http://127.0.0.1:%d/stats", statsPorts[l.name]))
		for _, width := range []int{1280, 1920} {
			p := probePage(t, url, width)
			if l.name == "varde" && p.Lines < 2 {
				t.Errorf("varde at %d px: the history draws %d lines, want requests and 5xx", width, p.Lines)
			}
			var down bool
			for _, r := range p.Rows {
				if strings.Contains(r.Text, "DOWN") && (r.BG == "rgb(255, 144, 144)" || r.Color == "rgb(255, 0, 0)") {
					down = true
				}
			}
			if !down {
				t.Errorf("%s at %d px: no backend row red and DOWN: %+v", l.name, width, p.Rows)
			}
			fits := p.SW <= p.IW && p.Right <= p.IW
			t.Logf("%s at %d px: document %d px wide, rightmost cell ends at %d px, window %d px (fits: %v)", l.name, width, p.SW, p.Right, p.IW, fits)
			if l.name == "varde" && !fits {
				t.Errorf("varde's page is cut off at %d px: document %d px, rightmost cell at %d px", width, p.SW, p.Right)
			}
			shot := filepath.Join(dir, fmt.Sprintf("stats-degraded-%s-%d.png", l.name, width))
			chromiumRun(t, width, "--screenshot="+shot, url)
			if png, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
				t.Fatalf("screenshot %s: %v", shot, err)
			}
		}
	}
}
