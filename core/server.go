package core

import (
	"net/netip"
	"sync/atomic"
	"time"
)

// AdminState is what an operator (admin socket, stats page) set for a server.
type AdminState uint32

const (
	AdminReady AdminState = iota // takes traffic when healthy
	AdminDrain                   // only persistent (cookie/stick) traffic, no new sessions
	AdminMaint                   // no traffic at all, checks stopped
)

func (a AdminState) String() string {
	switch a {
	case AdminDrain:
		return "drain"
	case AdminMaint:
		return "maint"
	}
	return "ready"
}

// Health is what checks (active and passive) concluded.
type Health uint32

const (
	HealthUp        Health = iota // healthy, or not checked
	HealthDown                    // failed `fall` consecutive checks
	HealthGoingUp                 // down, but rising (counts as down for traffic)
	HealthGoingDown               // up, but failing (still takes traffic)
)

// Server is one `server` line of a backend with its live state. Fields set
// from the configuration are immutable after the engine starts; the atomics
// are updated by health checks, the admin API and the forwarding path, and
// read lock-free by balancers, the stats page and metrics.
type Server struct {
	Backend string // owning backend's name
	Name    string
	ID      int // 1-based position in the backend, like HAProxy's srv id
	Addr    netip.AddrPort
	Host    string // the address as written, when it was a name resolved at start
	Backup  bool
	Cookie  string // value for `cookie` persistence ("" when none)
	// SendProxy is the PROXY protocol version the proxy writes at the
	// start of each connection to the server (0 none, 1, 2); health
	// checks follow it (HAProxy: unless the check has its own addr/port).
	SendProxy uint8

	ConfigWeight  int   // 0..256 as configured (default 1)
	ConfigMaxConn int64 // 0 = unlimited
	MaxQueue      int64 // 0 = unlimited

	weight  atomic.Int32 // effective weight: config, admin `set weight`, slowstart, agent
	maxConn atomic.Int64 // effective maxconn (admin `set maxconn server`)
	// The dynamic limit of `minconn` with the backend's `fullconn`
	// (Limit): minConn 0 or equal to maxConn is a static limit.
	minConn  atomic.Int64
	fullConn int64
	beConn   *atomic.Int64 // the backend's current connections (HAProxy's beconn)
	frozen   atomic.Bool   // FreezeState
	admin    atomic.Uint32 // AdminState
	health   atomic.Uint32 // Health

	// Counters, updated by the engine.
	Active     atomic.Int64 // connections/requests currently being served
	Queued     atomic.Int64 // requests waiting in this server's queue
	MaxActive  atomic.Int64 // highest Active seen
	Total      atomic.Uint64
	BytesIn    atomic.Uint64
	BytesOut   atomic.Uint64
	ConnErrors atomic.Uint64
	RespErrors atomic.Uint64
	Retries    atomic.Uint64
	Redispatch atomic.Uint64
	LastChange atomic.Int64 // unix nanos of the last up/down transition
	DownSince  atomic.Int64 // unix nanos when it went down, 0 when up
	DownTotal  atomic.Int64 // accumulated downtime in nanoseconds

	// Check results, written by core/health for the stats page.
	CheckStatus   atomic.Value // string: HAProxy's status word (L4OK, L7STS, ...)
	CheckCode     atomic.Int32 // L7 status code, 0 when none
	CheckDuration atomic.Int64 // nanoseconds of the last probe

	// RTime is a moving average of the response time (request sent to
	// response head) in nanoseconds, 0 until the first response; policies
	// read it (least-latency).
	RTime atomic.Int64

	// Meters are the stats page's rates, time averages and aborts.
	Meters Meters

	// addrNow is the address set at runtime (`set server B/S addr`), nil
	// while the configured Addr applies; addrGen counts the changes so a
	// pooled connection to an older address is closed, not reused.
	addrNow atomic.Pointer[netip.AddrPort]
	addrGen atomic.Uint32

	// rmaint is HAProxy's SRV_ADMF_RMAINT: in maintenance because run-time
	// resolution has no address for the server (init-addr none, NX,
	// empty answer). It adds to the operator's state: Admin reads MAINT
	// while it is set, whatever the operator set.
	rmaint atomic.Bool
	// fqdn is the name set at run time (`set server B/S fqdn`), nil
	// while Host applies; HAProxy flags such a server HMAINT.
	fqdn   atomic.Pointer[string]
	hmaint atomic.Uint32 // 1: HMAINT pending, 2: shown (see FQDNSetAtRuntime)
	// stopping is HAProxy's SRV_ST_STOPPING ("NOLB"): up, but its HTTP
	// check answered 404 under `http-check disable-on-404`, so it takes
	// only persistent (cookie/stick) traffic until a 2xx/3xx comes back.
	stopping atomic.Bool
}

