// Package tcpcheck is HAProxy's tcp-check engine: `option tcp-check` with
// its `tcp-check connect|send|send-binary|expect|comment` rules, and the
// protocol checks HAProxy builds from the same rules (`option redis-check`,
// `option smtpchk`, `option pgsql-check`, `option mysql-check`,
// `option ldap-check`, protocols.go). Results carry HAProxy 2.6's status
// words and texts ("TCPCHK did not match content 'X' at step N").
package tcpcheck

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/plugins/check/checkvars"
)

func init() {
	health.RegisterProbeType(health.ProbeType{Name: "tcp-check", Option: "tcp-check", Parse: parseUser})
}

// bufSize is HAProxy's check buffer (tune.bufsize): a read fills at most
// this much, and a full buffer ends the wait for a match.
const bufSize = 16384

// step is one compiled rule.
type step struct {
	health.TCPCheckRule
	implicit bool
	pat      []byte
	re       *regexp.Regexp
	// Protocol checks compute texts and codes from the response.
	onOK, onErr func(buf []byte) string
	code        func(buf []byte) int
	// custom replaces the match for protocol checks that parse packets
	// (MySQL, LDAP): done=false waits for more data.
	custom func(buf []byte, last bool) verdict
	// set-var/unset-var, and send-lf's log-format (checkvars).
	cvar *checkvars.Var
	lf   *sample.Template
}

// Probe is a compiled rule set, shared read-only by every server.
type Probe struct {
	steps   []step
	proto   bool        // a protocol check: texts differ from plain tcp-check
	ruleTLS *tls.Config // the server's TLS client for `connect ssl` rules
}

var _ health.Probe = (*Probe)(nil)

func parseUser(spec health.ProbeSpec) (health.BuildProbe, error) {
	p, err := Compile(spec.TCP, false)
	if err != nil {
		return nil, err
	}
	p.ruleTLS = spec.RuleTLS
	return func() health.Probe { return p }, nil
}

// Compile validates rules and prepares them; comments are folded into the
// rules that follow as HAProxy does, and a connect is put first when the
// rules do not start with one.
func Compile(rules []health.TCPCheckRule, proto bool) (*Probe, error) {
	p := &Probe{proto: proto}
	comment, prev := "", "comment"
	for _, r := range rules {
		if r.Action != prev && prev != "comment" {
			comment = ""
		}
		prev = r.Action
		if r.Action == "comment" {
			comment = r.Comment
			continue
		}
		if r.Comment == "" {
			r.Comment = comment
		}
		if r.Action == "connect" {
			comment = ""
		}
		s, err := compileStep(r)
		if err != nil {
			return nil, err
		}
		p.steps = append(p.steps, s)
	}
	if len(p.steps) == 0 || p.steps[0].Action != "connect" {
		imp := step{implicit: true}
		imp.Action, imp.Default = "connect", true
		p.steps = append([]step{imp}, p.steps...)
	}
	return p, nil
}

func compileStep(r health.TCPCheckRule) (step, error) {
	s := step{TCPCheckRule: r}
	switch r.Action {
	case "set-var", "unset-var":
		if r.Var == nil {
			return s, fmt.Errorf("tcp-check %s without its variable", r.Action)
		}
		v, err := checkvars.Compile(*r.Var)
		if err != nil {
			return s, err
		}
		s.cvar = v
	case "send":
		if r.DataLF {
			t, err := sample.ParseTemplate(r.Data, sample.Options{})
			if err != nil {
				return s, err
			}
			s.lf = t
		}
	case "connect":
	case "expect":
		switch r.Match {
		case "string":
			s.pat = []byte(r.Pattern)
		case "binary":
			b, err := hex.DecodeString(r.Pattern)
			if err != nil {
				return s, core.ArgErrorf(-1, "an even number of hex digits", "tcp-check expect binary %q: %v", r.Pattern, err)
			}
			s.pat = b
		case "rstring", "rbinary":
			re, err := regexp.Compile(r.Pattern)
			if err != nil {
				return s, core.ArgErrorf(-1, "a regular expression in Go's RE2 syntax (no backreferences or lookarounds)", "tcp-check expect %s %q: %v", r.Match, r.Pattern, err)
			}
			s.re = re
		default:
			return s, core.ArgErrorf(-1, "string, rstring, binary or rbinary", "tcp-check expect %q is not supported", r.Match)
		}
	default:
		return s, fmt.Errorf("tcp-check %q is not supported", r.Action)
	}
	return s, nil
}

