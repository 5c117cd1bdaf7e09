package proxy

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
)

// The seam for HAProxy's lua-load scripts. A scripting subsystem (the
// package scripting/haproxylua, linked by cmd/varde) prepares before the
// engine, loads the scripts, checks every `lua.NAME` the configuration
// uses against what they registered, and publishes a ScriptHost under
// ScriptHostOf; the engine binds its `http-request lua.NAME` rules and
// `use-service lua.NAME` services to it. core never imports the engine.

// ScriptHost is what the scripting subsystem gives the engine.
type ScriptHost interface {
	sample.Dynamic
	// Action is the registered action name for http-request rules (resp
	// false) or http-response rules, bound to the rule's arguments.
	Action(name string, args []string, resp bool) (ScriptAction, error)
	// Service is the registered HTTP service name (use-service lua.NAME).
	Service(name string) (http.Handler, error)
}

// ScriptHostOf is the generation's script host (nil without lua-load).
var ScriptHostOf = generation.NewKey[ScriptHost]("scripthost")

// ScriptAction is one bound `http-request|http-response lua.NAME` rule.
type ScriptAction interface {
	Run(t ScriptTxn) ScriptVerdict
}

// ScriptVerdict is what a script action asks the engine to do next
// (HAProxy's act.CONTINUE, act.STOP, act.DONE, act.DENY, act.ABORT, act.ERROR).
type ScriptVerdict uint8

const (
	ScriptContinue ScriptVerdict = iota // the next rule
	ScriptStop                          // no more rules of this list
	ScriptDone                          // t.Reply was sent; without a reply, as ScriptStop
	ScriptDeny                          // 403
	ScriptAbort                         // 503, as HAProxy 2.6 answers
	ScriptError                         // 500
)

// ScriptTxn is the transaction a script action sees (HAProxy's txn).
type ScriptTxn interface {
	Request() core.Request
	// InResponse is true in http-response rules.
	InResponse() bool
	// EvalCtx fills c for txn.f/txn.sf fetches; Reset it after use.
	EvalCtx(c *sample.Ctx)
	Vars() *sample.Vars
	// Priv is the script's private value for this transaction (set_priv).
	Priv() *any
	// Headers gives every header of the current message as it will be
	// sent: the received fields minus deleted ones, plus added ones.
	Headers(fn func(name, value []byte))
	SetHeader(name, value string)
	AddHeader(name, value string)
	DelHeader(name string)
	// SetMethod and SetTarget rewrite the request line (request only).
	SetMethod(m string)
	SetTarget(t string)
	// SetStatus rewrites the response status (response only).
	SetStatus(code int, reason string)
	// Reply answers with a complete response instead of the server's
	// (txn:done(reply)); headers are name, value pairs. Close ends the
	// transaction without an answer (txn:done() without a reply). Both
	// take effect when the action returns ScriptDone.
	Reply(status int, reason string, headers []string, body []byte)
	Close()
}

// scriptTx is the per-transaction state scripts change; reset by begin at
// no cost when no script ran.
type scriptTx struct {
	vars    sample.Vars
	priv    any
	status  int // response status rewritten by a script; 0: as received
	reason  string
	replied bool
	used    bool
	// What a response action asked for instead of the server's answer
	// (endReply: reply, endClose: nothing), sent by relayResponse.
	end      uint8
	rStatus  int
	rReason  string
	rHeaders []string
	rBody    []byte
}

const (
	endNone  uint8 = iota
	endReply       // the script's reply
	endClose       // no answer
	endPage        // the error page for the response's status (act.DENY)
	endError       // 500 (act.ERROR)
)

func (t *scriptTx) reset() {
	t.vars.Reset() // txn., req., res.: a lua fetch may have set some without any action running
	if !t.used {
		return
	}
	vars := t.vars
	*t = scriptTx{vars: vars}
}

// sessionTxn adapts a session to ScriptTxn.
type sessionTxn struct {
	s    *session
	resp bool
}

// ScriptState gives evaluations the script host (nil without lua-load)
// and the transaction's variables, which set-var rules use too.
func (s *session) ScriptState() (sample.Dynamic, *sample.Vars) {
	if s.e.cfg.Scripts == nil {
		return nil, &s.scr.vars
	}
	return s.e.cfg.Scripts, &s.scr.vars
}

// ScriptState makes the request view carry the script host and variables
// into every sample evaluation (RequestCtx).
func (v *reqView) ScriptState() (sample.Dynamic, *sample.Vars) { return v.s.ScriptState() }

func (t *sessionTxn) Request() core.Request { return &t.s.view }
func (t *sessionTxn) InResponse() bool      { return t.resp }
func (t *sessionTxn) EvalCtx(c *sample.Ctx) { t.s.evalCtx(c, t.resp) }
func (t *sessionTxn) Vars() *sample.Vars    { return &t.s.scr.vars }
func (t *sessionTxn) Priv() *any            { return &t.s.scr.priv }

