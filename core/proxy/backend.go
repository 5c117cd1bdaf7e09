package proxy

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/pool"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/core/tlsx"
)

// Backend is a running backend: its servers with their live state, the
// balancer and the queue.
type Backend struct {
	Name string
	Counters
	cfg *BackendConfig
	e   *Engine
	// list is the servers, configured ones in order then those added on
	// the admin socket: a copy-on-write snapshot, swapped whole by
	// dynserver.go so the request path reads it without a lock.
	list atomic.Pointer[serverList]
	// dispatch is `dispatch ADDR:PORT` without balance (dispatch.go):
	// the balancer's stand-in, not one of the servers; nil without.
	dispatch *server
	dynMu    sync.Mutex // serialises add/del server
	dynOK    bool       // the algorithm takes dynamic servers (core.DynamicServers)
	bal      core.Balancer
	pool     *pool.Pool
	retries  int
	errPages map[int][]byte
	hook     atomic.Pointer[Hook]
	services atomic.Pointer[[]service] // stats pages declared in the backend (service_backend.go)
	latency  latencyHist               // request durations, latency.go

	// Policy seams (see core/policy.go): serverPolicy wraps bal when
	// BackendConfig.ServerPolicy is set; sticky is BackendConfig.Sticky.
	serverPolicy *pool.PolicyBalancer
	sticky       core.Stickiness
	stickyFB     core.Fallbacks

	qmu     sync.Mutex
	waiters []*waiter
	nwait   atomic.Int32 // len(waiters), read without qmu by wake
	// qBound counts the queued requests bound to one server (persistence,
	// use-server): HAProxy keeps them in that server's queue, apart from
	// the backend queue that queueFirst looks at.
	qBound atomic.Int64
}

// waiter is one queued request: srv is the server it is bound to (nil: any
// server will do), by the server whose freed slot woke it (nil: a wake-up
// not tied to a slot, such as a state change), set before ch closes.
type waiter struct {
	ch  chan struct{}
	srv *core.Server
	by  *core.Server
}

// Hook lets other subsystems (cookie persistence, passive health) take part
// in a backend's transactions without touching the engine. Every field is
// optional; they run on the fast path and must not block.
type Hook struct {
	// Lookup is the built-in core.Stickiness (persist.Cookie's Lookup): the
	// server a request is bound to, or nil to let the balancer pick. A
	// stickiness policy (BackendConfig.Sticky) is asked before it. The engine uses it even when
	// it is down or in maintenance, so Lookup must filter those itself
	// unless persistence is forced.
	Lookup func(req core.Request, servers []*core.Server) *core.Server
	// RequestField may rewrite a request header field before it is
	// forwarded: it appends what to send instead to dst (possibly nothing)
	// and returns true, or returns false to forward the field unchanged.
	RequestField func(dst []byte, name, value []byte, srv *core.Server) ([]byte, bool)
	// ResponseField may rewrite a response header field from srv before it
	// reaches the client (cookie rewrite/prefix modes), with the same
	// contract as RequestField.
	ResponseField func(dst []byte, name, value []byte, srv *core.Server) ([]byte, bool)
	// ResponseFields appends extra response header lines ("Name: v\r\n")
	// for the client, e.g. Set-Cookie; persisted tells whether Lookup chose
	// srv. dst holds the response head built so far (status line and
	// forwarded fields), so it can see what the server set itself.
	ResponseFields func(dst []byte, req core.Request, status int, srv *core.Server, persisted bool) []byte
	// ForcePersist reports whether `force-persist` matches req: HAProxy
	// then never redispatches the final retry.
	ForcePersist func(req core.Request) bool
	// Cookie fills the termination state's cookie characters (cookie_state.go).
	Cookie *CookieLog
	// Observe is told every server outcome for passive health checks:
	// connect failure, timeout, or the response status.
	Observe func(srv *core.Server, o Observation)
}

// Observation is one transaction's outcome on a server.
type Observation struct {
	ConnFailed bool
	Timeout    bool
	BadResp    bool
	Status     int
}

// SetHook installs h (nil removes it). Safe while running.
func (b *Backend) SetHook(h *Hook) { b.hook.Store(h) }

