// Package logpipe turns the engine's per-transaction records into HAProxy
// httplog/tcplog (or log-format, or JSON) lines and delivers them to log
// targets: files with rotation and retention, syslog over UDP, TCP and UNIX
// sockets, stdout and stderr.
//
// The engine calls (*Pipeline).Log, which copies the record into one bounded
// queue per target and returns: it never waits for I/O. Each target has one
// writer goroutine that anonymises and encodes records, batches them
// (tune.log.batch, tune.log.flush) and hands each batch to its sink in one
// call. A full queue drops the record and counts it (tune.log.on-full drop,
// the default) or waits for room (block).
package logpipe

import (
	"context"
	"errors"
	"fmt"
	"github.com/varde-lb/varde/core"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

// Framing is how a sink separates messages in a batch.
type Framing uint8

const (
	FrameNewline    Framing = iota // files, stdout: one line per message
	FrameOctetCount                // TCP syslog, RFC 6587: "LEN SP MSG"
	FrameDatagram                  // UDP, unix datagram: one message per datagram
)

// Sink delivers batches for one target. Write gets every framed message of
// a batch back to back in buf, ends[i] being the end offset of message i
// (datagram sinks send one datagram per message). A Sink is used by one
// writer goroutine, except Reopen and Close.
type Sink interface {
	Framing() Framing
	Write(buf []byte, ends []int) error
	Close() error
}

// SinkEnv is what a sink factory gets besides its target.
type SinkEnv struct {
	Logger *slog.Logger
	Now    func() time.Time
	Stdout io.Writer
	Stderr io.Writer
}

// SinkFactory builds the sink for one target.
type SinkFactory func(spec TargetSpec, env SinkEnv) (Sink, error)

var (
	sinkMu    sync.Mutex
	factories = map[string]SinkFactory{}
)

// RegisterSink makes a sink available for a target scheme (udp, tcp, unix,
// file, stdout, stderr). Sinks register themselves in init().
func RegisterSink(scheme string, f SinkFactory) {
	sinkMu.Lock()
	defer sinkMu.Unlock()
	if _, dup := factories[scheme]; dup {
		panic("logpipe: sink registered twice: " + scheme)
	}
	factories[scheme] = f
}

func sinkFactory(scheme string) SinkFactory {
	sinkMu.Lock()
	defer sinkMu.Unlock()
	return factories[scheme]
}

// Defaults for tune.log.* and the syslog tag.
const (
	// DefaultTag is the syslog tag of a configuration without log-tag:
	// HAProxy's, since the configuration is an haproxy.cfg.
	DefaultTag   = "haproxy"
	DefaultBatch = 64
	DefaultFlush = 100 * time.Millisecond
)

// Options are the pipeline-wide settings.
type Options struct {
	Batch     int           // records per write (tune.log.batch)
	Flush     time.Duration // longest a record waits in a batch (tune.log.flush)
	Block     bool          // tune.log.on-full block
	QueueSize int           // records per target queue; default max(1024, 16*Batch)
	Hostname  string        // syslog HOSTNAME field
	Tag       string        // syslog tag (log-tag); SpecsFromConfig defaults it to DefaultTag
	PID       int
	Location  *time.Location   // for dates; default time.Local
	Now       func() time.Time // clock; default time.Now
	Report    time.Duration    // how often drops are reported in varde's log; default 10s
	Stdout    io.Writer        // for stdout targets; default os.Stdout
	Stderr    io.Writer        // for stderr targets; default os.Stderr
	// ServerIDs maps "backend/server" to HAProxy's srv_id (the server's
	// position in its backend, from 1), for %[srv_id].
	ServerIDs map[string]int
	// Events are the backends whose state changes are logged (events.go).
	Events []EventSpec
}

// ProxySpec is the logging setup of one frontend (or listen).
type ProxySpec struct {
	Name string
	// Format is "httplog", "tcplog", "jsonlog", or a log-format string.
	Format      string
	DontLogNull bool
	// DontLogNormal is `option dontlog-normal`: only errors, timeouts,
	// retries, redispatches and 5xx are logged.
	DontLogNormal bool
	ReqCaptures   []string // `capture request header` names, in order
	ResCaptures   []string
	LogHeaders    []string // request headers the log-format reads (Record.LogHeaders)
	// Tag is the proxy's log-tag; "" uses Options.Tag.
	Tag     string
	Targets []TargetSpec
	// RaisedLevels: some set-log-level rule of the configuration raises
	// lines above info, so targets limited below info are kept for them.
	RaisedLevels bool
}

type proxyLog struct {
	name     string
	format   *Format // nil for jsonlog
	json     bool
	nonull   bool
	nonormal bool
	reqKinds []headerKind
	resKinds []headerKind
	reqNames []string // capture names, for %[req.hdr(NAME)] at log time
	resNames []string
	logNames []string // Record.LogHeaders names
	targets  []*target
	logCount atomic.Uint32 // %lc
	tag      string        // log-tag of the proxy, "" for the global one
	// connectLine: HAProxy's default "Connect from" line (no log option).
	connectLine bool
}

// Pipeline is the running log pipeline of one config generation.
type Pipeline struct {
	opts     Options
	logger   *slog.Logger
	proxies  map[string]*proxyLog
	events   map[string]*eventLog // by backend
	targets  []*target
	keyRings map[string]*keyRing
	started  atomic.Bool
	closed   atomic.Bool
	reqCount atomic.Uint32 // %rt
	stopMon  chan struct{}
	monDone  chan struct{}
}

// NewFromSpecs builds a pipeline; Start launches its writers.
func NewFromSpecs(proxies []ProxySpec, opts Options, logger *slog.Logger) (*Pipeline, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.Flush <= 0 {
		opts.Flush = DefaultFlush
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = max(1024, 16*opts.Batch)
	}
	if opts.Tag == "" {
		opts.Tag = "varde"
	}
	if opts.PID == 0 {
		opts.PID = os.Getpid()
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Report <= 0 {
		opts.Report = 10 * time.Second
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	p := &Pipeline{opts: opts, logger: logger, proxies: map[string]*proxyLog{}, events: map[string]*eventLog{}, keyRings: map[string]*keyRing{}}
	byKey := map[string]*target{}
	for _, ps := range proxies {
		pl := &proxyLog{name: ps.Name, nonull: ps.DontLogNull, nonormal: ps.DontLogNormal, tag: ps.Tag}
		switch ps.Format {
		case "jsonlog":
			pl.json = true
		case "httplog", "tcplog", "":
			src := HTTPLogFormat
			if ps.Format != "httplog" {
				src = TCPLogFormat
			}
			pl.format, _ = CompileFormat(src)
		default:
			f, err := CompileFormat(ps.Format)
			if err != nil {
				p.closeSinks()
				return nil, fmt.Errorf("logpipe: proxy %s: %w", ps.Name, err)
			}
			pl.format = f
		}
		pl.connectLine = strings.HasPrefix(ps.Format, HAProxyDefaultFormat)
		pl.reqNames, pl.resNames, pl.logNames = ps.ReqCaptures, ps.ResCaptures, ps.LogHeaders
		for _, n := range ps.ReqCaptures {
			pl.reqKinds = append(pl.reqKinds, kindOf(n))
		}
		for _, n := range ps.ResCaptures {
			pl.resKinds = append(pl.resKinds, kindOf(n))
		}
		for _, ts := range ps.Targets {
			if ts.Level < LevelInfo && !ps.RaisedLevels {
				// HAProxy sends traffic logs at "info": a target limited to
				// notice or worse receives only the lines set-log-level
				// raised to its level, and there are none. Said aloud.
				logger.Warn("log target level is below info: traffic logs are not sent to it (as in HAProxy)",
					"proxy", ps.Name, "target", ts.Raw, "level", levels[ts.Level])
				continue
			}
			key := fmt.Sprintf("%+v", ts)
			t := byKey[key]
			if t == nil {
				var err error
				if t, err = p.newTarget(ts); err != nil {
					p.closeSinks()
					return nil, fmt.Errorf("logpipe: proxy %s: %w", ps.Name, err)
				}
				byKey[key] = t
				p.targets = append(p.targets, t)
			}
			pl.targets = append(pl.targets, t)
		}
		if len(pl.targets) > 0 {
			p.proxies[ps.Name] = pl
		}
	}
	if err := p.addEvents(opts.Events, byKey); err != nil {
		p.closeSinks()
		return nil, err
	}
	return p, nil
}

func (p *Pipeline) newTarget(ts TargetSpec) (*target, error) {
	f := sinkFactory(ts.Scheme)
	if f == nil {
		return nil, fmt.Errorf("log %s: no sink for %q targets in this build", ts.Raw, ts.Scheme)
	}
	var ring *keyRing
	if ts.Anon.Mode == AnonHMAC && (ts.Retention <= 0 || ts.Anon.Rotate <= 0) {
		p.logger.Warn("anonymize hmac without both rotate and retention: keys are never destroyed, so pseudonyms stay linkable to addresses for as long as the key file exists",
			"target", ts.Raw)
	}
	if ts.Anon.PII.usesHash() && ts.Anon.Mode != AnonHMAC {
		return nil, fmt.Errorf("log %s: anonymize mask hash needs the keys of anonymize hmac", ts.Raw)
	}
	if ts.Anon.Mode == AnonHMAC {
		ring = p.keyRings[ts.Anon.KeyFile]
		if ring == nil {
			var err error
			ring, err = openKeyRing(ts.Anon.KeyFile, ts.Anon.Rotate, ts.Retention, p.opts.Now())
			if err != nil {
				return nil, fmt.Errorf("log %s: %w", ts.Raw, err)
			}
			p.keyRings[ts.Anon.KeyFile] = ring
		} else if ts.Retention > 0 && (ring.retention == 0 || ts.Retention < ring.retention) {
			ring.retention = ts.Retention // shared key file: the shortest retention wins
		}
	}
	sink, err := f(ts, SinkEnv{Logger: p.logger.With("target", ts.Raw), Now: p.opts.Now,
		Stdout: p.opts.Stdout, Stderr: p.opts.Stderr})
	if err != nil {
		return nil, fmt.Errorf("log %s: %w", ts.Raw, err)
	}
	var smp *sampler
	if ts.Sample != "" {
		if smp, err = ParseSample(ts.Sample); err != nil {
			sink.Close()
			return nil, fmt.Errorf("log %s: %w", ts.Raw, err)
		}
	}
	maxLen := ts.Len
	if maxLen == 0 {
		maxLen = 1024
		if sc, ok := core.LookupSinkScheme(ts.Scheme); ok && sc.Len > 0 {
			maxLen = sc.Len
		}
	}
	host := p.opts.Hostname
	t := &target{
		spec:   ts,
		sink:   sink,
		frame:  sink.Framing(),
		q:      newQueue(p.opts.QueueSize),
		anon:   newAnonymizer(ts.Anon, ring),
		sample: smp,
		maxLen: maxLen,
		fr: framer{format: ts.Format, pri: ts.Facility*8 + LevelInfo, host: host,
			tag: p.opts.Tag, pid: p.opts.PID},
		batch: p.opts.Batch,
		flush: p.opts.Flush,
		block: p.opts.Block,
		now:   p.opts.Now,
		loc:   p.opts.Location,
		log:   p.logger,
		done:  make(chan struct{}),
	}
	t.ctx = encodeCtx{anon: t.anon, loc: p.opts.Location, pid: p.opts.PID, host: host, dates: &dateCache{}, srvIDs: p.opts.ServerIDs}
	return t, nil
}

func (p *Pipeline) closeSinks() {
	for _, t := range p.targets {
		t.sink.Close()
	}
}

// Start launches one writer per target and a monitor that reports drops in
// varde's own log every interval.
func (p *Pipeline) Start() {
	if p.started.Swap(true) {
		return
	}
	for _, t := range p.targets {
		go t.run()
	}
	p.stopMon, p.monDone = make(chan struct{}), make(chan struct{})
	go p.monitor(p.opts.Report)
}

func (p *Pipeline) monitor(every time.Duration) {
	defer close(p.monDone)
	tk := time.NewTicker(every)
	defer tk.Stop()
	last := make([]uint64, len(p.targets))
	for {
		select {
		case <-p.stopMon:
			return
		case <-tk.C:
		}
		for i, t := range p.targets {
			if d := t.dropped.Load(); d != last[i] {
				p.logger.Warn("log queue full: records dropped", "target", t.spec.Raw,
					"dropped_since_last", d-last[i], "dropped_total", d)
				last[i] = d
			}
		}
		for _, r := range p.keyRings {
			if err := r.prune(p.opts.Now()); err != nil {
				p.logger.Error("anonymize hmac: destroying expired keys failed", "err", err)
			}
		}
	}
}

// Log queues r for every target of its frontend. It copies r and returns
// at once (unless tune.log.on-full block and a queue is full).
func (p *Pipeline) Log(r *logrec.Record) {
	// %rt: HAProxy numbers every stream, logged or not; the engine hands
	// every transaction to the sink, so counting here, before the filters,
	// gives the same numbers (in the order transactions end). A connection
	// that sent nothing, under dontlognull, gets no stream in HAProxy.
	pl := p.proxies[r.Frontend]
	if pl != nil && pl.connectLine && r.Mode == logrec.ModeHTTP && r.Term[1] == logrec.StateRequest {
		// Without httplog or a log-format HAProxy logs "Connect from" per
		// stream, and a request that never completed has none.
		return
	}
	if r.Null() && pl != nil && pl.nonull {
		r.ReqCount = p.reqCount.Load()
	} else {
		r.ReqCount = p.reqCount.Add(1) - 1
	}
	if pl == nil || (pl.nonull && r.Null()) || (pl.nonormal && normal(r)) || r.LogLevel < 0 {
		return // r.LogLevel < 0: set-log-level silent
	}
	r.LogCount = pl.logCount.Add(1) - 1 // %lc, counted as HAProxy: after the filters
	level := recordLevel(r)
	for _, t := range pl.targets {
		if level > t.spec.Level {
			continue // a target limited below the line's level (set-log-level)
		}
		if !t.sample.take() {
			continue
		}
		if !t.q.put(r, pl, t.block) {
			t.dropped.Add(1)
		}
	}
}

var _ logrec.Sink = (*Pipeline)(nil)

// normal is what `option dontlog-normal` leaves out: a transaction that
// ended normally, without retry or redispatch, and not with a 5xx.
func normal(r *logrec.Record) bool {
	return r.Term[0] == '-' && r.Term[1] == '-' && r.Retries == 0 && !r.Redispatched && r.Status < 500
}

// Close stops accepting records, flushes every queue and closes the sinks.
// It waits for the writers until ctx ends.
func (p *Pipeline) Close(ctx context.Context) error {
	if p.closed.Swap(true) {
		return nil
	}
	if !p.started.Load() {
		p.closeSinks()
		return nil
	}
	for _, t := range p.targets {
		t.q.close()
	}
	var errs []error
	for _, t := range p.targets {
		select {
		case <-t.done:
			if t.closeErr != nil {
				errs = append(errs, t.closeErr)
			}
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("logpipe: %s: flush not finished: %w", t.spec.Raw, ctx.Err()))
		}
	}
	close(p.stopMon)
	<-p.monDone
	for _, t := range p.targets {
		if d := t.dropped.Load(); d > 0 {
			p.logger.Warn("log records dropped during this run", "target", t.spec.Raw, "dropped_total", d)
		}
	}
	return errors.Join(errs...)
}

// TargetStats are one target's exact counters.
type TargetStats struct {
	Target  string `json:"target"`
	Queued  uint64 `json:"queued"`  // accepted into the queue
	Dropped uint64 `json:"dropped"` // refused: queue full (or pipeline closed)
	Written uint64 `json:"written"` // handed to the sink successfully
	Failed  uint64 `json:"failed"`  // in batches the sink failed to write
	Batches uint64 `json:"batches"`
}

// Stats returns every target's counters, sorted by target.
func (p *Pipeline) Stats() []TargetStats {
	out := make([]TargetStats, 0, len(p.targets))
	for _, t := range p.targets {
		out = append(out, TargetStats{Target: t.spec.Raw, Queued: t.q.accepted.Load(), Dropped: t.dropped.Load(),
			Written: t.written.Load(), Failed: t.failed.Load(), Batches: t.batches.Load()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Target < out[j].Target })
	return out
}
