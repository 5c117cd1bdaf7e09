// Package proxy is varde's forwarding engine: listeners, the per-connection
// HTTP/1.1 loop (core/httpx on pooled buffers, no net/http on the fast
// path), L4 forwarding for `mode tcp`, server choice through core's balancer
// registry, queues, limits, retries and graceful stop.
//
// The engine runs from its own runtime structs (Config below), so it has no
// dependency on the configuration language; FromConfig adapts a parsed
// haproxy.cfg (core/config) into them.
package proxy

import (
	"fmt"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/listen"
	"github.com/varde-lb/varde/core/userlist"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/core/sticktable"
	"github.com/varde-lb/varde/core/tlsx"
)

// Mode is a proxy's `mode`.
type Mode uint8

const (
	ModeTCP Mode = iota
	ModeHTTP
)

// ConnMode is HAProxy's HTTP connection handling: keep-alive on both sides
// (the default), `option http-server-close` (close the server side after
// each response) or `option httpclose` (close both).
type ConnMode uint8

const (
	KeepAlive ConnMode = iota
	ServerClose
	HTTPClose
)

// Config is the engine's runtime configuration.
type Config struct {
	MaxConn    int // global maxconn, 0 = unlimited
	BufSize    int // tune.bufsize (default 16384)
	MaxRewrite int // tune.maxrewrite (default 1024)
	// VarLimits are tune.vars.*-max-size (nil: none), installed at Start.
	VarLimits *sample.VarLimits
	// ProcVars are the global section's set-var lines, set at Start in
	// order (vars.go).
	ProcVars   []*config.GlobalSetVar
	MaxHeaders int // tune.http.maxhdr (default 101)
	// H2MaxStreams is tune.h2.max-concurrent-streams (0: 100).
	H2MaxStreams int
	CompLevel    int // tune.comp.maxlevel (default 1)
	// CompMinIdle is 100 - maxcompcpuusage: the idle CPU percentage
	// compression needs (0: no limit; compress_cpu.go).
	CompMinIdle int
	// CompRateLimit is maxcomprate in bytes per second (0: none).
	CompRateLimit int
	// Threads is `nbthread`: how many event loops serve HTTP clients
	// (0 = one per usable CPU, as HAProxy).
	Threads   int
	Frontends []*FrontendConfig
	Backends  []*BackendConfig
	// NoSplice is global `nosplice`: no body or tunnel is spliced.
	NoSplice bool
	// StickTables are the configuration's stick tables (stick.go).
	StickTables *sticktable.Set
	// Userlists are the configuration's userlist sections by name, read
	// by http_auth and http_auth_group (auth.go).
	Userlists map[string]*userlist.List
	// Caches are the cache sections by name (cache_store.go).
	Caches map[string]*Cache
	// Policies are every compiled `policy` of the configuration, plugged
	// into the sections below; closed with the engine's generation.
	Policies []LoadedPolicy
	// Sink receives one record per transaction; nil discards.
	Sink logrec.Sink
	// Scripts runs lua.NAME actions, services, fetches and converters
	// (nil without lua-load; see script.go).
	Scripts ScriptHost
	// TLS holds the certificates of every TLS bind (nil without any).
	TLS *tlsx.Registry
	// Sockets opens the binds, reusing a socket the process already holds
	// for the same address (a reload, an upgrade, systemd); nil binds anew.
	Sockets *listen.Inventory
}

// Timeouts are HAProxy's `timeout` values; zero means unset. Client-side ones
// are read from the frontend, server-side ones from the backend.
type Timeouts struct {
	Connect, Client, Server, HTTPRequest, HTTPKeepAlive, Queue, Tunnel, ClientFin, ServerFin time.Duration
	Tarpit                                                                                   time.Duration // tarpit.go
}

// Cond is a compiled condition (`if`/`unless`); nil means always.
type Cond interface{ Match(req core.Request) bool }

