package stats_test

import (
	"html"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/stats"
)

// TestShowOptions: `stats show-node`, `show-desc`, `show-legends` and
// `show-modules` add what HAProxy's page shows, and nothing without them.
func TestShowOptions(t *testing.T) {
	f := newFixture(t)
	upAddr := f.servers[0].Addr.String()
	legends := []string{"cap: frontend, mode: http, id: 2", "cap: backend, mode: http, id: 3",
		"balancing: roundrobin", "IPv4: " + upAddr + ", id: 1, cookie: 's1'", "IPv4: 127.0.0.1:1, id: 2<"}
	modules := []string{`<th colspan="1">Extra modules</th>`, "<th>ssl</th>",
		"<tr><th>Total number of ssl sessions established</th><td>30</td></tr>",
		"<tr><th>Total number of ssl sessions reused</th><td>12</td></tr>",
		"<tr><th>Total number of failed handshake</th><td>5</td></tr>",
		"<tr><th>Total number of ssl sessions established</th><td>-</td></tr>"}
	tests := []struct {
		name       string
		cfg        stats.PageConfig
		want, deny []string
	}{
		{"none", stats.PageConfig{}, []string{`<h2 id="report">Statistics Report for pid `}, append(append([]string{" on lb1", "primary lb"}, legends...), modules...)},
		{"node and desc", stats.PageConfig{Node: "lb1", Desc: "primary lb"}, []string{" on lb1: primary lb</h2>"}, legends},
		{"desc alone", stats.PageConfig{Desc: "primary lb"}, []string{`[0-9]: primary lb</h2>`}, nil},
		{"legends", stats.PageConfig{Legends: true}, legends, modules},
		{"modules", stats.PageConfig{Modules: true}, modules, legends},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := html.UnescapeString(getPage(t, stats.NewHandler(tt.cfg, f.src, f.m, f.m, nil), "/haproxy?stats"))
			for _, w := range tt.want {
				if w == `[0-9]: primary lb</h2>` {
					if i := strings.Index(page, ": primary lb</h2>"); i < 1 || page[i-1] < '0' || page[i-1] > '9' {
						t.Errorf("description not right after the pid")
					}
					continue
				}
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, d := range tt.deny {
				if strings.Contains(page, d) {
					t.Errorf("page has %q", d)
				}
			}
		})
	}
}
