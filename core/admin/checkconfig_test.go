package admin

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/health"
)

// TestCheckConfig maps server lines and backend check settings onto
// health.Config field by field.
func TestCheckConfig(t *testing.T) {
	cfg := `global
    spread-checks 5
defaults
    mode http
    timeout connect 2s
    timeout check 3s
backend web
    option httpchk
    http-check send meth GET uri /status ver HTTP/1.1 hdr Host www.example.com
    http-check expect ! string maintenance
    http-check expect status 200-299
    server a 10.0.0.1:80 check inter 5s fastinter 1s downinter 10s rise 3 fall 2 port 8080 addr 10.0.0.9 slowstart 20s observe layer7 error-limit 5 on-error sudden-death
    server b 10.0.0.2:80 check agent-check agent-port 9999 agent-inter 7s agent-send ping
    server c 10.0.0.3:80
backend tls
    mode tcp
    option ssl-hello-chk
    server t 10.0.0.4:443 check
`
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	set, d := config.LoadFiles([]string{path}, func(string) string { return "" })
	if d.HasErrors() {
		t.Fatalf("config: %v", d.Items())
	}
	c := set.HAProxy
	httpSpec := health.HTTPSpec{Method: "GET", URI: "/status", Version: "HTTP/1.1", Headers: [][2]string{{"Host", "www.example.com"}}, HeaderLF: []bool{true},
		Expect: []health.Expect{{Negate: true, Kind: "string", Pattern: "maintenance"}, {Kind: "status", Pattern: "200-299"}}}
	want := map[string]health.Config{
		"a": {Enabled: true, Inter: 5 * time.Second, FastInter: time.Second, DownInter: 10 * time.Second, Rise: 3, Fall: 2,
			Timeout: 5 * time.Second, Addr: netip.MustParseAddr("10.0.0.9"), Port: 8080, Spread: 5, Slowstart: 20 * time.Second,
			Observe: "layer7", ErrorLimit: 5, OnError: "sudden-death", Probe: health.ProbeSpec{Type: "http", HTTP: httpSpec}},
		"b": {Enabled: true, Timeout: 5 * time.Second, Spread: 5, Probe: health.ProbeSpec{Type: "http", HTTP: httpSpec},
			Agent: &health.AgentConfig{Port: 9999, Inter: 7 * time.Second, Send: "ping"}},
		"c": {Timeout: 5 * time.Second, Spread: 5, Probe: health.ProbeSpec{Type: "http", HTTP: httpSpec}},
		"t": {Enabled: true, Timeout: 5 * time.Second, Spread: 5, Probe: health.ProbeSpec{Type: "ssl-hello"}},
	}
	for _, p := range c.Backends {
		for _, s := range p.Servers {
			got, err := checkConfig(c, p, s)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[s.Name], got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("server %s (-want +got):\n%s", s.Name, diff)
			}
		}
	}
}
