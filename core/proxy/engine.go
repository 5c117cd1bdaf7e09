package proxy

import (
	"context"
	"errors"
	"fmt"
	"github.com/varde-lb/varde/core/sample"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/route"
	"github.com/varde-lb/varde/core/tlsx"
)

// Counters are a proxy's live totals, read by stats and metrics.
type Counters struct {
	CurConns   atomic.Int64
	MaxConns   atomic.Int64
	TotalConns atomic.Uint64
	Requests   atomic.Uint64
	BytesIn    atomic.Uint64
	BytesOut   atomic.Uint64
	Denied     atomic.Uint64
	ReqErrors  atomic.Uint64 // invalid requests, client aborts
	RespErrors atomic.Uint64
	ConnErrors atomic.Uint64
	Retries    atomic.Uint64
	Redispatch atomic.Uint64
	Status     [6]atomic.Uint64 // responses by class: [1] 1xx ... [5] 5xx, [0] other
	Queued     atomic.Int64
	MaxQueued  atomic.Int64
	// ProxyErrors counts connections closed on an accept-proxy bind
	// because their PROXY header was missing, invalid, late or cut.
	ProxyErrors atomic.Uint64
	// DeniedConns counts connections closed by tcp-request connection
	// reject (HAProxy's dcon).
	DeniedConns atomic.Uint64
	// DeniedSess counts sessions closed by tcp-request session reject
	// (HAProxy's dses).
	DeniedSess atomic.Uint64
	Meters     core.Meters // rates, time averages, aborts (statsacct.go)
}

func (c *Counters) connOpen() {
	c.opened()
	n := c.CurConns.Add(1)
	c.TotalConns.Add(1)
	for {
		m := c.MaxConns.Load()
		if n <= m || c.MaxConns.CompareAndSwap(m, n) {
			return
		}
	}
}

// Frontend is a running frontend.
type Frontend struct {
	Name string
	Counters
	cfg       *FrontendConfig
	e         *Engine
	listeners []net.Listener
	pp        []bool        // listeners[i] expects a PROXY header (accept-proxy)
	slots     chan struct{} // maxconn semaphore, nil when unlimited
	errPages  map[int][]byte
	services  atomic.Pointer[[]service]
	chooser   core.BackendChooser         // the one backend choice, HTTP and TCP
	policy    *route.PolicyChooser        // fc.Policy with its fallbacks, or nil
	tls       map[net.Listener]*tlsx.Bind // listeners terminating TLS (tls_front.go)
	h2l       map[net.Listener]bool       // listeners speaking HTTP/2 (bind ... proto h2)
	// SSLFailures counts failed TLS handshakes (scans, wrong versions,
	// missing client certificates); SSLClosed the connections closed
	// before their ClientHello (port probes), which HAProxy counts as
	// failed handshakes too; SSLSessions the completed full handshakes and
	// SSLReused the resumed ones (show stat's ssl_* columns, as HAProxy).
	SSLFailures, SSLClosed, SSLSessions, SSLReused atomic.Uint64
}

// Addrs returns the listening addresses.
func (f *Frontend) Addrs() []net.Addr {
	out := make([]net.Addr, len(f.listeners))
	for i, l := range f.listeners {
		out[i] = l.Addr()
	}
	return out
}

// Mode returns the frontend's mode.
func (f *Frontend) Mode() Mode { return f.cfg.Mode }

type service struct {
	match func(core.Request) bool
	h     httpHandler
}