// forced reports whether persistence is forced for req, which disables
// option redispatch.
func (b *Backend) forced(req core.Request) bool {
	if req == nil {
		return false
	}
	if h := b.hook.Load(); h != nil && h.ForcePersist != nil && h.ForcePersist(req) {
		return true
	}
	return len(b.cfg.StickForce) > 0 && b.stickForced(req)
}

func newBackend(e *Engine, bc *BackendConfig) (*Backend, error) {
	b := &Backend{Name: bc.Name, cfg: bc, e: e, retries: bc.Retries, errPages: map[int][]byte{}}
	if b.retries < 0 {
		b.retries = 3
	}
	for code, page := range bc.ErrorFiles {
		b.errPages[code] = page
	}
	spec := bc.Balance
	if spec.Algorithm == "" {
		spec.Algorithm = "roundrobin"
	}
	bal, err := core.NewBalancer(spec)
	if err != nil {
		return nil, &BuildError{Backend: bc.Name, Err: err}
	}
	b.dynOK = core.AcceptsDynamicServers(bal)
	if bc.ServerPolicy != nil {
		b.serverPolicy = pool.WithPolicy(bc.ServerPolicy, bal)
		bal = b.serverPolicy
	}
	b.bal, b.sticky = bal, bc.Sticky
	l := &serverList{}
	for i, sc := range bc.Servers {
		s, err := b.newServer(i, sc)
		if err != nil {
			return nil, err
		}
		l.servers = append(l.servers, s)
		l.cores = append(l.cores, s.Server)
	}
	l.sumQueues()
	b.list.Store(l)
	b.pool = pool.New(bc.Name, l.cores, bal, bc.AllBackups)
	if bc.Dispatch != nil {
		if b.dispatch, err = b.newServer(-1, *bc.Dispatch); err != nil {
			return nil, err
		}
		for _, cs := range l.cores {
			cs.FreezeState() // no balancer commits their state (dispatch.go)
		}
	}
	return b, nil
}

// newServer builds the i-th server of b from its `server` line.
func (b *Backend) newServer(i int, sc ServerConfig) (*server, error) {
	ap, rmaint, err := initialAddr(sc) // resolve.go: init-addr
	if err != nil {
		return nil, &BuildError{Backend: b.Name, Server: sc.Name, Err: err}
	}
	w := sc.Weight
	if w == 0 && !sc.Disabled {
		w = 1
	}
	if sc.Weight < 0 {
		w = 0
	}
	cs := core.NewServer(b.Name, sc.Name, i+1, ap, w, sc.MaxConn)
	cs.Backup, cs.Cookie, cs.MaxQueue, cs.SendProxy = sc.Backup, sc.Cookie, sc.MaxQueue, sc.SendProxy
	cs.SetDynamicLimit(sc.MinConn, b.cfg.FullConn, &b.CurConns)
	cs.Via = sc.Via
	if sc.Disabled {
		cs.InitAdmin(core.AdminMaint)
	}
	srv := &server{Server: cs, b: b, addr: ap.String(), lanes: make([]lane, 1), tls: sc.TLS, sni: sc.SNI,
		onDown: sc.ShutdownOnDown, onUp: sc.ShutdownBackupsOnUp,
		dstIP: ap.Addr().IsUnspecified(), portMap: sc.PortMap, portOff: sc.PortOffset, res: sc.Resolve, redir: sc.Redir}
	if rmaint {
		cs.SetResolveMaint(true) // init-addr none: MAINT until resolution gives an address
	}
	if sc.Resolve != nil {
		cs.Host = sc.Resolve.FQDN
	}
	srv.wasUp.Store(cs.IsUp())
	return srv, nil
}

func resolve(addr string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap, nil
	}
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// Refresh recomputes the pool handed to the balancer after a server's
// health, admin state or weight changed (core/pool: usable actives, else the
// first usable backup, or all of them with `option allbackups`), then lets a
// queued request retry.
func (b *Backend) Refresh() {
	b.pool.Refresh()
	b.wake()
	b.onMarked()
}

// Pool is the backend's server pool (for stats and the admin API).
func (b *Backend) Pool() *pool.Pool { return b.pool }

// Mode returns the backend's mode.
func (b *Backend) Mode() Mode { return b.cfg.Mode }