// ForwardFor is `option forwardfor [except NET] [header NAME] [if-none]`.
type ForwardFor struct {
	Except netip.Prefix // zero when none
	Header string       // default X-Forwarded-For
	IfNone bool
}

// UseBackend is one `use_backend NAME if COND`.
type UseBackend struct {
	Backend string
	Cond    Cond
}

// Action is what an http-request/http-response rule does.
type Action uint8

const (
	ActSetHeader Action = iota
	ActAddHeader
	ActDelHeader
	ActDeny
	ActRedirect
	ActService // use-service: a handler answers instead of a server
	ActAllow   // stop evaluating the rules of this list
	ActScript  // http-request|http-response lua.NAME: a ScriptAction
	ActTrack   // track-scN, sc-inc-gpc0(N), sc-set-gpt0(N): a TrackRule
	ActAuth    // http-request auth: 401 with WWW-Authenticate (auth.go)
	ActReturn  // http-request return: a Reply
	ActActor   // an action built in its own file: the rule's Actor (actor.go)
)

// Redirect kinds for `http-request redirect`.
const (
	RedirectLocation = "location"
	RedirectPrefix   = "prefix"
	RedirectScheme   = "scheme"
)

// HTTPRule is one `http-request` or `http-response` rule.
type HTTPRule struct {
	Action Action
	Name   string // header name
	Value  string // header value: text with %[expr] sample expressions (core/sample)
	Status int    // deny_status / redirect code
	// Redirect
	RedirectKind string // location, prefix, scheme
	Target       string
	// DropQuery, AppendSlash (prefix and scheme redirects) and SetCookie
	// (the whole Set-Cookie value) are the redirect's options (answer.go).
	DropQuery, AppendSlash bool
	SetCookie              string
	// Service: Handler, or the name of a handler registered with
	// Engine.SetServiceHandler (`use-service prometheus-exporter`).
	Handler http.Handler
	Service string
	Cond    Cond
	// Script rules (lua.NAME actions and services): the name without
	// "lua.", its arguments, and the action bound by bindScripts.
	ScriptName string
	ScriptArgs []string
	Script     ScriptAction
	// ActTrack: track-scN, sc-inc-gpc0(N), sc-set-gpt0(N) (stick.go).
	Track *TrackRule
	// Reply is what ActReturn, and ActDeny when set, send (retaction.go).
	Reply *Reply
	// Actor runs an ActActor rule (actor.go).
	Actor Actor

	value, target *sample.Template // compiled Value and Target
	// ActAuth: the 401 answers, closing and keep-alive (auth.go).
	authPage, authKeep [2][]byte // 401, 407 (auth.go)
}