// Engine runs frontends and backends.
type Engine struct {
	cfg       *Config
	log       *slog.Logger
	limits    httpx.Limits
	h2Streams int // tune.h2.max-concurrent-streams
	frontends []*Frontend
	backends  []*Backend
	byName    map[string]*Backend
	patRefs   *patRefSet // map and ACL files (mapact.go)
	sink      logrec.Sink

	actconn  atomic.Int64
	Panics   atomic.Uint64 // recovered panics (each closed one connection)
	slots    chan struct{} // global maxconn
	stopping atomic.Bool
	wg       sync.WaitGroup // connections
	lwg      sync.WaitGroup // accept loops
	mu       sync.Mutex
	conns    map[*session]struct{}
	tconns   map[net.Conn]struct{}
	pool     sync.Pool // *session
	stopCh   chan struct{}
	named    atomic.Pointer[map[string]httpHandler]
	parker   *parker
	loops    []*loop         // event loops serving HTTP clients (loop_linux.go)
	loopLsn  []*loopListener // listeners the loops accept on (loopaccept_linux.go)

	// SplicedBytes counts body and tunnel bytes moved through kernel
	// pipes (splice_linux.go); pipesMade is the pipes open now.
	SplicedBytes atomic.Uint64
	pipesMade    atomic.Int64

	// Reload (reload.go): the end of a drain's linger (unix nanos, 0 when
	// not draining), the engine that replaced this one and the counters
	// it copied from this one.
	lingerUntil atomic.Int64
	heir        atomic.Pointer[Engine]
	heirBase    map[string][]uint64
}

// ActConn is the number of connections the process serves (%ac).
func (e *Engine) ActConn() int64 { return e.actconn.Load() }

// Frontends lists the running frontends in configuration order.
func (e *Engine) Frontends() []*Frontend { return e.frontends }

// Release frees what New allocated, for an engine dropped without being
// started (`varde check`, a refused reload). Do not call it after Start.
func (e *Engine) Release() { e.parker.release() }

// SetSink replaces the transaction log sink; call it before Start (the
// log pipeline of a generation starts after the engine is built).
func (e *Engine) SetSink(s logrec.Sink) {
	if s == nil {
		s = logrec.Discard{}
	}
	e.sink = s
}

// Backends lists the backends in configuration order.
func (e *Engine) Backends() []*Backend { return e.backends }

// Backend returns the backend named name, or nil.
func (e *Engine) Backend(name string) *Backend { return e.byName[name] }