func (b *Backend) serverOf(cs *core.Server) *server {
	if d := b.dispatch; d != nil && d.Server == cs {
		return d
	}
	for _, s := range b.srvs() {
		if s.Server == cs {
			return s
		}
	}
	return nil
}

// tryTake reserves a connection slot on s within its maxconn.
func tryTake(s *core.Server) bool {
	return tryTakeUpTo(s, s.Limit()) // maxconn, or the minconn/fullconn dynamic limit
}

// tryTakeUpTo reserves a slot on s if fewer than m (0: no limit) are taken.
func tryTakeUpTo(s *core.Server, m int64) bool {
	for {
		a := s.Active.Load()
		if m > 0 && a >= m {
			return false
		}
		if s.Active.CompareAndSwap(a, a+1) {
			for {
				x := s.MaxActive.Load()
				if a+1 <= x || s.MaxActive.CompareAndSwap(x, a+1) {
					break
				}
			}
			return true
		}
	}
}

// done releases a slot taken by tryTake and hands it to a queued request.
// A server with a dynamic limit (fullconn.go) may have room for several
// queued requests when one ends: as HAProxy's process_srv_queue, as many
// as its limit now allows are woken.
func (b *Backend) done(s *server) {
	b.pool.Release(s.Server)
	n := 1
	if s.Dynamic() {
		n = int(s.Limit() - s.Active.Load()) // none when the load lowered the limit
	}
	b.wakeN(n, s.Server)
}

// wake lets a queued request retry after a change not tied to one slot.
func (b *Backend) wake() { b.wakeN(1, nil) }

// wakeN wakes n waiters for a slot freed on by: as HAProxy's
// process_srv_queue, those bound to by first (its own queue), then the
// oldest unbound ones; a waiter bound to another server is skipped, it
// could not use the slot. With by nil (a state change), the oldest waiter
// that is unbound or whose server has room.
func (b *Backend) wakeN(n int, by *core.Server) {
	// Every request ends here: skip the lock when nobody queues. A waiter
	// registering concurrently re-checks for a free slot after counting
	// itself, so no wake-up is lost.
	if b.nwait.Load() == 0 {
		return
	}
	b.qmu.Lock()
	if by != nil {
		n = b.wakeWhere(n, by, func(w *waiter) bool { return w.srv == by })
	}
	b.wakeWhere(n, by, func(w *waiter) bool { return w.srv == nil || (by == nil && !w.srv.Full()) })
	b.nwait.Store(int32(len(b.waiters)))
	b.qmu.Unlock()
}

// wakeWhere wakes up to n of the oldest waiters that ok accepts and
// returns how many wake-ups are left. qmu is held.
func (b *Backend) wakeWhere(n int, by *core.Server, ok func(*waiter) bool) int {
	keep := b.waiters[:0]
	for _, w := range b.waiters {
		if n > 0 && ok(w) {
			w.by = by
			close(w.ch)
			n--
			continue
		}
		keep = append(keep, w)
	}
	clear(b.waiters[len(keep):])
	b.waiters = keep
	return n
}

// passOn hands a wake-up its waiter could not use (bound elsewhere, client
// gone, server deleted) to the next waiter that can.
func (b *Backend) passOn(by *core.Server) { b.wakeN(1, by) }

// queueFirst reports whether a new request must queue behind the ones
// already queued rather than take a slot: HAProxy's assign_server for
// roundrobin, static-rr and first, when the backend queue holds requests
// (and not all of the backend's). It matters with dynamic limits, whose
// room grows with the load without anything dequeued.
func (b *Backend) queueFirst() bool {
	q := b.Queued.Load() - b.qBound.Load() // the backend queue only
	if q <= 0 || q == b.CurConns.Load() {
		return false
	}
	switch b.cfg.Balance.Algorithm {
	case "", "roundrobin", "static-rr", "first":
		return true
	}
	return false
}

// errQueueFull and errNoServer are why a pick failed.
type pickErr uint8

const (
	pickOK pickErr = iota
	pickNoServer
	pickQueueFull
	pickQueueTimeout
	pickAborted // option abortonclose: the client closed while queued
)

