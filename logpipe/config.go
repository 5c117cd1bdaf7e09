package logpipe

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
)

// Option adjusts Options when building a pipeline from a config.
type Option func(*Options)

// WithStdout sends `log stdout` / `log stderr` targets to w (tests, `varde
// run`'s own stdout).
func WithStdout(stdout, stderr io.Writer) Option {
	return func(o *Options) { o.Stdout, o.Stderr = stdout, stderr }
}

// New builds the pipeline for a configuration: one ProxySpec per frontend
// or listen section that has log targets (`log global` expands to the
// global section's), with its format (log-format, option jsonlog, httplog,
// tcplog), dontlognull and header captures; tune.log.* become Options.
// The pipeline is not started: call Start, and Close on stop.
func New(cfg *config.Config, logger *slog.Logger, opts ...Option) (*Pipeline, error) {
	specs, o, err := SpecsFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	for _, f := range opts {
		f(&o)
	}
	return NewFromSpecs(specs, o, logger)
}

// SpecsFromConfig translates the config model; exported for `varde check`
// style tooling and tests.
func SpecsFromConfig(cfg *config.Config) ([]ProxySpec, Options, error) {
	g := &cfg.Global
	o := Options{Batch: g.TuneLog.Batch, Flush: g.TuneLog.Flush, Block: g.TuneLog.OnFull == "block", Tag: g.LogTag}
	if o.Tag == "" {
		// HAProxy's tag is its program name: rsyslog rules and halog
		// pipelines written for it (`:programname, startswith, "haproxy"`)
		// keep filing varde's lines.
		o.Tag = DefaultTag
	}
	switch g.LogSendHostname {
	case "":
	case "-":
		o.Hostname, _ = os.Hostname()
	default:
		o.Hostname = g.LogSendHostname
	}
	o.ServerIDs = serverIDs(cfg)
	var specs []ProxySpec
	raised := cfg.RaisesLogLevel() // core/config/loglevel.go
	var err error
	for _, p := range cfg.Frontends {
		if p.Disabled {
			continue
		}
		ps := ProxySpec{Name: p.Name, Format: proxyFormat(p), DontLogNull: p.Option("dontlognull") != nil,
			DontLogNormal: p.Option("dontlog-normal") != nil, LogHeaders: p.LogHeaders(), Tag: p.LogTag, RaisedLevels: raised}
		for _, c := range p.Captures {
			switch c.What {
			case "request":
				ps.ReqCaptures = append(ps.ReqCaptures, c.Name)
			case "response":
				ps.ResCaptures = append(ps.ResCaptures, c.Name)
			}
		}
		ts, err := proxyTargets(g, p, o.Hostname)
		if err != nil {
			return nil, o, err
		}
		if ps.Targets = ts; len(ps.Targets) > 0 {
			specs = append(specs, ps)
		}
	}
	if o.Events, err = eventSpecs(cfg, o.Hostname); err != nil {
		return nil, o, err
	}
	return specs, o, nil
}

// proxyTargets is the log targets of a proxy, `log global` expanded.
// host is the syslog HOSTNAME (log-send-hostname): a syslog target without
// `format` gets HAProxy 2.6's unspecified format, which is rfc3164 with a
// host name and "local" (the same without it) when there is none.
func proxyTargets(g *config.Global, p *config.Proxy, host string) ([]TargetSpec, error) {
	var out []TargetSpec
	for _, lg := range p.Logs {
		list := []*config.Log{lg}
		if lg.Global {
			list = g.Logs
		}
		for _, l := range list {
			ts, err := targetFromConfig(l)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", l.Pos, err)
			}
			if l.Format == "" && ts.Format == FormatRFC3164 && host == "" {
				ts.Format = FormatLocal
			}
			out = append(out, ts)
		}
	}
	return out, nil
}

// HAProxyDefaultFormat is what HAProxy logs for a proxy without any log
// option: one line per connection, no timers.
const HAProxyDefaultFormat = "Connect from %ci:%cp to %fi:%fp (%f/"