// Frontend returns the frontend named name, or nil.
func (e *Engine) Frontend(name string) *Frontend {
	for _, f := range e.frontends {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// New builds an engine: it resolves servers, builds balancers through
// core.NewBalancer and compiles rules. Nothing listens until Start.
func New(cfg *Config, log *slog.Logger) (*Engine, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		cfg: cfg, log: log, byName: map[string]*Backend{}, conns: map[*session]struct{}{},
		tconns: map[net.Conn]struct{}{}, sink: cfg.Sink, stopCh: make(chan struct{}),
	}
	if e.sink == nil {
		e.sink = logrec.Discard{}
	}
	maxHdr := cfg.MaxHeaders
	if maxHdr <= 0 {
		maxHdr = 101
	}
	e.limits = httpx.Limits{MaxHead: cfg.bufSize() - cfg.maxRewrite(), MaxHeaders: maxHdr}
	e.h2Streams = h2MaxStreams
	if cfg.H2MaxStreams > 0 {
		e.h2Streams = cfg.H2MaxStreams
	}
	if cfg.MaxConn > 0 {
		e.slots = make(chan struct{}, cfg.MaxConn)
	}
	for _, bc := range cfg.Backends {
		if _, dup := e.byName[bc.Name]; dup {
			return nil, fmt.Errorf("proxy: backend %q defined twice", bc.Name)
		}
		b, err := newBackend(e, bc)
		if err != nil {
			return nil, err
		}
		e.backends = append(e.backends, b)
		e.byName[bc.Name] = b
	}
	for _, fc := range cfg.Frontends {
		f, err := e.newFrontend(fc)
		if err != nil {
			return nil, err
		}
		e.frontends = append(e.frontends, f)
	}
	e.pool.New = func() any { return e.newSession() }
	e.parker = newParker(e)
	return e, nil
}

// newFrontend builds a frontend once the backends exist: its backend
// chooser, error pages and compiled rules.
func (e *Engine) newFrontend(fc *FrontendConfig) (*Frontend, error) {
	f := &Frontend{Name: fc.Name, cfg: fc, e: e, errPages: map[int][]byte{}}
	if fc.MaxConn > 0 {
		f.slots = make(chan struct{}, fc.MaxConn)
	}
	for code, page := range fc.ErrorFiles {
		f.errPages[code] = page
	}
	if fc.DefaultBackend != "" && e.byName[fc.DefaultBackend] == nil {
		return nil, fmt.Errorf("proxy: frontend %q: default_backend %q not found", fc.Name, fc.DefaultBackend)
	}
	for _, ub := range fc.UseBackends {
		if e.byName[ub.Backend] == nil {
			return nil, fmt.Errorf("proxy: frontend %q: use_backend %q not found", fc.Name, ub.Backend)
		}
	}
	f.chooser, f.policy = e.newChooser(fc)
	for _, rules := range [][]*HTTPRule{fc.HTTPRequest, fc.HTTPResponse} {
		for _, r := range rules {
			if err := r.compile(); err != nil {
				return nil, fmt.Errorf("proxy: frontend %q: %w", fc.Name, err)
			}
		}
	}
	return f, nil
}

// Start opens the listeners and starts accepting. On error nothing is left
// listening.
func (e *Engine) Start() error {
	compLimit.Store(int64(e.cfg.CompRateLimit)) // compress_rate.go: shown as limit_http_comp
	sample.SetVarLimits(e.cfg.VarLimits)        // process-wide, as HAProxy's tune.vars (vars.go)
	setProcVars(e.cfg.ProcVars)
	var opened []net.Listener
	for _, f := range e.frontends {
		for i, addr := range f.cfg.Binds {
			l, err := e.cfg.Sockets.ListenOpts("tcp", addr, f.cfg.bindOpts(i))
			if err != nil {
				for _, o := range opened {
					o.Close()
				}
				return fmt.Errorf("proxy: frontend %s: bind %s: %w", f.Name, addr, err)
			}
			opened = append(opened, l)
			f.listeners = append(f.listeners, l)
			f.pp = append(f.pp, i < len(f.cfg.AcceptProxy) && f.cfg.AcceptProxy[i])
			f.listenTLS(l, addr)
		}
		for _, l := range f.cfg.Listeners {
			f.listeners = append(f.listeners, l)
			f.pp = append(f.pp, f.cfg.ListenersAcceptProxy)
			f.listenTLS(l, l.Addr().String())
		}
		if err := f.openH2(&opened); err != nil {
			for _, o := range opened {
				o.Close()
			}
			return err
		}
	}
	e.startTLS()
	if e.cfg.CompMinIdle > 0 {
		e.lwg.Add(1)
		go func() { defer e.lwg.Done(); e.meterCPU() }() // compress_cpu.go
	}
	if err := e.startLoops(); err != nil {
		e.log.Warn("event loops unavailable, serving HTTP clients on goroutines", "err", err)
	}
	for _, f := range e.frontends {
		for i, l := range f.listeners {
			if e.loopAccepts(f, l) && e.startLoopAccept(f, l, f.pp[i]) {
				continue // loopaccept_linux.go
			}
			e.lwg.Add(1)
			go e.acceptLoop(f, l, f.pp[i])
		}
	}
	go e.purgeLoop()
	e.parker.start()
	return nil
}

// acceptLoop accepts on l; pp: its connections start with a PROXY header.
func (e *Engine) acceptLoop(f *Frontend, l net.Listener, pp bool) {
	defer e.lwg.Done()
	tb := f.tls[l]
	for {
		// Limits are taken before Accept so excess clients wait in the
		// kernel's backlog, as HAProxy pauses a full listener.
		if !e.acquire(f) {
			return
		}
		if !f.cfg.SessRate.wait(e.stopCh) { // rate-limit sessions (dispatch.go)
			e.release(f)
			return
		}
		c, err := l.Accept()
		if err != nil {
			e.release(f)
			if e.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			e.log.Warn("accept failed", "frontend", f.Name, "err", err)
			select {
			case <-time.After(50 * time.Millisecond):
			case <-e.stopCh:
				return
			}
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok && !f.cfg.TCPKeepAlive {
			tc.SetKeepAlive(false) // Go's listener turned it on; HAProxy's default is off
		}
		e.wg.Add(1)
		if tb != nil {
			go e.serveTLS(f, c, tb, pp)
		} else if f.isH2(l) {
			go e.serveH2(f, c, admission{pp: pp})
		} else if f.cfg.Mode == ModeTCP {
			go e.serveTCP(f, c, admission{pp: pp})
		} else if !e.handoff(f, c, pp) {
			go e.serveHTTP(f, c, pp)
		}
	}
}

func (e *Engine) acquire(f *Frontend) bool {
	if e.slots != nil {
		select {
		case e.slots <- struct{}{}:
		case <-e.stopCh:
			return false
		}
	}
	if f.slots != nil {
		select {
		case f.slots <- struct{}{}:
		case <-e.stopCh:
			if e.slots != nil {
				<-e.slots
			}
			return false
		}
	}
	return true
}

func (e *Engine) release(f *Frontend) {
	if f.slots != nil {
		<-f.slots
	}
	if e.slots != nil {
		<-e.slots
	}
}

// Stop closes the listeners at once, lets in-flight requests finish until
// ctx is done, then closes whatever is left. Idle keep-alive connections are
// closed immediately.
func (e *Engine) Stop(ctx context.Context) error {
	// A keep-alive client may be sending its next request right now,
	// before it can learn of the stop: it gets stopLinger to deliver it
	// (a drain set a longer linger already). Set before stopping shows.
	if e.hasClients() {
		e.lingerUntil.CompareAndSwap(0, time.Now().Add(stopLinger).UnixNano())
	}
	if e.stopping.Swap(true) {
		return nil
	}
	close(e.stopCh)
	for _, f := range e.frontends {
		for _, l := range f.listeners {
			l.Close()
		}
	}
	e.stopLoopAccept()
	e.lwg.Wait()
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	// Idle clients, parked ones too, may still send one request during
	// the linger (a drain's, or stopLinger); then they are closed.
	e.lingerIdle(done)
	e.parker.closeAll()
	e.closeLoopParked()
	e.foldIntoHeir() // a drain: count those in the serving engine now
	e.mu.Lock()
	for s := range e.conns {
		if s.idle.Load() {
			wakeIdleFromOutside(s.conn)
		}
	}
	e.mu.Unlock()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("proxy: grace period over, closing remaining connections: %w", ctx.Err())
		e.mu.Lock()
		for s := range e.conns {
			closeFromOutside(s.conn)
		}
		for c := range e.tconns {
			c.Close()
		}
		e.mu.Unlock()
		<-done
	}
	for _, b := range e.backends {
		for _, s := range b.srvs() {
			s.purgeLane(0, time.Now().Add(time.Hour))
		}
		if d := b.dispatch; d != nil {
			d.purgeLane(0, time.Now().Add(time.Hour))
		}
	}
	// Every session has ended: the loops close their idle upstreams and exit.
	e.stopLoops()
	e.stopTLS()
	return err
}

// purgeLoop closes upstream connections idle for longer than HAProxy's
// default pool-purge-delay.
func (e *Engine) purgeLoop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-e.stopCh:
			return
		case now := <-t.C:
			for _, b := range e.backends {
				for _, s := range b.srvs() {
					s.purgeLane(0, now.Add(-poolPurgeDelay))
				}
				if d := b.dispatch; d != nil {
					d.purgeLane(0, now.Add(-poolPurgeDelay))
				}
			}
		}
	}
}

const poolPurgeDelay = 5 * time.Second

// AddService makes h answer requests on the named frontend for which match
// returns true, before any backend is chosen: `stats uri`, `http-request
// use-service prometheus-exporter`. Safe to call while running.
func (e *Engine) AddService(frontend string, match func(core.Request) bool, h httpHandler) error {
	f := e.Frontend(frontend)
	if f == nil {
		return fmt.Errorf("proxy: add service: no frontend %q", frontend)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var list []service
	if p := f.services.Load(); p != nil {
		list = append(list, *p...)
	}
	list = append(list, service{match: match, h: h})
	f.services.Store(&list)
	return nil
}

// SetServiceHandler registers the handler behind `http-request use-service
// NAME` (e.g. "prometheus-exporter"). Safe to call while running.
func (e *Engine) SetServiceHandler(name string, h httpHandler) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := map[string]httpHandler{}
	if p := e.named.Load(); p != nil {
		for k, v := range *p {
			m[k] = v
		}
	}
	m[name] = h
	e.named.Store(&m)
}

func (e *Engine) serviceHandler(name string) httpHandler {
	if p := e.named.Load(); p != nil {
		return (*p)[name]
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func addrPort(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}