// pick chooses a server and takes a slot on it, waiting in the backend
// queue when every usable server is full. It returns the time spent queued.
func (b *Backend) pick(ctx *core.PickContext, sess *session) (*server, bool, time.Duration, pickErr) {
	var q queueSpot
	granted := false
	if b.queueFirst() {
		// Behind the queued requests, without the registration's
		// re-check: the room a dynamic limit gains as the load grows is
		// for them, taken when a request ends (done).
		q.enter(b, nil)
		ok, woken, by := b.waitTurnAfter(q.start, sess, nil, false)
		if !ok {
			return nil, false, q.leave(b), pickQueueTimeout
		}
		granted, q.by = woken, by
	}
	for {
		ctx.Granted = granted
		cs, persisted := b.choose(ctx, sess)
		ctx.Granted = false
		if cs != nil && b.take(cs, granted) {
			srv := b.serverOf(cs)
			if srv == nil {
				// Deleted (`del server`) since it was chosen: choose
				// again, and let another waiter have the wake-up.
				b.pool.Release(cs)
				granted = q.passOn(b, granted)
				continue
			}
			return srv, persisted, q.leave(b), pickOK
		}
		if cs == nil && !b.anyFull() {
			q.passOn(b, granted)
			q.leave(b)
			return nil, false, 0, pickNoServer
		}
		// Every candidate is full: wait in the queue, the server's own
		// when the request is bound to it.
		var bound *core.Server
		if persisted {
			bound = cs
		}
		if granted && q.by != nil && bound != nil && bound != q.by {
			// Woken for a slot on a server it is not bound to. Only
			// then: an unbound waiter that lost the slot to a newcomer
			// keeps the wake-up, or the waiters would spin passing it.
			q.passOn(b, granted)
		}
		if !q.in {
			if maxQ := b.list.Load().maxQ; maxQ > 0 && b.Queued.Load() >= maxQ {
				return nil, false, 0, pickQueueFull
			}
			q.enter(b, bound)
		} else {
			q.bind(b, bound)
		}
		ok, woken, by := b.waitTurnAfter(q.start, sess, bound, true)
		if !ok {
			return nil, false, q.leave(b), pickQueueTimeout
		}
		granted, q.by = woken, by
		if sess != nil && b.cfg.AbortOnClose && peerClosed(sess.conn) {
			// option abortonclose: the client left while queued.
			q.passOn(b, granted)
			return nil, false, q.leave(b), pickAborted
		}
	}
}

// queueSpot is a request's place in the queue while pick runs.
type queueSpot struct {
	in    bool
	start time.Time
	srv   *core.Server // bound to (counted in b.qBound and srv.Queued)
	by    *core.Server // whose freed slot woke it last
}

func (q *queueSpot) enter(b *Backend, srv *core.Server) {
	q.in, q.start = true, time.Now()
	b.enqueue()
	q.bind(b, srv)
}

// bind moves the request to srv's queue (nil: the backend's).
func (q *queueSpot) bind(b *Backend, srv *core.Server) {
	if q.srv == srv {
		return
	}
	if q.srv != nil {
		q.srv.Queued.Add(-1)
		b.qBound.Add(-1)
	}
	if srv != nil {
		srv.Queued.Add(1)
		b.qBound.Add(1)
	}
	q.srv = srv
}

// leave takes the request out of the queue and returns its time there.
func (q *queueSpot) leave(b *Backend) time.Duration {
	if !q.in {
		return 0
	}
	q.bind(b, nil)
	q.in = false
	b.Queued.Add(-1)
	return time.Since(q.start)
}

// passOn hands an unused slot wake-up (granted) to another waiter; it
// returns false, the wake-up being gone.
func (q *queueSpot) passOn(b *Backend, granted bool) bool {
	if granted {
		b.passOn(q.by)
	}
	return false
}

// choose is the server for ctx, without taking a slot: the server the
// request is bound to (stickiness), else the balancer's pick (a server
// policy first when there is one, see pool.WithPolicy), or before it the
// server of sess's kept connection (option prefer-last-server).
func (b *Backend) choose(ctx *core.PickContext, sess *session) (*core.Server, bool) {
	if ctx.Req != nil && ctx.Exclude == nil {
		if cs := b.stickTo(ctx.Req); cs != nil {
			return cs, true
		}
	}
	if cs := b.lastServer(ctx, sess); cs != nil && !cs.Full() {
		return cs, false
	}
	if b.dispatch != nil {
		return b.dispatch.Server, false // in the balancer's place (dispatch.go)
	}
	cs := b.bal.Pick(ctx)
	if cs == nil && ctx.Exclude != nil {
		// Redispatch found nothing else: the failed server is still
		// better than nothing.
		ctx.Exclude = nil
		cs = b.bal.Pick(ctx)
	}
	return cs, false
}