// Stopping reports the NOLB state set by checks (disable-on-404).
func (s *Server) Stopping() bool { return s.stopping.Load() }

// SetStopping enters or leaves NOLB and reports whether it changed;
// callers then refresh the backend's pool.
func (s *Server) SetStopping(on bool) bool {
	if s.stopping.Swap(on) == on {
		return false
	}
	s.LastChange.Store(time.Now().UnixNano())
	return true
}

// FQDN is the name the server is resolved by: Host, or the one set at
// run time.
func (s *Server) FQDN() string {
	if p := s.fqdn.Load(); p != nil {
		return *p
	}
	return s.Host
}

// SetFQDN records a name set at run time (`set server B/S fqdn`).
func (s *Server) SetFQDN(name string) {
	s.fqdn.Store(&name)
	s.hmaint.CompareAndSwap(0, 1)
}

// FQDNSetAtRuntime reports HAProxy's HMAINT flag as `show servers state`
// prints it: HAProxy sets it in the pending admin state, which becomes the
// current one at the server's next maintenance change (SetResolveMaint).
func (s *Server) FQDNSetAtRuntime() bool { return s.hmaint.Load() == 2 }

// OperatorAdmin is the state the operator set, without the resolution
// maintenance (HAProxy's forced flags, for show servers state).
func (s *Server) OperatorAdmin() AdminState { return AdminState(s.admin.Load()) }

// ResolveMaint reports the resolution maintenance (RMAINT).
func (s *Server) ResolveMaint() bool { return s.rmaint.Load() }

// SetResolveMaint sets or clears the resolution maintenance and reports
// whether it changed. Callers then refresh the backend's pool.
func (s *Server) SetResolveMaint(on bool) bool {
	if s.rmaint.Swap(on) == on {
		return false
	}
	s.hmaint.CompareAndSwap(1, 2)
	s.LastChange.Store(time.Now().UnixNano())
	return true
}

// Address is where connections and checks to s go now: the configured
// Addr, or the address set at runtime.
func (s *Server) Address() netip.AddrPort {
	if p := s.addrNow.Load(); p != nil {
		return *p
	}
	return s.Addr
}

// Target returns Address and the generation it belongs to, read in that
// order so a connection dialled across a change is never taken for the
// new address's.
func (s *Server) Target() (netip.AddrPort, uint32) {
	gen := s.addrGen.Load()
	return s.Address(), gen
}

// AddrGen is the current address generation (see Target).
func (s *Server) AddrGen() uint32 { return s.addrGen.Load() }

// SetAddress moves s to ap for new connections and checks; pooled
// connections to the previous address are closed as they come back.
func (s *Server) SetAddress(ap netip.AddrPort) {
	s.addrNow.Store(&ap)
	s.addrGen.Add(1)
}

// ObserveRTime folds one response time into RTime: an exponentially
// weighted average with weight 1/8, lock-free. Two concurrent updates may
// lose one sample, which an average can afford.
func (s *Server) ObserveRTime(d time.Duration) {
	old := s.RTime.Load()
	if old == 0 {
		s.RTime.Store(int64(d))
		return
	}
	s.RTime.Store(old + (int64(d)-old)/8)
}

// NewServer returns a server with its dynamic state initialised from the
// configured values.
func NewServer(backend, name string, id int, addr netip.AddrPort, weight int, maxConn int64) *Server {
	s := &Server{Backend: backend, Name: name, ID: id, Addr: addr, ConfigWeight: weight, ConfigMaxConn: maxConn}
	s.weight.Store(int32(weight))
	s.maxConn.Store(maxConn)
	s.LastChange.Store(time.Now().UnixNano())
	return s
}

// Weight is the effective weight used by balancers.
func (s *Server) Weight() int { return int(s.weight.Load()) }

// SetWeight changes the effective weight (clamped to 0..256). Callers must
// then tell the backend its pool changed (Backend.Refresh).
func (s *Server) SetWeight(w int) {
	if w < 0 {
		w = 0
	}
	if w > 256 {
		w = 256
	}
	s.weight.Store(int32(w))
}

// MaxConn is the effective per-server connection limit, 0 when unlimited.
func (s *Server) MaxConn() int64 { return s.maxConn.Load() }

// SetMaxConn changes the effective maxconn. A static limit (minconn unset
// or equal to maxconn) stays static, as HAProxy's `set maxconn server`
// sets both then.
func (s *Server) SetMaxConn(n int64) {
	if s.minConn.Load() == s.maxConn.Load() {
		s.minConn.Store(n)
	}
	s.maxConn.Store(n)
}