// Headers walks the fields as the rules so far left them (rewrite_hdr.go).
func (t *sessionTxn) Headers(fn func(name, value []byte)) {
	if !t.resp {
		v := &t.s.view
		for i, n := 0, v.NumHeaders(); i < n; i++ {
			fn(v.HeaderAt(i))
		}
		return
	}
	h, e := (*respHead)(t.s), &t.s.rspE
	for i, n := 0, h.NumHeaders(); i < n; i++ {
		orig := i
		if e.on {
			orig = int(e.f[i].orig)
		}
		if orig >= 0 && !t.s.resp.Forwardable(orig, false) {
			continue
		}
		fn(h.HeaderAt(i))
	}
}

// A script's header edit is a literal rule of the same kind as the
// configuration's, applied in order with them. A host checks names and
// values first; a line break that got through anyway is dropped here, so
// no script can split a message.
func (t *sessionTxn) SetHeader(name, value string) {
	if safeField(name, value) {
		t.s.applyHeaderRule(&HTTPRule{Action: ActSetHeader, Name: name, Value: value}, t.resp)
	}
}
func (t *sessionTxn) AddHeader(name, value string) {
	if safeField(name, value) {
		t.s.applyHeaderRule(&HTTPRule{Action: ActAddHeader, Name: name, Value: value}, t.resp)
	}
}

func safeField(name, value string) bool {
	return name != "" && !strings.ContainsAny(name, " \t\r\n\x00:") && !strings.ContainsAny(value, "\r\n\x00")
}
func (t *sessionTxn) DelHeader(name string) {
	t.s.applyHeaderRule(&HTTPRule{Action: ActDelHeader, Name: name}, t.resp)
}

func (t *sessionTxn) SetMethod(m string) {
	if !t.resp && m != "" && !strings.ContainsAny(m, " \t\r\n\x00") {
		t.s.reqE.setMethod([]byte(m))
	}
}

func (t *sessionTxn) SetTarget(u string) {
	if !t.resp && u != "" && !strings.ContainsAny(u, " \t\r\n\x00") {
		t.s.reqE.setLine(lineURI, []byte(u), nil, nil)
	}
}

func (t *sessionTxn) SetStatus(code int, reason string) {
	if t.resp && code >= 100 && code <= 999 && !strings.ContainsAny(reason, "\r\n\x00") {
		t.s.setStatus(code, reason)
	}
}

func (t *sessionTxn) Reply(status int, reason string, headers []string, body []byte) {
	scr := &t.s.scr
	if scr.replied || scr.end != endNone {
		return
	}
	if t.resp {
		scr.end, scr.rStatus, scr.rReason, scr.rHeaders, scr.rBody = endReply, status, reason, headers, body
		return
	}
	scr.replied = true
	t.s.replyScript(status, reason, headers, body, nil, nil)
}

func (t *sessionTxn) Close() {
	if !t.s.scr.replied && t.s.scr.end == endNone {
		t.s.scr.end = endClose
	}
}

// runScript runs a script action rule. The host bounds the call in time
// and turns script errors into ScriptContinue (HAProxy logs them and goes
// on with the next rule).
func (s *session) runScript(rule *HTTPRule, resp bool) ScriptVerdict {
	s.scr.used = true
	t := sessionTxn{s: s, resp: resp}
	return rule.Script.Run(&t)
}

// scriptVerdictRequest turns a request action's verdict into the rule
// loop's result.
func (s *session) scriptVerdictRequest(v ScriptVerdict) (stop, done, keep bool) {
	switch v {
	case ScriptContinue:
		return false, false, false
	case ScriptStop:
		return true, false, false
	case ScriptDone:
		if s.scr.replied {
			return true, true, false
		}
		if s.scr.end == endClose {
			// txn:done() without a reply: HAProxy 2.6 closes the
			// connection without an answer (measured).
			s.rec.SetTerm(logrec.TermLocal, logrec.StateRequest)
			s.log(nil, nil)
			return true, true, false
		}
		// Without a reply, HAProxy 2.6 stops the rules and forwards the
		// request (measured: TestHAProxyLuaSameAnswers).
		return true, false, false
	case ScriptDeny:
		s.f.Denied.Add(1)
		s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		return true, true, s.answer(403, nil)
	case ScriptAbort:
		// HAProxy 2.6 answers an aborting http-request action with its
		// 503 page (measured: TestHAProxyLuaSameAnswers).
		s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		return true, true, s.answer(503, nil)
	default:
		// act.ERROR: HAProxy's internal error (termination I, eint).
		s.rec.SetTerm(logrec.TermInternal, logrec.StateRequest)
		return true, true, s.answer(500, nil)
	}
}

