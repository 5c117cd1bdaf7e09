package logpipe

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/stats"
)

// The log pipeline of a generation: every log-format compiles at Prepare
// (each sink checks its own target when the configuration is validated:
// a file@ directory exists and is writable), files and sockets open at
// Start. It starts before the
// engine (the engine logs into it) and stops after it, so every
// transaction of the graceful stop is flushed. A reload (SIGHUP) builds a
// new pipeline, which opens the files anew: that is how external logrotate
// setups reopen them (SIGUSR1 is HAProxy's soft-stop). The replaced
// pipeline stops only after its engine drained, so no queued record of the
// old generation is dropped.
func init() {
	generation.Register(generation.Subsystem{Name: "logs", Order: generation.OrderLogs, Prepare: prepare})
}

type part struct {
	g   *generation.Generation
	cfg *config.Config
	p   atomic.Pointer[Pipeline]
	// formats are the log-formats compiled at Prepare, once: their map
	// converters joined the generation's map files then (docs/maps.md).
	formats map[string]*Format
}

func prepare(g *generation.Generation, d *diag.List) generation.Part {
	c := g.HAProxy()
	if c == nil {
		return nil
	}
	if _, _, err := SpecsFromConfig(c); err != nil {
		d.Add(diag.Locate(err, c.Global.Pos, "log", ""))
		return nil
	}
	formats := map[string]*Format{}
	for _, p := range c.Frontends {
		if p.LogFormat == nil || formats[p.LogFormat.Value] != nil {
			continue
		}
		f, err := CompileFormat(p.LogFormat.Value)
		if err != nil {
			d.Add(diag.Locate(err, p.LogFormat.Pos, "log-format", "see docs/logging.md for the supported %-variables"))
			continue
		}
		formats[p.LogFormat.Value] = f
	}
	for _, l := range logLines(c) {
		if a := l.Anonymize; a != nil && a.Mode == "hmac" {
			checkKeyFile(l, a, d)
		}
	}
	pt := &part{g: g, cfg: c, formats: formats}
	g.AddExtra(pt.extra)
	return pt
}

func logLines(c *config.Config) []*config.Log {
	out := append([]*config.Log(nil), c.Global.Logs...)
	for _, p := range c.Frontends {
		out = append(out, p.Logs...)
	}
	return out
}

// checkKeyFile refuses what opening the hmac key ring at start would: a
// file that does not parse, one varde cannot read, or (as keys are added
// when a period starts, and the file is created when missing) one it
// cannot write.
func checkKeyFile(l *config.Log, a *config.Anonymize, d *diag.List) {
	if _, err := readKeyRing(a.KeyFile, a.Rotate, l.Retention); err != nil {
		d.Errorf(l.Pos, "log anonymize", "fix or remove the key file (varde creates it when missing)", "%v", err)
		return
	}
	target := a.KeyFile
	if _, err := os.Stat(target); err != nil {
		target = filepath.Dir(target)
	}
	if unix.Access(target, unix.W_OK) != nil {
		d.Errorf(l.Pos, "log anonymize", "give varde's user write access to "+target, "anonymize hmac: %s is not writable (keys are added when a period starts)", target)
	}
}

func (pt *part) Start(ctx context.Context) error {
	log := pt.g.Opts.Logger.With("subsystem", "logs")
	var p *Pipeline
	var err error
	p, err = New(pt.cfg, log, WithStdout(pt.g.Opts.Stdout, pt.g.Opts.Stderr), func(o *Options) { o.Formats = pt.formats })
	if err != nil {
		return err
	}
	p.Start()
	pt.p.Store(p)
	pt.g.Sink = p
	return nil
}

func (pt *part) Stop(ctx context.Context) error {
	p := pt.p.Load()
	err := p.Close(ctx)
	for _, st := range p.Stats() {
		pt.g.Opts.Logger.Info("log target totals", "target", st.Target, "written", st.Written,
			"dropped", st.Dropped, "failed", st.Failed)
	}
	if err != nil {
		return fmt.Errorf("logpipe: %w", err)
	}
	return nil
}

// extra reports the pipeline's drop and failure totals for the stats page
// and Prometheus; nothing before the pipeline starts.
func (pt *part) extra() []stats.Extra {
	p := pt.p.Load()
	if p == nil {
		return nil
	}
	var dropped, failed, accepted, written float64
	for _, t := range p.Stats() {
		dropped += float64(t.Dropped)
		failed += float64(t.Failed)
		accepted += float64(t.Queued)
		written += float64(t.Written)
	}
	return []stats.Extra{
		{Subsystem: "log", Name: "dropped_records_total", Help: "Log records dropped because a target's queue was full.", Counter: true, Value: dropped},
		{Subsystem: "log", Name: "failed_records_total", Help: "Log records in batches a target failed to write.", Counter: true, Value: failed},
		{Subsystem: "log", Name: "written_records_total", Help: "Log records written by the targets.", Counter: true, Value: written},
		// Every accepted record ends written or failed: the rest is queued
		// or in the batch being written.
		{Subsystem: "log", Name: "queued_records", Help: "Log records accepted and not yet written or failed (queues and batches in flight).", Value: max(accepted-written-failed, 0)},
	}
}