// stickTo asks the stickiness policy, then the built-in one (the hook's
// Lookup: cookie persistence). The hook owns its decision, down and
// maintenance servers included: `option persist` keeps sending to a down
// server and `force-persist` to one in maintenance (persist.Cookie.Lookup
// returns nil otherwise). A failed connect still retries and, with
// `option redispatch`, goes elsewhere on the last retry.
func (b *Backend) stickTo(req core.Request) *core.Server {
	if b.cfg.UseServer != nil { // use-server first, as HAProxy (dispatch.go)
		if cs := b.useServer(req); cs != nil {
			return cs
		}
	}
	if b.sticky != nil {
		if cs := b.askSticky(req); cs != nil {
			return cs
		}
	}
	if h := b.hook.Load(); h != nil && h.Lookup != nil {
		if cs := h.Lookup(req, b.Servers()); cs != nil {
			return cs
		}
	}
	return b.stickMatch(req) // stick on|match (stickpersist.go)
}

// askSticky is the stickiness policy's verdict when the engine may use it:
// one of this backend's servers, usable. Anything else falls back to the
// built-in and is counted.
func (b *Backend) askSticky(req core.Request) (cs *core.Server) {
	defer func() {
		if recover() != nil {
			b.stickyFB.Panicked()
			core.NotePolicy(req, core.PolicyFallback("panic"))
			cs = nil
		}
	}()
	core.StartPolicyCall(req)
	cs = b.sticky.Lookup(req, b.Servers())
	switch {
	case cs == nil:
		b.stickyFB.Declined()
		core.DeclinedPolicyCall(req)
	case b.serverOf(cs) == nil || !cs.Usable():
		b.stickyFB.Rejected()
		core.NotePolicy(req, core.PolicyFallback("unusable"))
		cs = nil
	default:
		core.NotePolicy(req, cs.Name)
	}
	return cs
}

// PolicyFallbacks counts how often the built-in decided instead of the
// backend's policies (server choice, stickiness), by reason.
func (b *Backend) PolicyFallbacks() (server, sticky core.FallbackStats) {
	if b.serverPolicy != nil {
		server = b.serverPolicy.Stats()
	}
	return server, b.stickyFB.Stats()
}

// enqueue counts a request entering the backend queue.
func (b *Backend) enqueue() {
	n := b.Queued.Add(1)
	for {
		m := b.MaxQueued.Load()
		if n <= m || b.MaxQueued.CompareAndSwap(m, n) {
			return
		}
	}
}

