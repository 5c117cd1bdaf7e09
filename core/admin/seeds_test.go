package admin

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/health"
	_ "github.com/varde-lb/varde/plugins/check/all"
)

// TestSeedSections builds the health checks, cookie persistence and stats
// pages of every seed article's haproxy.cfg (examples/seeds) exactly as
// `varde run` does, and checks the pieces the articles describe.
func TestSeedSections(t *testing.T) {
	files, err := filepath.Glob("../../examples/seeds/*-haproxy.cfg")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed configs: %v", err)
	}
	var checks, httpchks, cookies, statsPages int
	for _, f := range files {
		set, d := config.LoadFiles([]string{f}, func(string) string { return "" })
		if d.HasErrors() || set.HAProxy == nil {
			continue // the config package's own seed test reports these
		}
		c := set.HAProxy
		for _, p := range c.Backends {
			for _, s := range p.Servers {
				hc, err := checkConfig(c, p, s)
				if err != nil {
					t.Errorf("%s: %s/%s: %v", f, p.Name, s.Name, err)
					continue
				}
				hc.Normalize()
				if err := hc.Validate(); err != nil {
					t.Errorf("%s: %s/%s: %v", f, p.Name, s.Name, err)
				}
				if _, err := health.NewProbe(hc.Probe); err != nil {
					t.Errorf("%s: %s/%s: probe: %v", f, p.Name, s.Name, err)
				}
				if !hc.Enabled {
					continue
				}
				checks++
				if o := p.Option("httpchk"); o != nil {
					httpchks++
					if hc.Probe.Type != "http" || (o.HTTPChk != nil && o.HTTPChk.URI != "" && hc.Probe.HTTP.URI != o.HTTPChk.URI) {
						t.Errorf("%s: %s/%s: probe %+v for %+v", f, p.Name, s.Name, hc.Probe, o.HTTPChk)
					}
				}
				if s.Inter > 0 && hc.Inter != s.Inter || s.Rise > 0 && hc.Rise != s.Rise || s.Fall > 0 && hc.Fall != s.Fall {
					t.Errorf("%s: %s/%s: inter/rise/fall %v/%d/%d, config %v/%d/%d", f, p.Name, s.Name, hc.Inter, hc.Rise, hc.Fall, s.Inter, s.Rise, s.Fall)
				}
			}
			if p.Cookie != nil && p.EffectiveMode() == "http" {
				if _, err := cookieOf(p); err != nil {
					t.Errorf("%s: %s: cookie: %v", f, p.Name, err)
				}
				cookies++
			}
		}
		for _, p := range c.Frontends {
			if p.Stats == nil || (!p.Stats.Enabled && p.Stats.URI == "") {
				continue
			}
			h, err := statsHandler(p, nil, nil, "test", slog.New(slog.DiscardHandler))
			if err != nil {
				t.Errorf("%s: %s: stats: %v", f, p.Name, err)
				continue
			}
			uri := p.Stats.URI
			if uri == "" {
				uri = "/haproxy?stats"
			}
			if !h.Match(uri) || !h.Match(uri+";csv") {
				t.Errorf("%s: %s: stats page does not match %q", f, p.Name, uri)
			}
			statsPages++
		}
		for _, ss := range c.Global.StatsSockets {
			if ss.Level != "" {
				if _, err := ParseLevel(ss.Level); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
			if !strings.HasPrefix(ss.Path, "/") && ss.Addr == nil {
				t.Errorf("%s: stats socket without path or address", f)
			}
		}
	}
	t.Logf("seeds: %d checked servers (%d with httpchk), %d cookie backends, %d stats pages", checks, httpchks, cookies, statsPages)
	if checks == 0 || httpchks == 0 || cookies == 0 || statsPages == 0 {
		t.Fatal("the seeds' checks, cookies and stats sections were not all exercised")
	}
}
