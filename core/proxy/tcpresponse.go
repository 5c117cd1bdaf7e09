package proxy

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/varde-lb/varde/core/acl"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
)

// Response content inspection in mode tcp (`tcp-response inspect-delay`
// and `tcp-response content` rules of a backend), with HAProxy 2.6's
// semantics (its tcp_inspect_response analyser):
//
//   - the rules run once the server connection is up, then each time
//     server bytes arrive, until one decides (accept, reject, close) or
//     the delay expires; a rule whose condition read a sample that may
//     still change (res.len, res.payload not complete yet) waits for more
//     bytes while the delay runs. Without inspect-delay they run once at
//     once, with whatever is there (usually nothing);
//   - once the delay expired, the server closed or the buffer is full,
//     they run a last time with what is there; none matching accepts;
//   - accept: the bytes read go to the client, then everything as usual;
//     reject: the server connection is reset and the client's closed
//     without a byte of the response (log state PD, counted in the
//     frontend's, backend's and server's denied responses); close: the
//     bytes read go to the client, then both connections are closed;
//   - set-var, set-var-fmt, unset-var, sc-inc-gpc0/1, sc-set-gpt0 act and
//     the rules go on.
//
// Only the start of the response is inspected: after the decision the
// bytes flow untouched (and may be spliced). Meanwhile the client's bytes
// keep flowing to the server.

// tcpResView is the view response rules evaluate: the connection's
// addresses, variables and counters, and the server's bytes.
type tcpResView struct {
	tcpView
	res      []byte
	resFinal bool
}

func (v *tcpResView) ResPayload() ([]byte, bool) { return v.res, v.resFinal }

// resInspect runs a backend's response rules for one connection.
type resInspect struct {
	s   *session
	b   *Backend
	srv *server
}

// run inspects the first server bytes (see above); it reports the bytes
// sent to the client, the termination event and whether the connection
// is finished.
func (ri *resInspect) run(srv, client net.Conn, buf []byte, idle time.Duration) (int64, byte, bool) {
	s, cfg := ri.s, ri.b.cfg
	v := &tcpResView{tcpView: tcpView{src: s.src, dst: s.dst, st: &s.st, vars: &s.scr.vars}}
	start := time.Now()
	deadline := start.Add(cfg.ResInspectDelay)
	if idle <= 0 {
		idle = 50 * time.Second
	}
	final := cfg.ResInspectDelay <= 0
	n := 0
	defer srv.SetReadDeadline(time.Time{})
	for {
		v.res, v.resFinal = buf[:n], final
		if done, verdict := tcpResponseRules(cfg.TCPResponse, v); done {
			return ri.decide(verdict, srv, client, buf[:n])
		}
		if n == len(buf) || !time.Now().Before(deadline) {
			final = true
			continue
		}
		rd := time.Now().Add(idle)
		if deadline.Before(rd) {
			rd = deadline
		}
		srv.SetReadDeadline(rd)
		m, err := srv.Read(buf[n:])
		n += m
		switch {
		case err == nil:
		case isTimeout(err) && time.Now().Before(deadline):
			srv.Close() // timeout server hit first
			client.Close()
			return 0, logrec.TermServerTimeout, true
		default:
			final = true // delay expired, server closed or failed
		}
	}
}

// Verdicts of the response rules.
const (
	resAccept = iota
	resReject
	resClose
)

// decide applies a verdict to the bytes read.
func (ri *resInspect) decide(verdict int, srv, client net.Conn, got []byte) (int64, byte, bool) {
	if verdict == resReject {
		deniedResp(&ri.s.f.Counters, ri.b, ri.srv)
		if l, ok := srv.(interface{ SetLinger(int) error }); ok {
			l.SetLinger(0)
		}
		srv.Close()
		client.Close()
		return 0, logrec.TermProxy, true
	}
	if len(got) > 0 {
		client.SetWriteDeadline(time.Now().Add(ri.s.clientTimeout(0)))
		if _, err := client.Write(got); err != nil {
			srv.Close()
			return 0, logrec.TermClientAbort, true
		}
	}
	if verdict == resClose {
		if l, ok := srv.(interface{ SetLinger(int) error }); ok {
			l.SetLinger(0)
		}
		srv.Close()
		client.Close()
		return int64(len(got)), logrec.TermNone, true
	}
	return int64(len(got)), logrec.TermNone, false
}

// tcpResponseRules evaluates the rules once; done is false while a rule
// waits for more bytes (never when v is final).
func tcpResponseRules(rules []TCPRule, v *tcpResView) (done bool, verdict int) {
	for i := range rules {
		r := &rules[i]
		ok, miss := matchCond3(r.Cond, v)
		if miss && !v.resFinal {
			return false, resAccept
		}
		if !ok {
			continue
		}
		switch {
		case r.Var != nil:
			r.Var.doView(v.vars, v)
		case r.Track != nil:
			r.Track.scAction(v.st)
		case r.Reject:
			return true, resReject
		case r.Close:
			return true, resClose
		default:
			return true, resAccept
		}
	}
	return true, resAccept
}

// tcpResponseOf compiles a backend's tcp-response lines: mode tcp only
// (in mode http they would have to run on each response: refused until
// built), fetches limited to what exists there.
func tcpResponseOf(bc *BackendConfig, p *config.Proxy, set *acl.Set) error {
	bc.ResInspectDelay = p.ResInspectDelay
	for _, r := range p.TCPResponse {
		kw := "tcp-response content " + actionBase(r.Action)
		if p.EffectiveMode() == "http" {
			return diag.At(r.Pos, kw, "use http-response rules, or mode tcp", errors.New("tcp-response content in a mode http backend is not built yet: the rule would not run"))
		}
		rule := TCPRule{Reject: r.Action == "reject", Close: r.Action == "close"}
		if err := tcpVarRuleOf(&rule, r); err != nil {
			return diag.At(r.Pos, kw, "", err)
		}
		cond, err := tcpTrackCondOf(&rule, r, set)
		if err != nil {
			return diag.At(r.Pos, kw, "", err)
		}
		if cond != nil {
			rule.Cond = cond
		}
		if err := resFetchesOnly(&rule, cond); err != nil {
			return diag.At(r.Pos, kw, "use res.len, res.payload, res.ssl_hello_type, src, dst, var() and stick counters there", err)
		}
		bc.TCPResponse = append(bc.TCPResponse, rule)
	}
	return nil
}

// resFetches are what a response rule reads beyond the connection's.
var resFetches = map[string]bool{"res.len": true, "res.payload": true, "res.ssl_hello_type": true, "rep_ssl_hello_type": true}

func resFetchesOnly(rule *TCPRule, cond *acl.Condition) error {
	ok := func(n string) bool { return l4Fetches[n] || isStickFetch(n) || resFetches[n] }
	var bad string
	if cond != nil {
		cond.Fetches(func(n string) {
			if bad == "" && !ok(n) {
				bad = n
			}
		})
	}
	for _, e := range l4Exprs(rule) {
		if n := e.FetchName(); bad == "" && !ok(n) {
			bad = n
		}
	}
	if bad != "" {
		return fmt.Errorf("fetch %q cannot be used in a tcp-response content rule: what it reads is not there", bad)
	}
	return nil
}

var _ sample.ResPayloader = (*tcpResView)(nil)
