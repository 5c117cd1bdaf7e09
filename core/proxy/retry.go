package proxy

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/logrec"
)

// Retries, as HAProxy 2.6 does them (docs/retries.md):
//
//   - `retries N` bounds the extra attempts of one request, connection
//     failures and layer-7 retries (`retry-on`) alike.
//   - a connection that could not be established is retried when retry-on
//     holds conn-failure (the default). The request never left varde, so
//     any request may be retried.
//   - a failure after the request was sent (empty or junk response,
//     response timeout, a listed status) is retried only when retry-on
//     names it and the request is replayable: varde had the whole request,
//     body included, when it sent it (nothing was streamed from the client)
//     and no interim (1xx) answer was relayed.
//   - a reused keep-alive connection found closed while the request was
//     being written is not a failure: the request did not get through, so
//     a replayable one goes again on a fresh connection, uncounted. Once
//     the whole request was sent and the server closed without a response
//     byte, the server may have acted on it: only an idempotent method is
//     replayed (RFC 9110 9.2.2), and only while retry-on is not none (see
//     replaySent); otherwise the client connection is closed without an
//     answer, as HAProxy 2.6 does (abort_keep_alive). Idle connections the
//     event loop saw closed while pooled are dropped before they are used.
//   - each retry may move to another server (option redispatch, see
//     redispatchNow); a retry to the same server after a refused connection
//     waits min(timeout connect, 1s) first.

// RetryOn is the set of failures `retry-on` names.
type RetryOn uint32

const (
	RetryConnFailure RetryOn = 1 << iota
	RetryEmptyResponse
	RetryJunkResponse
	RetryResponseTimeout
	Retry0RTTRejected // accepted: varde never sends early data, so it never fires
	Retry401
	Retry403
	Retry404
	Retry408
	Retry425
	Retry500
	Retry501
	Retry502
	Retry503
	Retry504
	// RetryNone is `retry-on none`: set so that the zero value can stay
	// HAProxy's default, conn-failure.
	RetryNone
)

// abortPoll is how often a queued request with option abortonclose looks
// whether its client left.
const abortPoll = 100 * time.Millisecond

// RedispatchOff is BackendConfig.RedispatchEvery for `option redispatch 0`.
const RedispatchOff = -1 << 30

// RetryAllRetryable is `all-retryable-errors`.
const RetryAllRetryable = RetryConnFailure | RetryEmptyResponse | RetryJunkResponse |
	RetryResponseTimeout | Retry0RTTRejected | Retry500 | Retry502 | Retry503 | Retry504

var retryWords = map[string]RetryOn{
	"none": RetryNone, "conn-failure": RetryConnFailure, "empty-response": RetryEmptyResponse,
	"junk-response": RetryJunkResponse, "response-timeout": RetryResponseTimeout,
	"0rtt-rejected": Retry0RTTRejected, "all-retryable-errors": RetryAllRetryable,
	"401": Retry401, "403": Retry403, "404": Retry404, "408": Retry408, "425": Retry425,
	"500": Retry500, "501": Retry501, "502": Retry502, "503": Retry503, "504": Retry504,
}

// ParseRetryOn reads retry-on's words; no words is the default.
func ParseRetryOn(words []string) (RetryOn, error) {
	var r RetryOn
	for _, w := range words {
		bit, ok := retryWords[w]
		if !ok {
			return 0, fmt.Errorf("retry-on: unknown keyword %q", w)
		}
		r |= bit
	}
	if r&RetryNone != 0 && r != RetryNone {
		return 0, errors.New("retry-on: none cannot be combined with other keywords")
	}
	return r, nil
}

// effective resolves the zero value to the default, conn-failure.
func (r RetryOn) effective() RetryOn {
	if r == 0 {
		return RetryConnFailure
	}
	return r
}

// status reports whether r retries on the response status code.
func (r RetryOn) status(code int) bool {
	var bit RetryOn
	switch code {
	case 401:
		bit = Retry401
	case 403:
		bit = Retry403
	case 404:
		bit = Retry404
	case 408:
		bit = Retry408
	case 425:
		bit = Retry425
	case 500:
		bit = Retry500
	case 501:
		bit = Retry501
	case 502:
		bit = Retry502
	case 503:
		bit = Retry503
	case 504:
		bit = Retry504
	default:
		return false
	}
	return r&bit != 0
}