// replyScript sends a script's reply (txn:done(reply)). The request body,
// if any, was not read: the connection closes after it, as after a
// redirect with a body.
func (s *session) replyScript(status int, reason string, headers []string, body []byte, b *Backend, srv *server) {
	if status < 100 || status > 999 {
		status = 200
	}
	if reason == "" {
		reason = httpx.StatusText(status)
	}
	o := s.out[:0]
	o = httpx.AppendStatusLine(o, status, reason)
	if strings.ContainsAny(reason, "\r\n\x00") {
		reason = httpx.StatusText(status)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if !safeField(headers[i], headers[i+1]) {
			continue
		}
		if httpx.EqualFold([]byte(headers[i]), "content-length") || httpx.EqualFold([]byte(headers[i]), "connection") {
			continue
		}
		o = httpx.AppendField(o, []byte(headers[i]), []byte(headers[i+1]))
	}
	o = append(o, "content-length: "...)
	o = strconv.AppendInt(o, int64(len(body)), 10)
	o = append(o, "\r\nconnection: close\r\n\r\n"...)
	if !httpx.EqualFold(s.req.Method.Of(s.in), "head") {
		o = append(o, body...)
	}
	s.out = o
	n, sent, _ := s.writeLocal(o, status, b) // afterresp.go
	s.rec.BytesOut += countHTX(n, sent)
	if b == nil {
		s.rec.SetTerm(logrec.TermLocal, logrec.StateRequest)
		s.rec.BytesIn = int64(s.req.HeadLen)
		s.consume(s.req.HeadLen)
	}
	s.log(b, srv)
}

// scriptResponseEnd replaces the server's response as a response action
// asked (txn:done): the server connection is closed (its body unread),
// the reply or nothing is sent, and the client connection closes.
func (s *session) scriptResponseEnd(x *xchg) bool {
	x.up.c.Close()
	s.consume(x.consumed)
	scr := &s.scr
	if scr.end == endReply {
		s.replyScript(scr.rStatus, scr.rReason, scr.rHeaders, scr.rBody, x.b, x.srv)
		return false
	}
	switch scr.end {
	case endPage, endError:
		if scr.end == endPage {
			deniedResp(&s.f.Counters, x.b, x.srv)
		}
		code := int(s.rec.Status)
		if scr.end == endError || code == 0 {
			code = 500
		}
		s.rec.Status = int32(code)
		s.rec.SetTerm(logrec.TermProxy, logrec.StateHeaders)
		if scr.end == endError {
			s.rec.SetTerm(logrec.TermInternal, logrec.StateHeaders) // HAProxy's internal error
		}
		s.sendError(code, x.b)
	default:
		s.rec.SetTerm(logrec.TermLocal, logrec.StateHeaders)
	}
	s.log(x.b, x.srv)
	return false
}

// scriptVerdictResponse applies a response action's verdict; stop ends
// the response rules. HAProxy 2.6 (measured): act.STOP, act.DONE and
// act.ABORT stop the rules and forward the answer; act.DENY sends its page
// for the response's status; act.ERROR sends a 500.
func (s *session) scriptVerdictResponse(v ScriptVerdict) (stop bool) {
	switch v {
	case ScriptContinue:
		return false
	case ScriptDeny:
		if s.scr.end == endNone {
			s.scr.end = endPage
		}
	case ScriptError:
		if s.scr.end == endNone {
			s.scr.end = endError
		}
	}
	return true
}

// bindScripts binds the script rules and services of every proxy to the
// generation's host; the scripting subsystem already checked the names, so
// an error here means no host was built (lua-load missing).
func bindScripts(c *Config, h ScriptHost) error {
	c.Scripts = h
	bind := func(rules []*HTTPRule, resp bool) error {
		for _, r := range rules {
			if r.ScriptName == "" {
				continue
			}
			if h == nil {
				return &scriptBindError{Rule: r, Msg: "lua." + r.ScriptName + " is used but no lua-load script registered it"}
			}
			var err error
			if r.Action == ActService {
				r.Handler, err = h.Service(r.ScriptName)
			} else {
				r.Script, err = h.Action(r.ScriptName, r.ScriptArgs, resp)
			}
			if err != nil {
				return &scriptBindError{Rule: r, Msg: err.Error()}
			}
		}
		return nil
	}
	for _, f := range c.Frontends {
		if err := bind(f.HTTPRequest, false); err != nil {
			return err
		}
		if err := bind(f.HTTPResponse, true); err != nil {
			return err
		}
	}
	for _, b := range c.Backends {
		if err := bind(b.HTTPRequest, false); err != nil {
			return err
		}
		if err := bind(b.HTTPResponse, true); err != nil {
			return err
		}
	}
	return nil
}

// scriptBindError is a script rule the engine could not bind.
type scriptBindError struct {
	Rule *HTTPRule
	Msg  string
}

func (e *scriptBindError) Error() string { return e.Msg }