// FrontendConfig is a frontend (or the front half of a listen).
type FrontendConfig struct {
	Name string
	// Splice is the frontend's option splice-* (splice.go).
	Splice SpliceSet
	// Table is the frontend's own stick table (nil: none); stick is set
	// when tcp-request connection rules track counters (stick.go).
	Table *sticktable.Table
	stick *frontStick
	Binds []string // host:port
	// BindOpts are the Binds' socket options (same index; missing means
	// none): bind v6only, interface, transparent (core/listen).
	BindOpts []listen.Opts
	// TLS maps the Binds (and Listeners' addresses) that terminate TLS to
	// their settings.
	TLS map[string]*tlsx.Bind
	// Listeners are already-open listeners (tests, socket activation),
	// used in addition to Binds.
	Listeners []net.Listener
	// AcceptProxy marks the Binds (same index; missing means false) whose
	// connections start with a PROXY protocol header (`accept-proxy`);
	// ListenersAcceptProxy does so for every one of Listeners.
	AcceptProxy          []bool
	ListenersAcceptProxy bool
	// BindMaxConn is each Bind's `bind ... maxconn N` (same index; missing
	// or 0 means none): the listener stops accepting at N connections
	// (bindmaxconn.go).
	BindMaxConn []int
	// BindNames are the Binds' `bind ... name NAME` (same index; missing
	// or "" means none): shown where varde lists listeners (Listeners).
	BindNames []string
	// H2Binds and H2Listeners speak HTTP/2 with prior knowledge (`bind
	// ... proto h2`); mode http only. H2AcceptProxy marks the H2Binds
	// (same index) with accept-proxy.
	H2Binds       []string
	H2Listeners   []net.Listener
	H2AcceptProxy []bool
	Mode          Mode
	MaxConn       int
	Timeouts      Timeouts
	ConnMode      ConnMode
	ForwardFor    *ForwardFor
	comp          *compCfg    // compression lines (compress.go)
	OriginalTo    *ForwardFor // option originalto (setsrc.go)
	UseBackends   []UseBackend
	// UniqueID is unique-id-format (nil: none), UniqueIDHeader the
	// request header it is sent in (uniqueid.go).
	UniqueID *sample.Template
	// LogVars: the log-format reads var(), so the variables are copied
	// into each log record (vars.go).
	LogVars        bool
	UniqueIDHeader string
	// Chooser, when set, replaces UseBackends/DefaultBackend (core/route's
	// compiled rules).
	Chooser core.BackendChooser
	// Policy, when set, is asked before Chooser (a Lua/WASM policy's
	// choose_backend); declining, panicking or naming an unknown backend
	// falls back to the rules and is counted (Frontend.PolicyFallbacks).
	Policy         core.BackendChooser
	DefaultBackend string
	HTTPRequest    []*HTTPRule
	HTTPResponse   []*HTTPRule
	// HTTPAfterResponse: http-after-response rules (afterresp.go).
	HTTPAfterResponse []*HTTPRule
	ErrorFiles        map[int][]byte // raw HTTP responses by status
	Monitor           *Monitor       // monitor-uri, monitor fail (monitor.go)
	LogASAP           bool           // option logasap (logasap.go)
	SessRate          *sessLimiter   // rate-limit sessions (dispatch.go); nil: none
	Redirects         []*HTTPRule    // bare `redirect` lines: after HTTPRequest and services
	// CaptureRequest/Response are `capture request|response header NAME len N`.
	CaptureRequest, CaptureResponse []Capture
	// LogHeaders are the request headers the log-format reads with %[...]
	// (lower case), copied whole into the record (logrec.Record.LogHeaders).
	LogHeaders []string
	// LogBackendSrc: the log-format reads %bi or %bp, the local address
	// of the server connection (read once per connection, only then).
	LogBackendSrc bool
	// CaptureCookie is `capture cookie NAME len N` (%CC, %CS); Name empty
	// when not configured.
	CaptureCookie Capture
	// TCPConnection are `tcp-request connection accept|reject` rules,
	// evaluated once per connection before anything is read, on the
	// socket's own addresses (before any PROXY header, as HAProxy).
	TCPConnection []TCPRule
	// TCPSession are `tcp-request session` rules: as connection rules,
	// after the PROXY header (stick.go).
	TCPSession []TCPRule
	// InspectDelay and TCPContent are `tcp-request inspect-delay` and
	// `tcp-request content accept|reject` (mode tcp): the rules see the
	// client's first bytes and wait for more, up to the delay, while a
	// fetch they need cannot answer yet (tcpinspect.go).
	InspectDelay time.Duration
	TCPContent   []TCPRule
	// BufferRequest is option http-buffer-request (retry_buffer.go).
	BufferRequest bool
	// IgnoreProbes is option http-ignore-probes: a connection that closes
	// or times out before sending its first byte is closed silently (no
	// 408, not logged, not counted), as HAProxy's mux_h1 does.
	IgnoreProbes bool
	// UseProxyHeader is option http-use-proxy-header (auth.go proxyConn).
	UseProxyHeader bool
	// TCPKeepAlive is option clitcpka or tcpka: TCP keep-alive on the
	// clients' connections (off by default, as in HAProxy).
	TCPKeepAlive bool
}

