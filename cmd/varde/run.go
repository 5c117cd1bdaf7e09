package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/proxy"
	_ "github.com/varde-lb/varde/plugins/all" // every built-in balancer, check and sink
)

// Subsystems plug into `varde run` without editing this file: each one
// lives in its own run_*.go and registers itself from init():
//
//	func init() {
//		registerSubsystem(subsystem{
//			name:  "health",
//			phase: afterEngine,
//			start: func(ctx context.Context, env *runEnv) (func(context.Context) error, error) {
//				if env.Engine == nil {
//					return nil, nil // nothing to do for this configuration
//				}
//				... start goroutines bound to ctx ...
//				return func(ctx context.Context) error { ... stop, bounded by ctx ... }, nil
//			},
//		})
//	}
//
// Start order: beforeEngine subsystems (in registration-name order), then
// the engine is built from env.Set (using env.Sink, which a beforeEngine
// subsystem such as the log pipeline may set) and started, then
// afterEngine subsystems (health checks, stats, admin socket, VIPs).
// Stop order on SIGINT/SIGTERM: afterEngine subsystems in reverse (a VIP
// is released before the engine drains), then the engine's graceful stop,
// then beforeEngine subsystems in reverse (the log pipeline flushes last).
// ctx is cancelled when the process begins to stop. A start error aborts
// the run: everything already started is stopped and varde exits 1.
// A nil stop func means nothing to stop.

// phase says when a subsystem starts relative to the engine.
type phase int

const (
	afterEngine  phase = iota // needs env.Engine (may be nil for keepalived-only configs)
	beforeEngine              // provides something the engine uses (env.Sink)
)

// subsystem is one part of a running varde besides the forwarding engine.
type subsystem struct {
	name  string
	phase phase
	start func(ctx context.Context, env *runEnv) (stop func(context.Context) error, err error)
}

// runEnv is what subsystems get.
type runEnv struct {
	Log *slog.Logger
	// Set is the loaded configuration (HAProxy and/or keepalived parts).
	Set *config.Set
	// Engine is the forwarding engine; nil when the configuration has no
	// haproxy.cfg sections (keepalived-only) and during beforeEngine.
	Engine *proxy.Engine
	// Sink receives one record per transaction; a beforeEngine subsystem
	// sets it. nil discards.
	Sink logrec.Sink
	// Stdout is where `log stdout` targets write.
	Stdout io.Writer
}

var subsystems []subsystem

func registerSubsystem(s subsystem) {
	for _, o := range subsystems {
		if o.name == s.name {
			panic("varde: subsystem registered twice: " + s.name)
		}
	}
	subsystems = append(subsystems, s)
}

func init() {
	register(&command{
		name:    "run",
		summary: "run the load balancer with haproxy.cfg / keepalived.conf files until SIGINT or SIGTERM",
		usage:   "-f FILE [-f FILE ...] [--log-format text|json] [--grace DUR] [--pidfile PATH]",
		run:     runRun,
	})
}

func runRun(args []string, stdout, stderr io.Writer) int {
	c := commands["run"]
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
	set, d := config.LoadFiles(files, os.Getenv)
	d.Write(stderr, false)
	if d.HasErrors() {
		fmt.Fprintln(stderr, checkSummary(set, d))
		fmt.Fprintln(stderr, "varde run: not starting: fix the errors above")
		return 1
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	// VARDE_CPUPROFILE=FILE writes a CPU profile of the whole run, for
	// performance work (`go tool pprof bin/varde FILE`).
	if path := os.Getenv("VARDE_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	if err := run(ctx, set, log, stdout, *grace, *pidfile); err != nil {
		log.Error("varde stopped with an error", "err", err)
		return 1
	}
	return 0
}

type started struct {
	name string
	stop func(context.Context) error
}

// run starts everything, waits for ctx, then stops in order.
func run(ctx context.Context, set *config.Set, log *slog.Logger, stdout io.Writer, grace time.Duration, pidfile string) (err error) {
	env := &runEnv{Log: log, Set: set, Stdout: stdout}
	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()
	var before, after []started
	stopAll := func(list []started) error {
		// Subsystems' goroutines are bound to runCtx: it ends before any
		// stop func runs, on the normal path and on every error path.
		cancelRun()
		var errs []error
		for i := len(list) - 1; i >= 0; i-- {
			sctx, cancel := context.WithTimeout(context.Background(), grace+5*time.Second)
			if e := list[i].stop(sctx); e != nil {
				errs = append(errs, fmt.Errorf("stop %s: %w", list[i].name, e))
			}
			cancel()
		}
		return errors.Join(errs...)
	}
	startPhase := func(ph phase) ([]started, error) {
		var out []started
		list := append([]subsystem(nil), subsystems...)
		sort.SliceStable(list, func(i, j int) bool { return list[i].name < list[j].name })
		for _, s := range list {
			if s.phase != ph {
				continue
			}
			stop, err := s.start(runCtx, env)
			if err != nil {
				return out, fmt.Errorf("start %s: %w", s.name, err)
			}
			if stop != nil {
				out = append(out, started{s.name, stop})
			}
		}
		return out, nil
	}

	before, err = startPhase(beforeEngine)
	if err != nil {
		return errors.Join(err, stopAll(before))
	}
	if h := set.HAProxy; h != nil && len(h.Frontends) > 0 {
		pcfg, perr := proxy.FromConfig(h)
		if perr != nil {
			return errors.Join(perr, stopAll(before))
		}
		pcfg.Sink = env.Sink
		eng, perr := proxy.New(pcfg, log)
		if perr == nil {
			perr = eng.Start()
		}
		if perr != nil {
			return errors.Join(perr, stopAll(before))
		}
		env.Engine = eng
		for _, f := range eng.Frontends() {
			log.Info("frontend listening", "frontend", f.Name, "addrs", fmt.Sprint(f.Addrs()))
		}
	}
	after, err = startPhase(afterEngine)
	if err != nil {
		err = errors.Join(err, stopAll(after))
		if env.Engine != nil {
			sctx, cancel := context.WithTimeout(context.Background(), grace)
			env.Engine.Stop(sctx)
			cancel()
		}
		return errors.Join(err, stopAll(before))
	}
	if pidfile == "" && set.HAProxy != nil {
		pidfile = set.HAProxy.Global.PidFile
	}
	if pidfile != "" {
		if werr := os.WriteFile(pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); werr != nil {
			log.Warn("cannot write pidfile", "path", pidfile, "err", werr)
		} else {
			defer os.Remove(pidfile)
		}
	}
	log.Info("varde running", "pid", os.Getpid(), "engine", env.Engine != nil, "subsystems", len(before)+len(after))

	<-ctx.Done()
	log.Info("stopping", "grace", grace)
	cancelRun()
	var errs []error
	errs = append(errs, stopAll(after))
	if env.Engine != nil {
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		if e := env.Engine.Stop(sctx); e != nil {
			log.Warn("graceful stop incomplete", "err", e)
		}
		cancel()
	}
	errs = append(errs, stopAll(before))
	log.Info("stopped")
	return errors.Join(errs...)
}
