package logpipe

import (
	"fmt"
	"os"
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

// Encoder formats records outside a pipeline (tests, tools). Not safe for
// concurrent use.
type Encoder struct {
	format *Format
	json   bool
	ctx    encodeCtx
	now    func() time.Time
}

// EncoderConfig describes an Encoder.
type EncoderConfig struct {
	Format      string // httplog, tcplog, jsonlog or a log-format string
	Anon        AnonSpec
	Retention   time.Duration // for hmac key destruction
	ReqCaptures []string
	ResCaptures []string
	LogHeaders  []string       // Record.LogHeaders names
	ServerIDs   map[string]int // "backend/server" -> srv_id
	Location    *time.Location // default time.Local
	Now         func() time.Time
}

// NewEncoder compiles cfg.
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	e := &Encoder{now: cfg.Now}
	if e.now == nil {
		e.now = time.Now
	}
	switch cfg.Format {
	case "jsonlog":
		e.json = true
	case "httplog", "":
		e.format, _ = CompileFormat(HTTPLogFormat)
	case "tcplog":
		e.format, _ = CompileFormat(TCPLogFormat)
	default:
		f, err := CompileFormat(cfg.Format)
		if err != nil {
			return nil, err
		}
		e.format = f
	}
	var ring *keyRing
	if cfg.Anon.Mode == AnonHMAC {
		var err error
		if ring, err = openKeyRing(cfg.Anon.KeyFile, cfg.Anon.Rotate, cfg.Retention, e.now()); err != nil {
			return nil, fmt.Errorf("encoder: %w", err)
		}
	}
	loc := cfg.Location
	if loc == nil {
		loc = time.Local
	}
	e.ctx = encodeCtx{anon: newAnonymizer(cfg.Anon, ring), loc: loc, pid: os.Getpid(), dates: &dateCache{},
		reqNames: cfg.ReqCaptures, resNames: cfg.ResCaptures, logNames: cfg.LogHeaders, srvIDs: cfg.ServerIDs}
	for _, n := range cfg.ReqCaptures {
		e.ctx.reqKinds = append(e.ctx.reqKinds, kindOf(n))
	}
	for _, n := range cfg.ResCaptures {
		e.ctx.resKinds = append(e.ctx.resKinds, kindOf(n))
	}
	return e, nil
}

// Append encodes r (without syslog header or newline) onto dst.
func (e *Encoder) Append(dst []byte, r *logrec.Record) []byte {
	return e.AppendAt(dst, r, e.now())
}

// AppendAt is Append with the caller's clock reading (the pipeline's
// writers read the clock once per batch, not per record); now only picks
// the HMAC key period.
func (e *Encoder) AppendAt(dst []byte, r *logrec.Record, now time.Time) []byte {
	e.ctx.now = now
	if e.json {
		return appendJSON(dst, r, &e.ctx)
	}
	return e.format.appendRecord(dst, r, &e.ctx)
}