// failKind is why an attempt ended without an answer for the client.
type failKind uint8

const (
	failNone    failKind = iota
	failConnect          // the connection could not be established
	failStale            // a reused connection was found closed: replay, uncounted
	failEmpty            // closed (or reset) after the request, nothing received
	failJunk             // not a valid response head
	failTimeout          // timeout server before the response head
	failStatus           // a final status retry-on lists
)

// retryBit is the retry-on kind a failure needs.
func (k failKind) retryBit() RetryOn {
	switch k {
	case failConnect:
		return RetryConnFailure
	case failEmpty:
		return RetryEmptyResponse
	case failJunk:
		return RetryJunkResponse
	case failTimeout:
		return RetryResponseTimeout
	}
	return 0
}

// mayRetry reports whether the failure k of this attempt is retried: the
// decision is taken where the failure is seen, before anything is answered,
// so that a refusal keeps the ordinary error path.
func (s *session) mayRetry(x *xchg, k failKind) bool {
	if s.e.stopping.Load() || s.clientGone(x) {
		return false
	}
	switch k {
	case failStale:
		return x.replayable && !x.fresh
	case failConnect:
		return x.retryOn&RetryConnFailure != 0 && x.tries < x.b.retries
	case failStatus:
		return x.replayable && x.tries < x.b.retries && x.retryOn.status(s.resp.Status)
	}
	return x.replayable && x.retryOn&k.retryBit() != 0 && x.tries < x.b.retries
}

// replaySent reports whether a request sent whole over a reused
// connection, which the server then closed with nothing received, goes
// again on a new connection (uncounted). The server may have processed it,
// so a proxy must not replay a non-idempotent request (RFC 9110 9.2.2),
// and `retry-on none` turns every replay off.
func (s *session) replaySent(x *xchg) bool {
	return x.retryOn != RetryNone && idempotent(s.view.Method()) && s.mayRetry(x, failStale)
}