// SetDynamicLimit makes the server's limit scale with its backend's load
// (HAProxy's `minconn` with the backend's `fullconn`): minConn at least,
// maxconn once beConn reaches fullConn. minConn 0 or not below maxconn, or
// fullConn 0, keeps the static maxconn. Called once, before traffic.
func (s *Server) SetDynamicLimit(minConn, fullConn int64, beConn *atomic.Int64) {
	if minConn <= 0 || fullConn <= 0 || beConn == nil {
		return
	}
	s.minConn.Store(minConn)
	s.fullConn, s.beConn = fullConn, beConn
}

// FreezeState keeps the server up whatever its checks find, as HAProxy
// 2.6 does for the servers of a backend with `dispatch` and no balance:
// it commits a server's state change through the load balancer, which
// such a backend has none of, so the checks run and count (the stats show
// "UP -1/3") but the server stays up for use-server and persistence.
func (s *Server) FreezeState() { s.frozen.Store(true) }

// Dynamic reports whether the server's limit scales with its backend's
// load (SetDynamicLimit with minconn below maxconn).
func (s *Server) Dynamic() bool {
	lo := s.minConn.Load()
	return s.beConn != nil && lo > 0 && lo < s.maxConn.Load()
}

// Limit is the number of connections the server takes now, 0 when
// unlimited: maxconn, or with a dynamic limit (SetDynamicLimit) HAProxy's
// srv_dynamic_maxconn: max(minconn, beconn*maxconn/fullconn) while the
// backend holds fewer than fullconn connections.
func (s *Server) Limit() int64 {
	m := s.maxConn.Load()
	if m <= 0 || s.beConn == nil {
		return m
	}
	be, lo := s.beConn.Load(), s.minConn.Load()
	if be >= s.fullConn || lo >= m || lo <= 0 {
		return m
	}
	return max(lo, be*m/s.fullConn)
}

// Admin is the operator-set state, MAINT while run-time resolution holds
// the server in maintenance (ResolveMaint).
func (s *Server) Admin() AdminState {
	if s.rmaint.Load() {
		return AdminMaint
	}
	return AdminState(s.admin.Load())
}

// InitAdmin sets the state a server starts in (`disabled`), which is no
// transition.
func (s *Server) InitAdmin(a AdminState) { s.admin.Store(uint32(a)) }

// SetAdmin changes the operator-set state. As HAProxy, a change of state
// is a change for the stats' lastchg, and putting an up server in
// maintenance counts as a DOWN transition (chkdown).
func (s *Server) SetAdmin(a AdminState) {
	wasUp := s.IsUp()
	old := AdminState(s.admin.Swap(uint32(a)))
	if old == a {
		return
	}
	s.LastChange.Store(time.Now().UnixNano())
	if a == AdminMaint && wasUp {
		s.Meters.MaintDowns.Add(1)
	}
}

// Health is the checks' verdict.
func (s *Server) Health() Health { return Health(s.health.Load()) }

// SetHealth records a health transition and its time for the stats page.
func (s *Server) SetHealth(h Health) {
	if s.frozen.Load() && h != HealthUp && h != HealthGoingDown {
		h = HealthGoingDown // still up: see FreezeState
	}
	old := Health(s.health.Swap(uint32(h)))
	wasUp, isUp := old == HealthUp || old == HealthGoingDown, h == HealthUp || h == HealthGoingDown
	if wasUp == isUp {
		return
	}
	now := time.Now().UnixNano()
	s.LastChange.Store(now)
	if isUp {
		if since := s.DownSince.Swap(0); since != 0 {
			s.DownTotal.Add(now - since)
		}
	} else {
		s.DownSince.Store(now)
	}
}

// IsUp reports whether checks consider the server able to take traffic.
func (s *Server) IsUp() bool {
	h := s.Health()
	return h == HealthUp || h == HealthGoingDown
}

// Usable reports whether the server may receive a new (non-persistent)
// session: up, in ready state and with a non-zero weight. Full servers are
// still "usable"; whether a request waits in the queue is core's decision.
func (s *Server) Usable() bool {
	return s.IsUp() && s.Admin() == AdminReady && s.Weight() > 0 && !s.stopping.Load()
}

// Full reports whether the server reached its limit (Limit).
func (s *Server) Full() bool {
	m := s.Limit()
	return m > 0 && s.Active.Load() >= m
}

// StateString is HAProxy's word for the server state as the stats CSV prints
// it: UP, DOWN, MAINT, DRAIN, "UP 1/3", "DOWN 1/2" (the counts are added by
// core/health when transitions are in progress).
func (s *Server) StateString() string {
	if s.rmaint.Load() {
		return "MAINT (resolution)"
	}
	switch s.Admin() {
	case AdminMaint:
		return "MAINT"
	case AdminDrain:
		if s.IsUp() {
			return "DRAIN"
		}
	}
	if s.IsUp() && s.stopping.Load() {
		return "NOLB"
	}
	switch s.Health() {
	case HealthDown, HealthGoingUp:
		return "DOWN"
	}
	return "UP"
}