// TCPRule is one `tcp-request connection|content accept|reject` rule.
type TCPRule struct {
	Reject bool
	Cond   Cond       // nil: always
	Track  *TrackRule // track-scN (stick.go); Reject is then unused
	Var    *varActor  // set-var, set-var-fmt, unset-var (vars.go)
	// Addr: set-src, set-src-port, set-dst, set-dst-port; noVar: a
	// connection or session rule's variable outside sess. and proc.,
	// which sets nothing (tcpl4.go).
	Addr  *setAddrActor
	noVar bool
	// Close: tcp-response content close (tcpresponse.go).
	Close bool
}

// Capture is one captured header.
type Capture struct {
	Name string
	Len  int
}

// BackendConfig is a backend (or the back half of a listen).
type BackendConfig struct {
	Name string
	// FullConn is the backend's `fullconn`, explicit or derived as
	// HAProxy does (fullconn.go): the load at which servers with a
	// minconn reach their maxconn.
	FullConn int64
	// Via is the backend's own `source` (nil: none), which servers added
	// at runtime use as HAProxy's do (dial_via.go).
	Via *core.Via
	// ResInspectDelay and TCPResponse: tcp-response inspect-delay and
	// content rules, mode tcp (tcpresponse.go).
	ResInspectDelay time.Duration
	TCPResponse     []TCPRule
	// InspectDelay and TCPContent: the backend's tcp-request
	// inspect-delay and content rules, run when a stream enters it from
	// another proxy (stick_content.go).
	InspectDelay time.Duration
	TCPContent   []TCPRule
	Table        *sticktable.Table // the backend's own stick table, nil: none
	Stick        []StickRule       // stick on|match|store-request (stickpersist.go)
	// Splice is the backend's option splice-* (splice.go).
	Splice SpliceSet
	// StickPersist and StickForce are `option persist` and
	// `force-persist if COND` as the stick match rules apply them (set
	// only with stick rules; the cookie's own are in persist.Cookie).
	StickPersist bool
	StickForce   []Cond
	// Listen: the back half of a listen section, whose http-request
	// rules its front half already ran (HAProxy runs them once).
	Listen     bool
	Mode       Mode
	Balance    core.BalanceSpec
	Servers    []ServerConfig
	Timeouts   Timeouts
	Retries    int // -1 = default (3)
	Redispatch bool
	// TCPKeepAlive is option srvtcpka or tcpka: TCP keep-alive on the
	// server connections (off by default, as in HAProxy).
	TCPKeepAlive bool
	AllBackups   bool
	// CheckCache is `option checkcache`: cacheable responses carrying a
	// cookie are blocked (checkcache.go).
	CheckCache bool
	ConnMode   ConnMode
	ForwardFor *ForwardFor
	// SendName is `http-send-name-header NAME` (sendname.go), "" when none.
	SendName  string
	comp      *compCfg        // compression lines (compress.go)
	Redirects []*HTTPRule     // bare `redirect` lines: after HTTPRequest
	UseServer *UseServerRules // use-server lines (dispatch.go)
	// Dispatch is `dispatch` without balance: where the balancer's
	// requests go, beside Servers (dispatch.go); nil without.
	Dispatch     *ServerConfig
	OriginalTo   *ForwardFor // option originalto (setsrc.go)
	HTTPRequest  []*HTTPRule
	HTTPResponse []*HTTPRule
	// HTTPAfterResponse: http-after-response rules (afterresp.go).
	HTTPAfterResponse []*HTTPRule
	ErrorFiles        map[int][]byte
	// ServerPolicy, when set, picks the server before the algorithm (a
	// policy's choose_server): it receives every pool update and each
	// pick; declining, panicking, or naming a server outside the pool or
	// one to skip falls back to the algorithm and is counted
	// (Backend.PolicyFallbacks).
	ServerPolicy core.Balancer
	// Sticky, when set, binds a request to a server before cookie
	// persistence and the algorithm (a policy's sticky_key); only a usable
	// server of this backend is taken, anything else falls back and is
	// counted.
	Sticky core.Stickiness
	// HealthJudge, when set, may overrule health probe results of this
	// backend's servers (a policy's health); core/admin installs it.
	HealthJudge core.HealthJudge
	// RedispatchEvery is option redispatch's interval: P > 0 every Pth
	// retry, N < 0 the Nth retry before the last; 0 is the default, -1
	// (the last retry), and RedispatchOff is `option redispatch 0` (only
	// when the server is down or balancing is round-robin).
	RedispatchEvery int
	// RetryOn is retry-on (zero: conn-failure); see retry.go.
	RetryOn RetryOn
	// AbortOnClose is option abortonclose: a request whose client closed
	// is dropped from the queue and not connected or retried for.
	AbortOnClose bool
	// LastUsable: the algorithm does not hash, so the server of a
	// client's login-bound connection is preferred (preferlast.go).
	LastUsable bool
	// BufferRequest is option http-buffer-request (retry_buffer.go).
	BufferRequest bool
}