// stepID is HAProxy's step number: 0 for the implicit first connect.
func (s *step) stepID() int {
	if s.implicit {
		return 0
	}
	return s.Index + 1
}

// run is one check's state.
type run struct {
	p    *Probe
	t    health.Target
	ctx  context.Context
	mu   sync.Mutex // guards conn against unblock
	conn net.Conn
	buf  []byte
	eof  bool // the server closed or the read failed: no more data
	cur  *step
	vars *checkvars.Run // set-var, send-lf: the run's variables, nil until used
}

// Check implements health.Probe.
func (p *Probe) Check(ctx context.Context, t health.Target) core.CheckResult {
	start := time.Now()
	r := &run{p: p, t: t, ctx: ctx}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go r.unblock(done, stopped)
	res := r.exec()
	close(done)
	<-stopped
	if r.vars != nil {
		r.vars.Close()
	}
	if r.conn != nil {
		r.conn.Close()
	}
	res.Info = descText(res.Info)
	res.Duration = time.Since(start)
	return res
}

// descLen is HAProxy's HCHK_DESC_LEN: a check text holds 127 bytes, and
// it is a C string, so it ends at the first NUL.
const descLen = 127

func descText(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if len(s) > descLen {
		s = s[:descLen]
	}
	return s
}

// unblock ends a blocked read or write when the manager shuts down.
func (r *run) unblock(done, stopped chan struct{}) {
	defer close(stopped)
	select {
	case <-r.ctx.Done():
		r.mu.Lock()
		if r.conn != nil {
			_ = r.conn.SetDeadline(time.Unix(1, 0))
		}
		r.mu.Unlock()
	case <-done:
	}
}

func (r *run) exec() core.CheckResult {
	needRead := true
	for i := range r.p.steps {
		s := &r.p.steps[i]
		r.cur = s
		switch s.Action {
		case "connect":
			if res, ok := r.connect(s); !ok {
				return res
			}
			r.buf, r.eof = r.buf[:0], false
			needRead = true
		case "set-var", "unset-var":
			r.varRun().Do(s.cvar)
		case "send":
			r.buf = r.buf[:0]
			data := s.Data
			if s.lf != nil {
				data = r.varRun().Render(s.lf)
			}
			if err := r.write([]byte(data)); err != nil {
				return r.connErr(err)
			}
			needRead = true
		case "expect":
			res, ok := r.expect(s, needRead)
			if !ok {
				return res
			}
			needRead = false
		}
	}
	return r.success()
}

// varRun returns the run's variables, started at first use.
func (r *run) varRun() *checkvars.Run {
	if r.vars == nil {
		r.vars = checkvars.NewRun()
	}
	return r.vars
}

// success is the result once every rule passed: it depends on the last
// rule, as HAProxy.
func (r *run) success() core.CheckResult {
	s := r.cur
	switch s.Action {
	case "connect":
		st := "L4OK"
		if r.isTLS() {
			st = "L6OK"
		}
		info := "(tcp-check)"
		if s.implicit {
			info = ""
		}
		return core.CheckResult{OK: true, Status: st, Info: info}
	case "expect":
		st := "L7OK"
		if s.OKStatus != "" {
			st = s.OKStatus
		}
		res := core.CheckResult{Status: st}
		switch {
		case s.onOK != nil:
			res.Info = s.onOK(r.buf)
		case s.OnSuccess != "":
			res.Info = s.OnSuccess
		case !r.p.proto:
			res.Info = "(tcp-check)"
		}
		if s.code != nil {
			res.Code = s.code(r.buf)
		}
		res.OK = okStatus(st)
		return res
	}
	return core.CheckResult{OK: true, Status: "L7OK", Info: "(tcp-check)"}
}

func okStatus(st string) bool {
	switch st {
	case "L4OK", "L6OK", "L7OK", "L7OKC":
		return true
	}
	return false
}

func (r *run) isTLS() bool {
	_, ok := r.conn.(interface{ Handshake() error })
	return ok
}
