package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/proxy"
	"github.com/varde-lb/varde/core/stats"
)

// The running process (docs/reload.md): one configuration generation
// serves; a reload (SIGHUP, SIGUSR2, `varde ctl reload`, the admin
// socket's `reload`) builds the next one from the same files beside it,
// starts it in its place and retires the old one in the background, which
// drains its in-flight work up to hard-stop-after. A configuration that
// does not load leaves the running generation serving; every error is
// logged and reported to the caller with its file:line.

type process struct {
	files  []string
	log    *slog.Logger
	stderr io.Writer
	opts   generation.Options
	notify *notifier
	sigs   chan os.Signal
	up     *upgrade // -x / -sf / -st and systemd's sockets (upgrade.go)

	mu       sync.Mutex // one reload or stop at a time; guards cur and stopping
	cur      *generation.Generation
	reloads  atomic.Int64
	retiring sync.WaitGroup
	// drains ends the drains of retired generations when the process
	// stops (after its grace period).
	drains      context.Context
	cancelDrain context.CancelFunc
	// stopping is set (under mu) once the process stops; a reload asked
	// for after that fails at once. The stop holds mu only to set it, not
	// while the generation stops: the admin part's stop waits for its
	// sessions, one of which may be waiting for mu in reload.
	stopping bool
}

func newProcess(files []string, log *slog.Logger, stderr io.Writer, opts generation.Options) *process {
	// Signals are caught from the start: a SIGHUP while the first
	// configuration loads must not kill the process (Go's default); it
	// is served once running.
	p := &process{files: files, log: log, stderr: stderr, notify: newNotifier(), sigs: make(chan os.Signal, 8)}
	signal.Notify(p.sigs, append(append([]os.Signal(nil), stopSignals...), reloadSignals...)...)
	// A new HAProxy started with -sf but without -x that cannot bind
	// sends SIGTTOU ("pause your listeners"), then SIGTTIN ("resume")
	// when it gives up. Their default action would suspend varde for
	// good: an outage. varde cannot pause its listeners; it ignores both,
	// keeps serving, and the new process fails to start.
	signal.Ignore(syscall.SIGTTOU, syscall.SIGTTIN)
	p.drains, p.cancelDrain = context.WithCancel(context.Background())
	opts.Reload = p.reload
	p.opts = opts
	return p
}

// close releases a process that never ran.
func (p *process) close() { signal.Stop(p.sigs) }

// stopSignals end the process; reloadSignals reload it. SIGUSR1 is
// HAProxy's soft-stop, which `-sf PID` sends: the successor already holds
// the listeners and the VIPs (Generation.Handover).
var (
	stopSignals   = append(append([]os.Signal(nil), generation.StopSignals...), syscall.SIGUSR1)
	reloadSignals = []os.Signal{syscall.SIGHUP, syscall.SIGUSR2}
)

// run starts g, serves until a stop signal, reloading on the reload
// signals, then stops the current generation and every retiring one.
func (p *process) run(g *generation.Generation, pidfile string) error {
	defer signal.Stop(p.sigs)
	// The sockets of systemd and of the old process (-x) go into the
	// inventory before the first bind.
	if err := p.up.take(p.opts.Sockets, p.log); err != nil {
		p.notify.send("STATUS=start failed: " + oneLine(err.Error()))
		return err
	}
	// Not a signal context: the parts' goroutines must outlive the stop
	// signal until the generation stops them, in order.
	if err := g.Start(context.Background()); err != nil {
		p.notify.send("STATUS=start failed: " + oneLine(err.Error()))
		return err
	}
	p.mu.Lock()
	p.cur = g
	status := p.status()
	p.mu.Unlock()
	if h := g.HAProxy(); pidfile == "" && h != nil {
		pidfile = h.Global.PidFile
	}
	if pidfile != "" {
		if werr := os.WriteFile(pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); werr != nil {
			p.log.Warn("cannot write pidfile", "path", pidfile, "err", werr)
		} else {
			defer removeOwnPidfile(pidfile) // not a successor's (upgrade.go)
		}
	}
	// As HAProxy: root binds and writes the pidfile, then becomes the
	// configured user (privdrop_linux.go). A failed switch stops: never
	// run on as root against the configuration.
	if err := dropPrivileges(g, p.log); err != nil {
		_ = p.stop(syscall.SIGTERM)
		return err
	}
	// Inherited sockets no bind claimed are closed; then the old
	// processes (-sf/-st) are told to finish.
	p.up.started(p.opts.Sockets, p.log)
	p.log.Info("varde running", "pid", os.Getpid(), "engine", proxy.EngineOf.Get(g) != nil, "parts", fmt.Sprint(g.Parts()))
	p.notify.send("READY=1", "STATUS="+status, "MAINPID="+strconv.Itoa(os.Getpid()))
	for sig := range p.sigs {
		if sig == syscall.SIGHUP || sig == syscall.SIGUSR2 {
			p.log.Info("reload requested", "signal", sig.String())
			_ = p.reload() // logged and notified there
			continue
		}
		return p.stop(sig)
	}
	return nil
}