// ServerConfig is one `server` line.
type ServerConfig struct {
	Name     string
	Addr     string // host:port
	Weight   int    // default 1
	MaxConn  int64
	MaxQueue int64
	MinConn  int64 // `minconn`: the dynamic limit's floor (fullconn.go)
	Backup   bool
	Disabled bool
	Cookie   string
	// TLS, when set, is the server line's `ssl` and its settings;
	// SNI is its per-connection `sni` expression (nil when static or
	// absent). See servertls.go.
	TLS *tlsx.Client
	SNI *sample.Expr
	// SendProxy is the PROXY protocol version written at the start of
	// every new connection to the server (send-proxy 1, send-proxy-v2 2;
	// 0 none).
	SendProxy uint8
	// ShutdownOnDown is `on-marked-down shutdown-sessions`: the sessions
	// on the server end when health checks mark it down.
	ShutdownOnDown bool
	// ShutdownBackupsOnUp is `on-marked-up shutdown-backup-sessions`: when
	// this (active) server comes back up, the backup servers' sessions end.
	ShutdownBackupsOnUp bool
	// PortMap: the address has no fixed port; connections go to the
	// client's destination port plus PortOffset. An unspecified IP in
	// Addr connects to the client's destination address (resolve_addr.go).
	PortMap    bool
	PortOffset int
	// Resolve is set for a server whose address is a name resolved by
	// init-addr methods and, with resolvers, again at run time (resolve.go).
	Resolve *ResolveConfig
	// Redir is `redir PREFIX`: GET and HEAD requests for this server get
	// a 302 to PREFIX+path instead of being proxied (serverredir.go).
	Redir string
	// Via is a Unix-domain socket, a `source` address or a `socks4`
	// proxy the connections go through (dial_via.go); nil: plain TCP.
	Via *core.Via
}

func (c *Config) bufSize() int {
	if c.BufSize <= 0 {
		return 16384
	}
	return c.BufSize
}

func (c *Config) maxRewrite() int {
	if c.MaxRewrite <= 0 || c.MaxRewrite >= c.bufSize()/2 {
		return min(1024, c.bufSize()/2)
	}
	return c.MaxRewrite
}

// BuildError names the backend (and server) an engine could not be built
// for, so that the configuration layer can point at its line.
type BuildError struct {
	Backend, Server string
	Err             error
}

func (e *BuildError) Error() string {
	if e.Server != "" {
		return fmt.Sprintf("proxy: backend %s: server %s: %v", e.Backend, e.Server, e.Err)
	}
	return fmt.Sprintf("proxy: backend %s: %v", e.Backend, e.Err)
}

func (e *BuildError) Unwrap() error { return e.Err }

// bindOpts returns the socket options of Binds[i].
func (fc *FrontendConfig) bindOpts(i int) listen.Opts {
	if i < len(fc.BindOpts) {
		return fc.BindOpts[i]
	}
	return listen.Opts{}
}