// idempotent is RFC 9110 9.2.2's list of idempotent methods (methods are
// case-sensitive).
func idempotent(m []byte) bool {
	switch string(m) {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// clientGone is option abortonclose: a client that closed its side while
// the request was still being connected is not retried for.
func (s *session) clientGone(x *xchg) bool {
	return x.b.cfg.AbortOnClose && peerClosed(s.conn)
}

// abortedConnect ends a request whose client closed before varde
// connected for it (option abortonclose): no answer, the record says CC.
func (s *session) abortedConnect(x *xchg) bool {
	s.rec.SetTerm(logrec.TermClientAbort, logrec.StateConnect)
	s.log(x.b, x.srv)
	return false
}

// nextTry prepares the next attempt after a retryable failure: counts it,
// moves to another server when option redispatch says so, and waits the
// turn-around time before reconnecting to a server that refused. It
// returns false when no server is left (x.srv nil, its slot released):
// the caller answers.
func (s *session) nextTry(x *xchg, k failKind, refused bool) bool {
	b, srv := x.b, x.srv
	if k == failStale {
		// Not counted, and never twice (see mayRetry). The server may be
		// dying with its connections: where HAProxy would redispatch a
		// failed reused connection, the replay goes elsewhere.
		ok := !s.redispatchNow(x, false) || s.moveTo(x, b, srv)
		x.fresh = true
		return ok
	}
	x.tries++
	// A pooled connection may serve the retry: only a stale one makes the
	// next connection a new one (the pool may hold more of its kind).
	x.fresh = false
	s.rec.Retries++
	if !s.redispatchNow(x, true) {
		b.Retries.Add(1)
		srv.Retries.Add(1)
		if refused {
			s.turnAround(b)
		}
		return true
	}
	if !s.moveTo(x, b, srv) {
		return false
	}
	if x.srv == srv {
		b.Retries.Add(1)
		srv.Retries.Add(1)
		if refused {
			s.turnAround(b)
		}
	}
	return true
}

// moveTo redispatches x to another server of b when one can be had (the
// same one otherwise). It returns false when none can: srv was released.
func (s *session) moveTo(x *xchg, b *Backend, srv *server) bool {
	nsrv := s.redispatch(b, srv)
	if nsrv == nil {
		x.srv = nil
		return false
	}
	if nsrv != srv {
		nsrv.Total.Add(1)
		x.fresh = false // pooled connections of the new server are fine
	}
	x.srv = nsrv
	return true
}

// redispatchNow is HAProxy's stream_choose_redispatch (counted is false
// for the replay after a stale connection): with option
// redispatch, and unless persistence is forced, the retry goes to another
// server when the current one is no longer usable, when the redispatch
// interval says so (default: the last retry), or at once when the server
// was picked by a round-robin kind of balancing among several usable
// servers (that server does not matter then).
func (s *session) redispatchNow(x *xchg, counted bool) bool {
	b := x.b
	if !b.cfg.Redispatch || b.forced(s.pick.Req) {
		return false
	}
	if !x.srv.Usable() {
		return true
	}
	if !counted {
		// An uncounted replay has no place in the interval.
		return !x.persisted && b.roundRobinKind() && b.usableActives() > 1
	}
	every := b.cfg.RedispatchEvery
	switch every {
	case 0:
		every = -1
	case RedispatchOff:
		every = 0
	}
	if every > 0 {
		if x.tries%every == 0 {
			return true
		}
	} else if every < 0 {
		if n := b.retries + 1 + every; n > 0 && x.tries%n == 0 {
			return true
		}
	}
	return !x.persisted && b.roundRobinKind() && b.usableActives() > 1
}

// roundRobinKind reports HAProxy's BE_LB_KIND_RR algorithms.
func (b *Backend) roundRobinKind() bool {
	switch b.cfg.Balance.Algorithm {
	case "", "roundrobin", "static-rr", "random":
		return true
	}
	return false
}

func (b *Backend) usableActives() int {
	n := 0
	for _, cs := range b.Servers() {
		if !cs.Backup && cs.Usable() {
			n++
		}
	}
	return n
}

// turnAround is the wait before reconnecting to a server that refused:
// min(timeout connect, 1s), so a restarting server is not hammered. An
// event loop is not blocked meanwhile.
func (s *session) turnAround(b *Backend) {
	d := time.Second
	if tc := b.cfg.Timeouts.Connect; tc > 0 && tc < d {
		d = tc
	}
	offloadFor(s.conn, func() {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-b.e.stopCh:
		}
		t.Stop()
	})
}

// refusedConn reports a connection error the server answered at once
// (reset, refused), HAProxy's "asynchronous connection error", as opposed
// to a timeout.
func refusedConn(err error) bool {
	return err != nil && !isTimeout(err) && (errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH))
}

// retriesOf reads retry-on, option redispatch's interval and option
// abortonclose into bc.
func retriesOf(p *config.Proxy, bc *BackendConfig) error {
	r, err := ParseRetryOn(p.RetryOn)
	if err != nil {
		return fmt.Errorf("backend %s: %w", p.Name, err)
	}
	bc.RetryOn = r
	if o := p.Option("redispatch"); o != nil && len(o.Args) == 1 {
		n, err := strconv.Atoi(o.Args[0])
		if err != nil {
			return fmt.Errorf("backend %s: option redispatch %q: %w", p.Name, o.Args[0], err)
		}
		bc.RedispatchEvery = n
		if n == 0 {
			bc.RedispatchEvery = RedispatchOff
		}
	}
	bc.AbortOnClose = p.Option("abortonclose") != nil
	bc.BufferRequest = p.Option("http-buffer-request") != nil
	return nil
}

// peekState is what a non-blocking peek found on an idle socket.
type peekState uint8

const (
	peekEmpty  peekState = iota // nothing to read: the peer is silent
	peekData                    // bytes are waiting
	peekClosed                  // end of stream, or an error (reset)
)
