package admin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/proxy"
)

// The health/persistence/stats/admin part of a generation: everything
// Attach would refuse is checked at Prepare with the line it comes from
// (each server's check settings and probe, cookie persistence and its
// conditions, stats pages, admin socket levels and directories); Start
// attaches to the generation's engine.
func init() {
	generation.Register(generation.Subsystem{Name: "admin", Order: generation.OrderAdmin, Prepare: prepare})
}

type part struct {
	g *generation.Generation
	a *Attached
}

func prepare(g *generation.Generation, d *diag.List) generation.Part {
	c := g.HAProxy()
	if c == nil || proxy.EngineOf.Get(g) == nil {
		return nil
	}
	for _, p := range c.Backends {
		prepareBackend(c, p, d)
	}
	for _, p := range c.Frontends {
		if p.Stats != nil && (p.Stats.Enabled || p.Stats.URI != "") {
			if _, err := statsHandler(p, nil, nil, "", g.Opts.Logger); err != nil {
				d.Add(diag.Locate(err, p.Stats.Pos, "stats", ""))
			}
		}
	}
	checkBackendStats(c, d)
	for _, ss := range c.Global.StatsSockets {
		checkSocket(ss, d)
	}
	return &part{g: g}
}

func prepareBackend(c *config.Config, p *config.Proxy, d *diag.List) {
	if p.Disabled {
		return
	}
	for _, s := range p.Servers {
		hc, err := checkConfig(c, p, s)
		if err == nil {
			hc.Normalize()
			err = hc.Validate()
		}
		if err == nil {
			_, err = health.NewProbe(hc.Probe)
		}
		if err != nil {
			d.Add(diag.Locate(err, s.Pos, "server", ""))
		}
	}
	if p.Cookie != nil && p.EffectiveMode() == "http" {
		if _, err := cookieOf(p); err != nil {
			d.Add(diag.Locate(err, p.Cookie.Pos, "cookie", ""))
		}
	}
}

// checkBackendStats refuses stats set in a backend whose requests do not
// all pass through a frontend serving the same page: varde serves stats
// pages from frontends only, so those requests would reach the servers.
func checkBackendStats(c *config.Config, d *diag.List) {
	for _, b := range c.Backends {
		if b.Kind != config.KindBackend || b.Stats == nil || (!b.Stats.Enabled && b.Stats.URI == "") {
			continue
		}
		for _, f := range c.Frontends {
			if routesTo(f, b.Name) && !servesStats(f, statsURI(b.Stats)) {
				d.Errorf(b.Stats.Pos, "stats", "move the stats lines to frontend "+f.Name+" or to a listen section",
					"stats pages in a backend are not served by varde yet: requests for %s through frontend %q would reach the servers", statsURI(b.Stats), f.Name)
				break
			}
		}
	}
}

func routesTo(f *config.Proxy, backend string) bool {
	if f.DefaultBackend != nil && f.DefaultBackend.Value == backend {
		return true
	}
	for _, u := range f.UseBackends {
		if u.Backend == backend || isDynamic(u.Backend) {
			return true
		}
	}
	return false
}

func isDynamic(name string) bool {
	for i := 0; i+1 < len(name); i++ {
		if name[i] == '%' && name[i+1] == '[' {
			return true
		}
	}
	return false
}

func servesStats(f *config.Proxy, uri string) bool {
	return f.Stats != nil && (f.Stats.Enabled || f.Stats.URI != "") && statsURI(f.Stats) == uri
}

func statsURI(s *config.Stats) string {
	if s.URI == "" {
		return "/haproxy?stats"
	}
	return s.URI
}

// checkSocket refuses what the admin socket would fail on at start: a bad
// level, a missing or unwritable directory for a unix socket.
func checkSocket(ss *config.StatsSocket, d *diag.List) {
	if ss.Level != "" {
		if _, err := ParseLevel(ss.Level); err != nil {
			d.Add(diag.Locate(err, ss.Pos, "stats socket", ""))
		}
	}
	if ss.Path == "" {
		return
	}
	dir := filepath.Dir(ss.Path)
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		d.Errorf(ss.Pos, "stats socket", "create the directory (systemd: RuntimeDirectory=varde) or fix the path", "socket directory %s does not exist", dir)
	case !st.IsDir():
		d.Errorf(ss.Pos, "stats socket", "fix the path", "socket directory %s is not a directory", dir)
	case unix.Access(dir, unix.W_OK) != nil:
		d.Errorf(ss.Pos, "stats socket", "give varde's user write access to the directory", "socket directory %s is not writable", dir)
	}
}

func (pt *part) Start(ctx context.Context) error {
	a, err := Attach(ctx, AttachOptions{
		Config: pt.g.HAProxy(), Engine: proxy.EngineOf.Get(pt.g), Logger: pt.g.Opts.Logger,
		Version: pt.g.Opts.Version, Extra: pt.g.Extras,
	})
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	pt.a = a
	return nil
}

func (pt *part) Stop(context.Context) error { return pt.a.Close() }