func proxyFormat(p *config.Proxy) string {
	switch {
	case p.LogFormat != nil:
		return p.LogFormat.Value
	case p.Option("jsonlog") != nil:
		return "jsonlog"
	case p.Option("httplog") != nil && p.EffectiveMode() == "tcp":
		return "tcplog" // HAProxy falls back to tcplog in a TCP proxy
	case p.Option("httplog") != nil:
		if o := p.Option("httplog"); len(o.Args) > 0 && o.Args[0] == "clf" {
			return CLFLogFormat
		}
		return "httplog"
	case p.Option("tcplog") != nil:
		return "tcplog"
	}
	mode := "TCP)"
	if p.EffectiveMode() == "http" {
		mode = "HTTP)"
	}
	return HAProxyDefaultFormat + mode
}

// targetFromConfig translates a parsed log line. Names were judged by
// core/config against the same core tables, so the errors here only guard
// against a Log built by hand.
func targetFromConfig(l *config.Log) (TargetSpec, error) {
	ts := TargetSpec{Scheme: l.Kind, Raw: l.Target, Address: l.Path, Len: l.Len, Sample: l.Sample, Retention: l.Retention,
		RotateSize: l.RotateSize, Keep: l.Keep, Compress: l.Compress, RotateEvery: l.RotateEvery, Level: 7}
	if a := l.Addr; a != nil {
		host := a.Host
		if a.Addr.IsValid() {
			host = a.Addr.Addr().String()
		}
		ts.Address = net.JoinHostPort(host, strconv.Itoa(int(a.Port)))
	}
	ts.Format = defaultFormat(l.Kind)
	if l.Format != "" {
		f, ok := formatNames[l.Format]
		if !ok {
			return ts, fmt.Errorf("log %s: unknown format %q", l.Target, l.Format)
		}
		ts.Format = f
	}
	if ts.Facility = core.SyslogFacility(l.Facility); ts.Facility < 0 {
		return ts, fmt.Errorf("log %s: unknown facility %q", l.Target, l.Facility)
	}
	if l.Level != "" {
		if ts.Level = core.SyslogLevel(l.Level); ts.Level < 0 {
			return ts, fmt.Errorf("log %s: unknown level %q", l.Target, l.Level)
		}
	}
	if a := l.Anonymize; a != nil {
		switch a.Mode {
		case "ip":
			ts.Anon = AnonSpec{Mode: AnonIP, V4Bits: a.V4Bits, V6Bits: a.V6Bits}
		case "hmac":
			ts.Anon = AnonSpec{Mode: AnonHMAC, KeyFile: a.KeyFile, Rotate: a.Rotate}
		}
		pii, err := piiFromConfig(a)
		if err != nil {
			return ts, fmt.Errorf("log %s: anonymize: %w", l.Target, err)
		}
		ts.Anon.PII = pii
	}
	return ts, nil
}

// piiFromConfig: with an address mode (ip, hmac) every class and the
// audit's parameter names are masked unless `anonymize pii` / `anonymize
// params` say otherwise (`none`); `anonymize none` and a line with only
// params/mask mask what `anonymize pii` and `anonymize params` name.
func piiFromConfig(a *config.Anonymize) (PIISpec, error) {
	var p PIISpec
	cls := a.PII
	if cls == "" && (a.Mode == "ip" || a.Mode == "hmac") {
		cls = "all"
	}
	if cls != "" {
		c, err := ParsePIIClasses(cls)
		if err != nil {
			return p, err
		}
		p.Classes = c
	}
	switch {
	case len(a.Params) == 1 && a.Params[0] == "none":
	case len(a.Params) > 0:
		p.Params = a.Params
	case a.Mode == "ip" || a.Mode == "hmac":
		// What the audit looks for, so that what the anonymiser leaves,
		// the audit accepts.
		p.Params = DefaultAuditParams
	}
	if a.Mask != "" {
		m, err := ParseMasks(a.Mask)
		if err != nil {
			return p, err
		}
		p.Masks = m
	}
	return p, nil
}

// serverIDs numbers each backend's servers from 1 in order, as HAProxy
// assigns srv_id when no `id` is given (and as the engine numbers them).
func serverIDs(cfg *config.Config) map[string]int {
	ids := map[string]int{}
	for _, b := range cfg.Backends {
		for i, s := range b.Servers {
			ids[b.Name+"/"+s.Name] = i + 1
		}
	}
	return ids
}