// waitTurn waits until a slot may have been freed or the queue timeout
// (timeout queue, else timeout connect, else 5s) counted from start has
// passed; it returns false on timeout. recheck wakes the oldest waiter at once when a slot freed between the
// pick and the registration; woken reports a wake-up (a slot was handed
// over) rather than the wait's end.
// srv is the server the request is bound to (nil: none); by is the server
// whose freed slot woke it.
func (b *Backend) waitTurnAfter(start time.Time, sess *session, srv *core.Server, recheck bool) (ok, woken bool, by *core.Server) {
	timeout := b.cfg.Timeouts.Queue
	if timeout <= 0 {
		timeout = b.cfg.Timeouts.Connect
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	left := timeout - time.Since(start)
	if left <= 0 {
		return false, false, nil
	}
	if b.cfg.AbortOnClose && left > abortPoll {
		// Come back now and then to see whether the client left.
		left = abortPoll
	}
	w := &waiter{ch: make(chan struct{}), srv: srv}
	b.qmu.Lock()
	b.waiters = append(b.waiters, w)
	b.nwait.Store(int32(len(b.waiters)))
	b.qmu.Unlock()
	// A slot may have freed between the pick and the registration.
	// Alone in the queue, the request has nobody ahead to wait for (the
	// ones it queued behind left: timeout, abort).
	if (recheck || b.nwait.Load() == 1) && !b.anyFull() {
		b.wake()
	}
	// Not woken by a stop: a queued request is in-flight work that a
	// stop or a reload's drain lets finish (a freed slot wakes it), and
	// waking it early would only spin it through the queue again.
	wait := func() {
		t := time.NewTimer(left)
		select {
		case <-w.ch:
		case <-t.C:
		}
		t.Stop()
	}
	// An event loop must not block: there the wait runs on a goroutine
	// while this session's coroutine is suspended.
	var c net.Conn
	if sess != nil {
		c = sess.conn
	}
	offloadFor(c, wait)
	b.unwait(w)
	select {
	case <-w.ch:
		woken, by = true, w.by // by is written before the close
	default:
	}
	return true, woken, by
}

// take reserves a slot on cs for a request. A request woken from the
// queue (granted) takes one of the slots its wake-up counted, which a
// dynamic limit may have lowered since (the ending request left the
// backend's load): HAProxy hands them over at once in process_srv_queue.
func (b *Backend) take(cs *core.Server, granted bool) bool {
	if granted && cs.Dynamic() {
		return tryTakeUpTo(cs, cs.MaxConn())
	}
	return tryTake(cs)
}

func (b *Backend) unwait(w *waiter) {
	b.qmu.Lock()
	for i, x := range b.waiters {
		if x == w {
			b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
			b.nwait.Store(int32(len(b.waiters)))
			break
		}
	}
	b.qmu.Unlock()
}

// anyFull reports whether some usable server is at its maxconn, which is
// when queueing (rather than 503) makes sense.
func (b *Backend) anyFull() bool {
	for _, s := range b.Servers() {
		if s.Usable() && s.Full() {
			return true
		}
	}
	return false
}

// server is a core.Server plus its idle upstream connections and the
// sessions currently exchanging with it.
type server struct {
	*core.Server
	b    *Backend
	addr string
	// lanes[0] belongs to goroutine-served sessions and is guarded by mu;
	// lanes[k] belongs to event loop k and is only touched on its thread,
	// so a loop's per-request bookkeeping takes no lock.
	mu    sync.Mutex
	lanes []lane
	tls   *tlsx.Client // nil: cleartext
	sni   *sample.Expr // per-connection SNI; nil when static or absent
	// on-marked-down shutdown-sessions, on-marked-up
	// shutdown-backup-sessions, and the health last seen (retry_marked.go).
	onDown, onUp bool
	wasUp        atomic.Bool
	gone         atomic.Bool // deleted (`del server`): idle connections are closed, not kept
	// An address without a fixed destination (resolve_addr.go).
	dstIP, portMap bool
	portOff        int
	res            *ResolveConfig // a name resolved at run time, nil otherwise (resolve.go)
	redir          string         // `redir PREFIX` (serverredir.go)
}

// lane is a server's idle connections and live sessions for one lane.
type lane struct {
	idle []*upConn
	live map[*session]liveConn
}

// liveConn is a session's two connections while it talks to a server.
type liveConn struct {
	client net.Conn
	up     *upConn
}

// lock returns lane ln, locked when it is the shared goroutine lane; the
// caller hands the same ln to unlock. A loop's lane needs no lock: only its
// thread touches it.
func (s *server) lock(ln int) *lane {
	if ln == 0 {
		s.mu.Lock()
	}
	return &s.lanes[ln]
}

func (s *server) unlock(ln int) {
	if ln == 0 {
		s.mu.Unlock()
	}
}

// bind records that sess exchanges with s over up, so that
// ShutdownSessions can end it.
func (s *server) bind(sess *session, ln int, client net.Conn, up *upConn) {
	l := s.lock(ln)
	if l.live == nil {
		l.live = map[*session]liveConn{}
	}
	l.live[sess] = liveConn{client: client, up: up}
	s.unlock(ln)
}

func (s *server) unbind(sess *session, ln int) {
	delete(s.lock(ln).live, sess)
	s.unlock(ln)
}

// shutdownLane closes the lane's live sessions (a loop's lane on that
// loop's thread, where its fdConns may be closed directly).
func (s *server) shutdownLane(ln int) int {
	l := s.lock(ln)
	defer s.unlock(ln)
	n := len(l.live)
	for sess, lc := range l.live {
		delete(l.live, sess)
		lc.client.Close()
		if lc.up != nil {
			lc.up.raw().Close()
		}
	}
	return n
}

// ShutdownSessions ends every session currently exchanging with cs (the
// admin socket's `shutdown sessions server B/S`): both its client and
// server connections are closed, so a transfer or tunnel stops at once.
// It returns how many sessions it ended.
func (e *Engine) ShutdownSessions(cs *core.Server) int {
	b := e.Backend(cs.Backend)
	if b == nil {
		return 0
	}
	s := b.serverOf(cs)
	if s == nil {
		return 0
	}
	return s.shutdownLane(0) + e.shutdownLoopSessions(s)
}

// upConn is one connection to a server.
type upConn struct {
	c    net.Conn // *net.TCPConn or *net.UnixConn, or an event loop's *fdConn
	s    *server
	lane int // which of the server's lanes it returns to when idle
	last time.Time
	used bool // carried at least one response: a failure may be a stale close
	// private: bound to one client by a connection-based login (NTLM,
	// Negotiate); closed instead of pooled when that client leaves it.
	private bool
	// login: private through such a login, which makes HAProxy prefer
	// its server even without prefer-last-server (preferlast.go).
	login bool
	// tls is the socket under a TLS connection (c is then a *tls.Conn),
	// sni the name it was opened with: a pooled connection is reused
	// only for the same name.
	tls *tlsTransport
	sni string
	gen uint32 // the server's address generation when dialled (core.Server.Target)
	// local is the connection's own address (%bi:%bp), read once when a
	// log-format asks for it (backendsrc.go).
	local netip.AddrPort
	// A goroutine lane's liveness peek (upConn.alive), made once.
	rc     syscall.RawConn
	peekFn func(uintptr) bool
	peeked peekState
}

const maxIdlePerServer = 1024

// getIdle takes an idle connection of the lane: an event loop's sockets
// are in its epoll set, so each loop reuses only its own (as HAProxy's
// per-thread idle lists).
func (s *server) getIdle(ln int) *upConn {
	l := s.lock(ln)
	defer s.unlock(ln)
	for n := len(l.idle); n > 0; n = len(l.idle) {
		u := l.idle[n-1]
		l.idle[n-1] = nil
		l.idle = l.idle[:n-1]
		if s.staleAddr(u) {
			continue
		}
		s.Meters.Reuse.Add(1)
		return u
	}
	return nil
}

func (s *server) putIdle(u *upConn, now time.Time) {
	if s.staleAddr(u) {
		return
	}
	if u.private {
		u.closeIdle()
		return
	}
	u.last = now
	l := s.lock(u.lane)
	keep := len(l.idle) < maxIdlePerServer && !s.b.e.stopping.Load() && !s.gone.Load()
	if keep {
		l.idle = append(l.idle, u)
	}
	s.unlock(u.lane)
	if !keep {
		u.closeIdle()
	}
}

// purgeLane closes the lane's idle connections last used before before.
// Only the lane's owner calls it (an event loop's sockets are closed on its
// thread).
func (s *server) purgeLane(ln int, before time.Time) {
	l := s.lock(ln)
	keep := l.idle[:0]
	var drop []*upConn
	for _, u := range l.idle {
		if u.last.Before(before) {
			drop = append(drop, u)
		} else {
			keep = append(keep, u)
		}
	}
	for i := len(keep); i < len(l.idle); i++ {
		l.idle[i] = nil
	}
	l.idle = keep
	s.unlock(ln)
	for _, u := range drop {
		u.closeIdle()
	}
}

func (s *server) dial(dst, src netip.AddrPort, timeout time.Duration) (*upConn, error) {
	s.Meters.Connect.Add(1)
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ap, gen, err := s.destination(dst)
	if err != nil {
		return nil, err
	}
	// A Unix socket, a source address or a SOCKS4 proxy (dial_via.go);
	// a plain TCP connect when the server has none.
	c, err := s.Via.Dial(context.Background(), ap, src, timeout, true)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		if !s.b.cfg.TCPKeepAlive {
			tc.SetKeepAlive(false) // Go's dialer turned it on; HAProxy's default is off
		}
	}
	return &upConn{c: c, s: s, gen: gen}, nil
}
