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

// The health/persistence/stats/admin part of a generation. Prepare builds
// it (Build: health checks, backend hooks, stats pages and the exporter
// installed on the engine before it listens, so no request can slip past
// them) and checks what opening the admin sockets needs; Start runs the
// checks and opens the sockets.
func init() {
	generation.Register(generation.Subsystem{Name: "admin", Order: generation.OrderAdmin, Prepare: prepare})
}

type part struct {
	g *generation.Generation
	a *Attached
	// Reload (reload.go): the part this one took over from and the
	// sockets staged for this part.
	prev   *part
	handed []*handed
}

func prepare(g *generation.Generation, d *diag.List) generation.Part {
	c := g.HAProxy()
	e := proxy.EngineOf.Get(g)
	if c == nil || e == nil {
		return nil
	}
	for _, ss := range c.Global.StatsSockets {
		checkSocket(ss, d)
	}
	a, errs := Build(AttachOptions{Config: c, Engine: e, Logger: g.Opts.Logger, Version: g.Opts.Version, Extra: g.Extras,
		Sockets: g.Opts.Sockets, Events: func() health.EventSink { s, _ := g.Sink.(health.EventSink); return s }})
	for _, err := range errs {
		d.Add(diag.Locate(err, c.Global.Pos, "", ""))
	}
	if len(errs) > 0 {
		a.Close()
		return nil
	}
	return &part{g: g, a: a}
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
	if err := pt.a.Start(ctx); err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	pt.afterStart()
	return nil
}

func (pt *part) Stop(context.Context) error { return pt.a.Close() }

// Close releases a part that was built and never started.
func (pt *part) Close() error { return pt.a.Close() }
