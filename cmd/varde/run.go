package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	_ "github.com/varde-lb/varde/core/admin" // health checks, persistence, stats, admin socket
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/proxy"
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
		summary: "run the load balancer with haproxy.cfg / keepalived.conf files until SIGINT or SIGTERM",
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
	}
	up.options(&opts)
	g, d := generation.Load(files, os.Getenv, opts)
	d.Write(stderr, false)
	if d.HasErrors() {
		g.Close()
		fmt.Fprintln(stderr, checkSummary(g.Set, d))
		fmt.Fprintln(stderr, "varde run: not starting: fix the errors above")
		return 1
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT)
	defer cancel()
	ctx = up.softStop(ctx) // SIGUSR1: a successor's -sf
	// VARDE_CPUPROFILE=FILE writes a CPU profile of the whole run, for
	// performance work (`go tool pprof bin/varde FILE`).
	if path := os.Getenv("VARDE_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	if err := run(ctx, g, *pidfile, up); err != nil {
		log.Error("varde stopped with an error", "err", err)
		return 1
	}
	return 0
}

// run starts the generation, waits for ctx, then stops it in reverse
// start order.
func run(ctx context.Context, g *generation.Generation, pidfile string, up *upgrade) error {
	log := g.Opts.Logger
	if err := up.take(g.Opts.Sockets, log); err != nil {
		return err
	}
	// Not ctx: the parts' goroutines must outlive the stop signal until
	// the generation stops them, in order.
	if err := g.Start(context.Background()); err != nil {
		return err
	}
	if h := g.HAProxy(); pidfile == "" && h != nil {
		pidfile = h.Global.PidFile
	}
	if pidfile != "" {
		if werr := os.WriteFile(pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); werr != nil {
			log.Warn("cannot write pidfile", "path", pidfile, "err", werr)
		} else {
			defer removeOwnPidfile(pidfile) // not a successor's (upgrade.go)
		}
	}
	up.started(g.Opts.Sockets, log)
	log.Info("varde running", "pid", os.Getpid(), "engine", proxy.EngineOf.Get(g) != nil, "parts", fmt.Sprint(g.Parts()))

	<-ctx.Done()
	g.Handover = up.handedOver()
	log.Info("stopping", "grace", g.Opts.Grace, "handover", g.Handover)
	err := g.Stop()
	log.Info("stopped")
	return err
}