// stop ends the process on sig: the current generation stops within the
// grace period, retiring ones drain at most as long.
func (p *process) stop(sig os.Signal) error {
	p.mu.Lock()
	p.stopping = true
	g := p.cur
	p.mu.Unlock() // not across g's stop: see stopping
	// SIGUSR1 is a hand-over only when a successor took the listeners
	// (`_getsocks`, its -x): it holds the VIPs too. Anything else sending
	// SIGUSR1 (an old `postrotate kill -USR1`, a successor that never came)
	// gets a plain stop, which releases the VIPs: leaving them configured
	// with nobody advertising would make two hosts answer for one address.
	handover := sig == syscall.SIGUSR1 && p.opts.Sockets.HandedOver()
	if sig == syscall.SIGUSR1 && !handover {
		p.log.Warn("SIGUSR1 (soft-stop) but no successor took the listening sockets: stopping and releasing the VIPs")
	}
	p.log.Info("stopping", "signal", sig.String(), "grace", g.Opts.Grace, "handover", handover)
	p.notify.send("STOPPING=1", "STATUS=stopping ("+sig.String()+")")
	var err error
	if handover {
		// Soft-stop for a successor that holds the listeners (-sf): drain
		// as a reload's old generation does (idle keep-alive clients get
		// their linger, VIPs stay), within hard-stop-after, else the grace.
		ctx, cancel := p.drainContext(g, g.Opts.Grace)
		err = g.Retire(ctx)
		cancel()
		p.cancelDrain() // older generations: the same bound, now over
	} else {
		t := time.AfterFunc(g.Opts.Grace, p.cancelDrain)
		defer t.Stop()
		err = g.Stop()
	}
	p.retiring.Wait()
	p.log.Info("stopped")
	return err
}

// reload builds the next generation from the same files and, when it
// loads and starts, puts it in place of the running one, which retires in
// the background. On failure the running generation keeps serving and
// the error lists every problem with its file:line.
func (p *process) reload() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return errors.New("varde is not running yet")
	}
	if p.stopping {
		return errors.New("varde is stopping: no reload")
	}
	p.notify.send("RELOADING=1", "MONOTONIC_USEC="+strconv.FormatInt(monotonicUsec(), 10), "STATUS=reloading")
	err := p.replace()
	if err != nil {
		p.log.Error("reload failed: still serving the previous configuration", "err", oneLine(err.Error()))
		p.notify.send("READY=1", "STATUS=reload failed, serving the previous configuration: "+oneLine(err.Error()))
		return err
	}
	n := p.reloads.Add(1)
	p.log.Info("reload done", "reloads", n)
	p.notify.send("READY=1", "STATUS="+p.status())
	return nil
}

// replace loads and starts the next generation, then retires the old one.
func (p *process) replace() error {
	// A reload's generation takes over from a running one, as after a
	// binary upgrade: VRRP adopts the VIPs it finds (the running
	// generation's), never removes them as a crash's leftovers.
	opts := p.opts
	opts.Upgrade = true
	g, d := generation.Load(p.files, os.Getenv, opts)
	p.addExtras(g)
	var out bytes.Buffer
	d.Write(&out, false)
	p.stderr.Write(out.Bytes())
	if d.HasErrors() {
		g.Close()
		return d.Err()
	}
	if err := g.StartAfter(context.Background(), p.cur); err != nil {
		p.opts.Sockets.CloseUnclaimed() // the running engine's offered copies
		return fmt.Errorf("starting the new configuration: %w", err)
	}
	p.opts.Sockets.CloseUnclaimed() // binds the new configuration removed
	old := p.cur
	p.cur = g
	p.retiring.Add(1)
	go p.retire(old)
	return nil
}

// retire drains and stops a replaced generation: up to its global
// hard-stop-after when set (else until its work is done, as HAProxy's old
// processes), and at most the grace period once the process stops.
func (p *process) retire(old *generation.Generation) {
	defer p.retiring.Done()
	ctx, cancel := p.drainContext(old, 0)
	defer cancel()
	start := time.Now()
	if err := old.Retire(ctx); err != nil {
		p.log.Warn("previous configuration retired with an error", "err", err)
		return
	}
	p.log.Info("previous configuration retired", "drained_in", time.Since(start).Round(time.Millisecond))
}

// drainContext bounds the drain of g: its global hard-stop-after, else
// limit (0: none), and in any case the process's stop (p.drains).
func (p *process) drainContext(g *generation.Generation, limit time.Duration) (context.Context, context.CancelFunc) {
	if h := g.HAProxy(); h != nil && h.Global.HardStopAfter > 0 {
		limit = h.Global.HardStopAfter
	}
	if limit > 0 {
		return context.WithTimeout(p.drains, limit)
	}
	return context.WithCancel(p.drains)
}

// status is the STATUS= line while serving; the caller holds p.mu.
func (p *process) status() string {
	n := 0
	if e := proxy.EngineOf.Get(p.cur); e != nil {
		n = len(e.Frontends())
	}
	return fmt.Sprintf("serving %d frontends (reloads: %d)", n, p.reloads.Load())
}

// oneLine joins a multi-line error for a STATUS= line or a log attribute.
func oneLine(s string) string {
	return string(bytes.ReplaceAll(bytes.TrimSpace([]byte(s)), []byte("\n"), []byte("; ")))
}

// addExtras shows the process's reloads and goroutines in `show info` and
// Prometheus: a reload that leaks shows as a goroutine count that grows.
func (p *process) addExtras(g *generation.Generation) {
	g.AddExtra(func() []stats.Extra {
		return []stats.Extra{
			{Subsystem: "process", Name: "reloads_total", Help: "Configuration reloads done.", Counter: true, Value: float64(p.reloads.Load())},
			{Subsystem: "process", Name: "goroutines", Help: "Goroutines of the process (all generations).", Value: float64(runtime.NumGoroutine())},
		}
	})
}
