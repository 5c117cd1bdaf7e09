package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"time"

	_ "github.com/varde-lb/varde/core/admin" // health checks, persistence, stats, admin socket
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/listen"
	_ "github.com/varde-lb/varde/logpipe"     // the log pipeline
	_ "github.com/varde-lb/varde/plugins/all" // every built-in balancer, check and sink
	// HAProxy's lua-load scripts (generation subsystem "lua"); linked here,
	// not in plugins/all, which core/proxy's own tests import.
	_ "github.com/varde-lb/varde/plugins/check/all" // health probes
	_ "github.com/varde-lb/varde/scripting/haproxylua"
	_ "github.com/varde-lb/varde/vip" // VRRP
)

// `varde run` builds a configuration generation (core/generation) exactly
// as `varde check` does, then starts it. The subsystems register
// themselves with an explicit order from their own packages, imported
// below: the log pipeline, the engine, health/stats/admin, VRRP.

func init() {
	register(&command{
		name:    "run",
		summary: "run the load balancer with haproxy.cfg / keepalived.conf files (SIGHUP/SIGUSR2 reload, SIGTERM/SIGINT stop)",
		usage:   "-f FILE [-f FILE ...] [--log-format text|json] [--grace DUR] [--pidfile PATH] [-x SOCKET] [-sf|-st PID...]",
		run:     runRun,
	})
}

func runRun(args []string, stdout, stderr io.Writer) int {
	c := commands["run"]
	up, args, err := takeUpgradeFlags(args) // binary upgrade: upgrade.go
	if err != nil {
		fmt.Fprintf(stderr, "varde run: %v\n", err)
		return 2
	}
	fs := newFlagSet(c, stdout, stderr)
	var files multiFlag
	fs.Var(&files, "f", "configuration `FILE` (haproxy.cfg or keepalived.conf syntax); repeat to merge in order")
	logFormat := fs.String("log-format", "text", "format of varde's own log on stderr: text or json")
	grace := fs.Duration("grace", 10*time.Second, "how long in-flight requests may take to finish on stop")
	pidfile := fs.String("pidfile", "", "write the process id to `PATH` (overrides global pidfile)")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if fs.NArg() > 0 || len(files) == 0 {
		fmt.Fprintf(stderr, "varde run: configuration files are given with -f FILE\n")
		fs.Usage()
		return 2
	}
	var log *slog.Logger
	switch *logFormat {
	case "text":
		log = slog.New(slog.NewTextHandler(stderr, nil))
	case "json":
		log = slog.New(slog.NewJSONHandler(stderr, nil))
	default:
		fmt.Fprintf(stderr, "varde run: --log-format must be text or json, not %q\n", *logFormat)
		return 2
	}
	opts := generation.Options{
		Logger: log, Stdout: stdout, Stderr: stderr, Version: version, Grace: *grace,
		Sockets: &listen.Inventory{},
	}
	up.options(&opts)
	p := newProcess(files, log, stderr, opts)
	p.up = up
	g, d := generation.Load(files, os.Getenv, p.opts)
	p.addExtras(g)
	d.Write(stderr, false)
	if d.HasErrors() {
		p.close()
		g.Close()
		fmt.Fprintln(stderr, checkSummary(g.Set, d))
		fmt.Fprintln(stderr, "varde run: not starting: fix the errors above")
		return 1
	}
	// VARDE_CPUPROFILE=FILE writes a CPU profile of the whole run, for
	// performance work (`go tool pprof bin/varde FILE`).
	if path := os.Getenv("VARDE_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	// VARDE_TRACE=FILE writes an execution trace (`go tool trace FILE`):
	// where goroutines wait, for latency work the CPU profile cannot show.
	if path := os.Getenv("VARDE_TRACE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if trace.Start(f) == nil {
				defer func() { trace.Stop(); f.Close() }()
			}
		}
	}
	if err := p.run(g, *pidfile); err != nil {
		log.Error("varde stopped with an error", "err", err)
		return 1
	}
	return 0
}
