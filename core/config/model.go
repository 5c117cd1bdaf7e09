package config

import (
	"github.com/varde-lb/varde/core/health"
	"net/netip"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/diag"
)

// Config is one haproxy.cfg-syntax configuration (several files merged).
// Every field is typed and JSON-serialisable so golden files can pin the
// parsed form.
type Config struct {
	Global Global `json:"global"`
	// Defaults holds every defaults section in file order, named or not.
	Defaults []*Proxy `json:"defaults,omitempty"`
	// Frontends holds frontend and listen sections; Backends holds backend
	// and listen sections. A listen section is the same *Proxy in both.
	Frontends []*Proxy `json:"frontends,omitempty"`
	Backends  []*Proxy `json:"backends,omitempty"`
	// Proxies is every frontend, backend and listen in file order.
	Proxies []*Proxy `json:"-"`
	// Userlists are the userlist sections (userlist.go).
	Userlists []*Userlist `json:"userlists,omitempty"`
	// Resolvers are the resolvers sections (resolvers.go).
	Resolvers []*Resolvers `json:"resolvers,omitempty"`
	// DefaultResolvers is HAProxy's implicit `resolvers default` from
	// /etc/resolv.conf, set by Validate when none is declared.
	DefaultResolvers *Resolvers `json:"-"`
	// Peers are the peers sections (peers.go).
	Peers []*Peers `json:"peers,omitempty"`
	// HTTPErrors are the http-errors sections (httperrors.go).
	HTTPErrors []*HTTPErrors `json:"http_errors,omitempty"`
	// Caches are the cache sections (cache.go).
	Caches []*Cache `json:"caches,omitempty"`
	// Uses records where every keyword was used, for "parsed, not yet
	// enforced" warnings and statistics.
	Uses []Use `json:"-"`

	reported map[any]bool // see (*Config).once
}

// Use is one occurrence of a keyword from the keyword table.
type Use struct {
	Keyword string
	Pos     diag.Pos
}

// Frontend returns the frontend or listen section named name.
func (c *Config) Frontend(name string) *Proxy {
	for _, p := range c.Frontends {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Backend returns the backend or listen section named name.
func (c *Config) Backend(name string) *Proxy {
	for _, p := range c.Backends {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// DefaultsNamed returns the defaults section named name.
func (c *Config) DefaultsNamed(name string) *Proxy {
	for i := len(c.Defaults) - 1; i >= 0; i-- {
		if c.Defaults[i].Name == name {
			return c.Defaults[i]
		}
	}
	return nil
}

// Global is the global section.
type Global struct {
	Pos diag.Pos `json:"pos,omitzero"`
	// Experimental: expose-experimental-directives (normalize-uri needs it, as in HAProxy 2.6).
	Experimental   bool           `json:"expose_experimental_directives,omitempty"`
	MaxConn        int            `json:"maxconn,omitempty"`
	LocalPeer      string         `json:"localpeer,omitempty"` // localpeer NAME (peers.go)
	Logs           []*Log         `json:"logs,omitempty"`
	PidFile        string         `json:"pidfile,omitempty"`
	NbThread       int            `json:"nbthread,omitempty"`
	SpreadChecks   int            `json:"spread_checks,omitempty"` // percent, 0..50
	HardStopAfter  time.Duration  `json:"hard_stop_after,omitempty"`
	StatsSockets   []*StatsSocket `json:"stats_sockets,omitempty"`
	StatsTimeout   time.Duration  `json:"stats_timeout,omitempty"`
	TuneBufSize    int64          `json:"tune_bufsize,omitempty"`
	TuneMaxRewrite int64          `json:"tune_maxrewrite,omitempty"`
	TuneLog        LogTuning      `json:"tune_log,omitzero"`

	// TuneCompMaxLevel is tune.comp.maxlevel, 1..9 (0: HAProxy's default 1);
	// MaxCompRate is maxcomprate in kB/s (0: no limit).
	TuneCompMaxLevel int `json:"tune_comp_maxlevel,omitempty"`
	MaxCompRate      int `json:"maxcomprate,omitempty"`
	// CompMinIdle is 100 - maxcompcpuusage: the idle CPU percentage below
	// which responses are not compressed (0: no limit, maxcompcpuusage 100).
	CompMinIdle int `json:"comp_min_idle,omitempty"`

	// LuaLoad are the lua-load and lua-load-per-thread lines, in order;
	// LuaPaths the lua-prepend-path lines (scripting/haproxylua).
	LuaLoad  []*LuaLoad `json:"lua_load,omitempty"`
	LuaPaths []*LuaPath `json:"lua_paths,omitempty"`

	SSLDefaultBindCiphers      string          `json:"ssl_default_bind_ciphers,omitempty"`
	SSLDefaultBindCiphersuites string          `json:"ssl_default_bind_ciphersuites,omitempty"`
	SSLDefaultBindOptions      []string        `json:"ssl_default_bind_options,omitempty"`
	SSLDefaultServerCiphers    string          `json:"ssl_default_server_ciphers,omitempty"`
	SSLDefaultServerOptions    []string        `json:"ssl_default_server_options,omitempty"`
	SSLServerVerify            string          `json:"ssl_server_verify,omitempty"` // none, required ("" = required)
	CABase                     string          `json:"ca_base,omitempty"`
	CRTBase                    string          `json:"crt_base,omitempty"`
	TuneSSLDefaultDHParam      int             `json:"tune_ssl_default_dh_param,omitempty"`
	TuneHTTPMaxHdr             int             `json:"tune_http_maxhdr,omitempty"`    // misc.go
	TuneH2MaxStreams           int             `json:"tune_h2_max_streams,omitempty"` // tune.h2.max-concurrent-streams (misc.go)
	MasterWorker               bool            `json:"master_worker,omitempty"`       // misc.go
	TuneVars                   *TuneVars       `json:"tune_vars,omitempty"`           // tune.vars.*-max-size (vars.go)
	SetVars                    []*GlobalSetVar `json:"set_vars,omitempty"`            // global set-var, set-var-fmt (vars.go)
	ServerState                ServerState     `json:"server_state,omitzero"`         // server-state-file, server-state-base (serverstate.go)
	ZeroWarning                bool            `json:"zero_warning,omitempty"`        // any warning refuses the configuration
	DefaultPathDir             string          `json:"default_path_dir,omitempty"`    // default-path's directory for relative file names ("" = where varde starts; defaultpath.go)
	ZeroWarningPos             diag.Pos        `json:"-"`
	NoStrictLimits             bool            `json:"no_strict_limits,omitempty"` // `no strict-limits`: a descriptor limit too low for maxconn is a warning (HAProxy 2.6 default: an error)
	StrictLimitsPos            diag.Pos        `json:"-"`

	// Accepted for compatibility; varde does not act on them (see docs).
	Daemon          bool   `json:"daemon,omitempty"`
	User            string `json:"user,omitempty"`
	Group           string `json:"group,omitempty"`
	Chroot          string `json:"chroot,omitempty"`
	UID             int    `json:"uid,omitempty"`
	GID             int    `json:"gid,omitempty"`
	Quiet           bool   `json:"quiet,omitempty"`
	NoSplice        bool   `json:"nosplice,omitempty"`
	Ulimit          int    `json:"ulimit_n,omitempty"`
	Debug           bool   `json:"debug,omitempty"`
	LogSendHostname string `json:"log_send_hostname,omitempty"`
	LogTag          string `json:"log_tag,omitempty"`

	// UIDPos locates the uid line (validateIdentity, global_identity.go).
	UIDPos diag.Pos `json:"-"`
}

// LogTuning is varde's log pipeline tuning (tune.log.*).
type LogTuning struct {
	Batch  int           `json:"batch,omitempty"`   // records per write, 0 = default
	Flush  time.Duration `json:"flush,omitempty"`   // max time a record waits in a batch
	OnFull string        `json:"on_full,omitempty"` // "drop" (default) or "block"
}

// StatsSocket is `stats socket PATH|ADDR [mode M] [level L] ...`.
type StatsSocket struct {
	Pos               diag.Pos `json:"pos"`
	Path              string   `json:"path,omitempty"`  // unix socket path
	Addr              *Address `json:"addr,omitempty"`  // ipv4@/ipv6@/host:port TCP listener
	Mode              uint32   `json:"mode,omitempty"`  // file mode, e.g. 0600
	Level             string   `json:"level,omitempty"` // user, operator or admin; "" when not given (the admin API applies HAProxy's default)
	User              string   `json:"user,omitempty"`
	Group             string   `json:"group,omitempty"`
	ExposeFdListeners bool     `json:"expose_fd_listeners,omitempty"`
}

// Log is one `log` line: `log global` or
// `log TARGET [len N] [format F] [varde options] FACILITY [LEVEL [MINLEVEL]]`.
type Log struct {
	Pos    diag.Pos `json:"pos"`
	Global bool     `json:"global,omitempty"` // `log global`: use the global section's logs
	// Target kind: udp, tcp, unix, stdout, stderr, file. Addr for udp/tcp,
	// Path for unix/file.
	Kind     string   `json:"kind,omitempty"`
	Target   string   `json:"target,omitempty"` // as written
	Addr     *Address `json:"addr,omitempty"`
	Path     string   `json:"path,omitempty"`
	Len      int      `json:"len,omitempty"`
	Format   string   `json:"format,omitempty"` // raw, local, rfc3164 (default), rfc5424, short, priority, iso, timed
	Sample   string   `json:"sample,omitempty"`
	Facility string   `json:"facility,omitempty"`
	Level    string   `json:"level,omitempty"`
	MinLevel string   `json:"min_level,omitempty"`

	Anonymize   *Anonymize    `json:"anonymize,omitempty"`
	Retention   time.Duration `json:"retention,omitempty"`
	RotateSize  int64         `json:"rotate_size,omitempty"`
	Keep        int           `json:"keep,omitempty"`
	Compress    bool          `json:"compress,omitempty"`
	RotateEvery time.Duration `json:"rotate_every,omitempty"`
}

// Anonymize is varde's `anonymize ip V4,V6 | hmac KEYFILE [rotate DUR] | none`,
// with `anonymize pii CLASSES`, `anonymize params NAMES` and `anonymize
// mask MASKS` for personal data beyond addresses (docs/logging.md).
type Anonymize struct {
	Mode    string        `json:"mode"` // ip, hmac, none; "" when only pii/params/mask were given
	V4Bits  int           `json:"v4_bits,omitempty"`
	V6Bits  int           `json:"v6_bits,omitempty"`
	KeyFile string        `json:"key_file,omitempty"`
	Rotate  time.Duration `json:"rotate,omitempty"`
	PII     string        `json:"pii,omitempty"`    // "email,phone,fnr,card", "all", "none"; "" = all with ip/hmac
	Params  []string      `json:"params,omitempty"` // parameter and cookie names
	Mask    string        `json:"mask,omitempty"`   // "drop", "truncate,card=hash", ...; "" = drop
}

// Proxy kinds.
const (
	KindDefaults = "defaults"
	KindFrontend = "frontend"
	KindBackend  = "backend"
	KindListen   = "listen"
)

// Proxy is a defaults, frontend, backend or listen section. Settings that
// defaults sections may carry are copied into each proxy when it is
// created, as HAProxy does, so consumers read one struct.
type Proxy struct {
	Kind string   `json:"kind"`
	Name string   `json:"name,omitempty"`
	Pos  diag.Pos `json:"pos"`
	// From is the defaults section this one inherits from ("" = none).
	From string `json:"from,omitempty"`

	Mode        string   `json:"mode,omitempty"` // "http" or "tcp"; "" means tcp (HAProxy's default)
	ModePos     diag.Pos `json:"-"`
	Disabled    bool     `json:"disabled,omitempty"`
	ID          int      `json:"id,omitempty"`
	Description string   `json:"description,omitempty"`

	MaxConn    int                `json:"maxconn,omitempty"`
	FullConn   int                `json:"fullconn,omitempty"`
	Retries    int                `json:"retries"`
	RetryOn    []string           `json:"retry_on,omitempty"` // retry-on keywords and status codes; nil = conn-failure
	Timeouts   Timeouts           `json:"timeouts,omitzero"`
	Options    map[string]*Option `json:"options,omitempty"`
	Balance    *core.BalanceSpec  `json:"balance,omitempty"`
	BalancePos diag.Pos           `json:"-"`
	Cookie     *Cookie            `json:"cookie,omitempty"`
	HTTPCheck  []*HTTPCheck       `json:"http_check,omitempty"`
	TCPCheck   []*TCPCheck        `json:"tcp_check,omitempty"` // tcpcheck.go
	ErrorFiles []*ErrorFile       `json:"errorfiles,omitempty"`
	Logs       []*Log             `json:"logs,omitempty"`
	LogFormat  *StringAt          `json:"log_format,omitempty"`
	// unique-id-format and unique-id-header (uniqueid.go).
	UniqueIDFormat *StringAt      `json:"unique_id_format,omitempty"`
	UniqueIDHeader string         `json:"unique_id_header,omitempty"`
	Stats          *Stats         `json:"stats,omitempty"`
	DefaultServer  *ServerOptions `json:"default_server,omitempty"`
	Policies       []*PolicyLine  `json:"policies,omitempty"`
	ForcePersist   []*Condition   `json:"force_persist,omitempty"`
	IgnorePersist  []*Condition   `json:"ignore_persist,omitempty"`

	// Frontend side.
	Binds          []*Bind       `json:"binds,omitempty"`
	ACLs           []*ACL        `json:"acls,omitempty"`
	DefaultBackend *StringAt     `json:"default_backend,omitempty"`
	UseBackends    []*UseBackend `json:"use_backends,omitempty"`
	HTTPRequest    []*HTTPRule   `json:"http_request,omitempty"`
	// tcp-request inspect-delay and accept/reject rules (tcprequest.go).
	InspectDelay    time.Duration `json:"inspect_delay,omitempty"`
	InspectDelayPos diag.Pos      `json:"-"`
	TCPRequest      []*TCPRule    `json:"tcp_request,omitempty"`
	// tcp-response inspect-delay and content rules (tcpresponse.go).
	ResInspectDelay time.Duration `json:"res_inspect_delay,omitempty"`
	TCPResponse     []*TCPRule    `json:"tcp_response,omitempty"`
	StickTable      *StickTable   `json:"stick_table,omitempty"` // stick.go
	Stick           []*StickRule  `json:"stick,omitempty"`       // stick on|match|store-request (stick.go)
	HTTPResponse    []*HTTPRule   `json:"http_response,omitempty"`
	// HTTPAfterResponse runs on every response, locally generated ones
	// too, after HTTPResponse (core/proxy/afterresp.go).
	HTTPAfterResponse []*HTTPRule    `json:"http_after_response,omitempty"`
	Captures          []*Capture     `json:"captures,omitempty"`
	MonitorURI        string         `json:"monitor_uri,omitempty"`
	MonitorFail       []*MonitorFail `json:"monitor_fail,omitempty"`        // misc.go
	Redirects         []*HTTPRule    `json:"redirects,omitempty"`           // bare `redirect` lines (misc.go)
	UseServers        []*UseServer   `json:"use_servers,omitempty"`         // misc.go
	Dispatch          *Dispatch      `json:"dispatch,omitempty"`            // misc.go
	Source            *Source        `json:"source,omitempty"`              // dial.go
	RateLimitSessions int            `json:"rate_limit_sessions,omitempty"` // misc.go
	// load-server-state-from-file and server-state-file-name (serverstate.go).
	LoadServerState        string   `json:"load_server_state_from_file,omitempty"`
	LoadServerStatePos     diag.Pos `json:"-"`
	ServerStateFileName    string   `json:"server_state_file_name,omitempty"`
	ServerStateFileNamePos diag.Pos `json:"-"`
	HTTPReuse              string   `json:"http_reuse,omitempty"`
	SendNameHeader         string   `json:"send_name_header,omitempty"` // http-send-name-header NAME
	LogTag                 string   `json:"log_tag,omitempty"`          // log-tag: the syslog tag of this proxy's logs

	// Compression is the compression lines (compression.go).
	Compression *Compression `json:"compression,omitempty"`

	// Backend side.
	Servers []*Server `json:"servers,omitempty"`

	// ownTCPCheck is set by the proxy's first tcp-check line: its rules
	// replace the ones inherited from defaults.
	ownTCPCheck bool

	// badBind is set when a bind line failed to parse, so Validate does not
	// add "no bind line" on top of the real error.
	badBind bool
}

// IsFrontend reports whether p accepts connections (frontend or listen).
func (p *Proxy) IsFrontend() bool { return p.Kind == KindFrontend || p.Kind == KindListen }

// IsBackend reports whether p has servers (backend or listen).
func (p *Proxy) IsBackend() bool { return p.Kind == KindBackend || p.Kind == KindListen }

// EffectiveMode is the proxy's mode, "tcp" when unset as in HAProxy.
func (p *Proxy) EffectiveMode() string {
	if p.Mode == "" {
		return "tcp"
	}
	return p.Mode
}

// Option returns the option named name if it is set and not negated.
func (p *Proxy) Option(name string) *Option {
	if o := p.Options[name]; o != nil && !o.Negated {
		return o
	}
	return nil
}

// StringAt is a string value with the place it was set.
type StringAt struct {
	Value string   `json:"value"`
	Pos   diag.Pos `json:"pos"`
}

// Timeouts holds `timeout ...` values; zero means unset.
type Timeouts struct {
	Connect       time.Duration `json:"connect,omitempty"`
	Client        time.Duration `json:"client,omitempty"`
	Server        time.Duration `json:"server,omitempty"`
	HTTPRequest   time.Duration `json:"http_request,omitempty"`
	HTTPKeepAlive time.Duration `json:"http_keep_alive,omitempty"`
	Queue         time.Duration `json:"queue,omitempty"`
	Check         time.Duration `json:"check,omitempty"`
	Tunnel        time.Duration `json:"tunnel,omitempty"`
	ClientFin     time.Duration `json:"client_fin,omitempty"`
	ServerFin     time.Duration `json:"server_fin,omitempty"`
	Tarpit        time.Duration `json:"tarpit,omitempty"`
}

// Option is `option NAME [ARGS]` or `no option NAME`.
type Option struct {
	Name    string   `json:"name"`
	Pos     diag.Pos `json:"pos"`
	Negated bool     `json:"negated,omitempty"`
	Args    []string `json:"args,omitempty"`
	// Typed forms of the options that take arguments.
	ForwardFor *ForwardFor `json:"forwardfor,omitempty"`
	OriginalTo *ForwardFor `json:"originalto,omitempty"` // option originalto (setsrc.go)
	HTTPChk    *HTTPChk    `json:"httpchk,omitempty"`
}

// ForwardFor is `option forwardfor [except NET] [header NAME] [if-none]`.
type ForwardFor struct {
	Except string `json:"except,omitempty"` // network, as written (addr or addr/len)
	Header string `json:"header"`           // default X-Forwarded-For
	IfNone bool   `json:"if_none,omitempty"`
}

// HTTPChk is `option httpchk [METH] [URI] [VERSION]` (HAProxy's defaults:
// OPTIONS / HTTP/1.0).
type HTTPChk struct {
	Method  string `json:"method"`
	URI     string `json:"uri"`
	Version string `json:"version"`
	// Headers appended after the version with "\r\n" in 2010-era configs,
	// e.g. "HTTP/1.1\r\nHost:\ www".
	Headers []string `json:"headers,omitempty"`
}

// HTTPCheck is one `http-check` line.
type HTTPCheck struct {
	Pos    diag.Pos `json:"pos"`
	Action string   `json:"action"` // expect, send, send-state, disable-on-404, connect, comment
	// expect
	Negate  bool   `json:"negate,omitempty"`
	Match   string `json:"match,omitempty"` // status, rstatus, string, rstring, hdr, fhdr
	Pattern string `json:"pattern,omitempty"`
	// send
	Method  string   `json:"method,omitempty"`
	URI     string   `json:"uri,omitempty"`
	Version string   `json:"version,omitempty"`
	Headers []Header `json:"headers,omitempty"`
	Body    string   `json:"body,omitempty"`
	Args    []string `json:"args,omitempty"` // other words, as written
	// connect (tcpcheck.go)
	Connect *health.TCPCheckRule `json:"connect,omitempty"`
	// send: uri-lf and body-lf (log-format; hdr values are log-format too)
	URIFmt  string `json:"uri_fmt,omitempty"`
	BodyFmt string `json:"body_fmt,omitempty"`
	// set-var, set-var-fmt, unset-var (checkvars.go)
	Var *VarAction `json:"var,omitempty"`
}

// Header is a name/value pair.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Cookie is `cookie NAME insert|rewrite|prefix [options]`.
type Cookie struct {
	Pos      diag.Pos      `json:"pos"`
	Name     string        `json:"name"`
	Mode     string        `json:"mode"` // insert, rewrite, prefix ("" = passive: only read)
	Indirect bool          `json:"indirect,omitempty"`
	NoCache  bool          `json:"nocache,omitempty"`
	PostOnly bool          `json:"postonly,omitempty"`
	Preserve bool          `json:"preserve,omitempty"`
	HTTPOnly bool          `json:"httponly,omitempty"`
	Secure   bool          `json:"secure,omitempty"`
	Domains  []string      `json:"domains,omitempty"`
	MaxIdle  time.Duration `json:"maxidle,omitempty"`
	MaxLife  time.Duration `json:"maxlife,omitempty"`
	Dynamic  bool          `json:"dynamic,omitempty"`
	Attr     []string      `json:"attr,omitempty"`
}

// PolicyLine is `policy FILE [timeout DURATION] [fallback ALGO]`. File is
// as written; Path is resolved against the directory of the configuration
// file that names it.
type PolicyLine struct {
	File     string        `json:"file"`
	Path     string        `json:"-"`
	Timeout  time.Duration `json:"timeout,omitempty"`
	Fallback string        `json:"fallback,omitempty"`
	Pos      diag.Pos      `json:"pos"`
}

// ErrorFile is `errorfile CODE FILE`.
type ErrorFile struct {
	Pos  diag.Pos `json:"pos"`
	Code int      `json:"code"`
	File string   `json:"file"`
	// Location and LocCode: an `errorloc|errorloc302|errorloc303 CODE URL`
	// line: the page is a redirect to Location with status LocCode (misc.go).
	Location string `json:"location,omitempty"`
	LocCode  int    `json:"loc_code,omitempty"`
	// Set and Codes: an `errorfiles NAME [CODE...]` line while parsing;
	// replaced by the pages it imports once all sections are read.
	Set   string `json:"set,omitempty"`
	Codes []int  `json:"codes,omitempty"`
}

// Stats is the `stats ...` settings of a proxy.
type Stats struct {
	Pos         diag.Pos      `json:"pos"`
	Enabled     bool          `json:"enabled,omitempty"`
	URI         string        `json:"uri,omitempty"` // default /haproxy?stats once enabled
	Realm       string        `json:"realm,omitempty"`
	Auth        []StatsAuth   `json:"auth,omitempty"`
	Refresh     time.Duration `json:"refresh,omitempty"`
	HideVersion bool          `json:"hide_version,omitempty"`
	ShowNode    string        `json:"show_node,omitempty"`
	ShowLegends bool          `json:"show_legends,omitempty"`
	ShowModules bool          `json:"show_modules,omitempty"`
	ShowDesc    string        `json:"show_desc,omitempty"`
	Admin       []*Condition  `json:"admin,omitempty"`
	Scope       []string      `json:"scope,omitempty"`
}

// StatsAuth is `stats auth USER:PASSWORD`; Password may be a crypt(3) hash.
type StatsAuth struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// Bind is one `bind` line.
type Bind struct {
	Pos   diag.Pos  `json:"pos"`
	Addrs []Address `json:"addrs"`
	// Unix is set for a unix socket path ("/path" or "unix@/path").
	Unix string `json:"unix,omitempty"`
	// FD is N of `fd@N`: a listening socket the process inherited.
	FD          string   `json:"fd,omitempty"`
	SSL         bool     `json:"ssl,omitempty"`
	Crts        []string `json:"crts,omitempty"`
	CA          string   `json:"ca_file,omitempty"`
	Verify      string   `json:"verify,omitempty"`
	ALPN        string   `json:"alpn,omitempty"`
	Ciphers     string   `json:"ciphers,omitempty"`
	Name        string   `json:"name,omitempty"`
	Interface   string   `json:"interface,omitempty"`
	Transparent bool     `json:"transparent,omitempty"`
	V4V6        bool     `json:"v4v6,omitempty"`
	V6Only      bool     `json:"v6only,omitempty"`
	AcceptProxy bool     `json:"accept_proxy,omitempty"`
	Defer       bool     `json:"defer_accept,omitempty"`
	Proto       string   `json:"proto,omitempty"` // "h2": HTTP/2 with prior knowledge
	MaxConn     int      `json:"maxconn,omitempty"`
	Backlog     int      `json:"backlog,omitempty"`
	Mode        uint32   `json:"mode,omitempty"`
	Options     []string `json:"options,omitempty"` // other flags, as written (no-sslv3, ...)

	// TLS options beyond the common ones (core/tlsx builds them).
	CrtLists     []string `json:"crt_lists,omitempty"`
	CRLFile      string   `json:"crl_file,omitempty"`
	CipherSuites string   `json:"ciphersuites,omitempty"`
	Curves       string   `json:"curves,omitempty"` // curves, or ecdhe's one curve
	StrictSNI    bool     `json:"strict_sni,omitempty"`
	NoTLSTickets bool     `json:"no_tls_tickets,omitempty"`
	// TLSVersions are the version options as written, in order
	// ("no-tlsv10", "ssl-min-ver TLSv1.2").
	TLSVersions []string `json:"tls_versions,omitempty"`
}

// ACL is `acl NAME CRITERION [flags] [operator] VALUES...`.
type ACL struct {
	Pos       diag.Pos `json:"pos"`
	Name      string   `json:"name"`
	Criterion string   `json:"criterion"`        // path_beg, hdr_beg, ...
	Arg       string   `json:"arg,omitempty"`    // hdr(host) -> host
	Flags     []string `json:"flags,omitempty"`  // -i, -m beg, ...
	Values    []Token  `json:"values,omitempty"` // with positions
}

// Condition is `if|unless COND`: an OR of AND-terms, as HAProxy reads it.
type Condition struct {
	Pos    diag.Pos  `json:"pos"`
	Unless bool      `json:"unless,omitempty"`
	Or     [][]*Term `json:"or"`
}

// Term is one operand of a condition: a named ACL or an anonymous
// `{ criterion values }` ACL, optionally negated with '!'.
type Term struct {
	Pos    diag.Pos `json:"pos"`
	Negate bool     `json:"negate,omitempty"`
	ACL    string   `json:"acl,omitempty"`
	Anon   *ACL     `json:"anon,omitempty"`
}

// UseBackend is `use_backend NAME [if|unless COND]`.
type UseBackend struct {
	Pos     diag.Pos   `json:"pos"`
	Backend string     `json:"backend"`
	Cond    *Condition `json:"cond,omitempty"`
}

// HTTPRule is one `http-request` or `http-response` line.
type HTTPRule struct {
	// WaitBody: http-request wait-for-body (waitbody.go).
	WaitBody *WaitBody `json:"wait_body,omitempty"`
	Pos      diag.Pos  `json:"pos"`
	Action   string    `json:"action"` // redirect, set-header, add-header, del-header, deny, allow, use-service, ...
	// set-header/add-header/del-header: Name and Value (a log-format string).
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
	// redirect: Redirect.
	Redirect *Redirect `json:"redirect,omitempty"`
	// deny: status (default 403); return: status (default 200);
	// use-service: Service.
	Status int `json:"status,omitempty"`
	// return, and deny with a body or headers: what is sent (retaction.go).
	Return *Return `json:"return,omitempty"`
	// Response: an http-response deny/return (replaces the server's answer).
	Response bool       `json:"response,omitempty"`
	Service  string     `json:"service,omitempty"`
	Args     []string   `json:"args,omitempty"` // remaining words of other actions
	Cond     *Condition `json:"cond,omitempty"`
	// track-scN, sc-inc-gpc0(N), sc-set-gpt0(N) (stick.go).
	Track *TrackSC `json:"track,omitempty"`
	// Rewrites (rewrite.go): replace-*'s regular expression (Value is the
	// format), del-header's -m method (str when empty), set-status's
	// reason (nil: the code's standard one).
	Regex  string  `json:"regex,omitempty"`
	Match  string  `json:"match,omitempty"`
	Reason *string `json:"reason,omitempty"`
	// set-var, set-var-fmt, unset-var (vars.go).
	Var *VarAction `json:"var,omitempty"`
	// http-request/http-response capture (capture_rules.go).
	Capture *RuleCapture `json:"capture,omitempty"`
}

// Redirect is `redirect location|prefix|scheme TARGET [code N] [options]`.
type Redirect struct {
	Type    string   `json:"type"` // location, prefix, scheme
	Target  string   `json:"target"`
	Code    int      `json:"code"`              // default 302
	Options []string `json:"options,omitempty"` // drop-query, append-slash, set-cookie X, clear-cookie X
	// DropQuery and AppendSlash apply to prefix and scheme redirects.
	DropQuery   bool `json:"drop_query,omitempty"`
	AppendSlash bool `json:"append_slash,omitempty"`
	// SetCookie is the whole Set-Cookie value the redirect carries
	// (set-cookie / clear-cookie, the last one written wins), as HAProxy
	// builds it: NAME[=VALUE] followed by "; path=/;" or "; path=/; Max-Age=0;".
	SetCookie string `json:"set_cookie,omitempty"`
}

// Capture is `capture request|response header NAME len N` or `capture cookie NAME len N`.
type Capture struct {
	Pos  diag.Pos `json:"pos"`
	What string   `json:"what"` // request, response, cookie
	Name string   `json:"name"`
	Len  int      `json:"len"`
}

// Server is a `server NAME ADDR[:PORT] [options]` line.
type Server struct {
	Pos     diag.Pos `json:"pos"`
	Name    string   `json:"name"`
	Address Address  `json:"address"`
	ServerOptions
}

// ServerOptions are the options of a server or default-server line.
// Pointer or zero-valued fields are unset; Defaults() gives HAProxy's values.
type ServerOptions struct {
	Weight    *int          `json:"weight,omitempty"` // 0..256, default 1
	MaxConn   int           `json:"maxconn,omitempty"`
	MaxQueue  int           `json:"maxqueue,omitempty"`
	MinConn   int           `json:"minconn,omitempty"`
	Backup    bool          `json:"backup,omitempty"`
	Disabled  bool          `json:"disabled,omitempty"`
	Check     bool          `json:"check,omitempty"`
	Inter     time.Duration `json:"inter,omitempty"`     // default 2s
	FastInter time.Duration `json:"fastinter,omitempty"` // default inter
	DownInter time.Duration `json:"downinter,omitempty"` // default inter
	Rise      int           `json:"rise,omitempty"`      // default 2
	Fall      int           `json:"fall,omitempty"`      // default 3
	Port      uint16        `json:"port,omitempty"`      // check port
	// Run-time resolution (resolvers.go, serverresolve.go).
	Resolvers     string         `json:"resolvers,omitempty"`
	ResolversPos  diag.Pos       `json:"-"`
	ResolvePrefer string         `json:"resolve_prefer,omitempty"` // ipv4 | ipv6 (HAProxy's default)
	ResolveNets   []netip.Prefix `json:"resolve_net,omitempty"`
	ResolveOpts   []string       `json:"resolve_opts,omitempty"`
	InitAddr      []string       `json:"init_addr,omitempty"` // last, libc, none or an IP, in order
	InitAddrPos   diag.Pos       `json:"-"`
	Addr          string         `json:"addr,omitempty"` // check address
	Cookie        string         `json:"cookie,omitempty"`
	CookiePos     diag.Pos       `json:"-"`
	SlowStart     time.Duration  `json:"slowstart,omitempty"`
	SSL           bool           `json:"ssl,omitempty"`
	Verify        string         `json:"verify,omitempty"` // none, required
	CAFile        string         `json:"ca_file,omitempty"`
	SNI           string         `json:"sni,omitempty"`
	CheckSSL      bool           `json:"check_ssl,omitempty"`
	ServerTLS
	SendProxy bool `json:"send_proxy,omitempty"`
	// SendProxyV2 is send-proxy-v2; it wins over SendProxy (HAProxy
	// sends one header, version 2 when both are set).
	SendProxyV2 bool `json:"send_proxy_v2,omitempty"`
	ID          int  `json:"id,omitempty"`

	// Passive health (observe) and agent checks.
	Observe      string        `json:"observe,omitempty"`     // layer4, layer7
	ErrorLimit   int           `json:"error_limit,omitempty"` // default 10
	OnError      string        `json:"on_error,omitempty"`    // fastinter (default), fail-check, sudden-death, mark-down
	OnMarkedDown string        `json:"on_marked_down,omitempty"`
	OnMarkedUp   string        `json:"on_marked_up,omitempty"`
	AgentCheck   bool          `json:"agent_check,omitempty"`
	AgentPort    uint16        `json:"agent_port,omitempty"`
	AgentInter   time.Duration `json:"agent_inter,omitempty"`
	AgentAddr    string        `json:"agent_addr,omitempty"`
	AgentSend    string        `json:"agent_send,omitempty"`
	Redir        string        `json:"redir,omitempty"`

	// How connections reach the server (dial.go): `source`, `socks4`,
	// `check-via-socks4`.
	Source         *Source        `json:"source,omitempty"`
	SOCKS4         netip.AddrPort `json:"socks4,omitzero"`
	CheckViaSOCKS4 bool           `json:"check_via_socks4,omitempty"`
}

// Server defaults, as in HAProxy.
const (
	DefaultWeight     = 1
	DefaultInter      = 2 * time.Second
	DefaultRise       = 2
	DefaultFall       = 3
	DefaultErrorLimit = 10
	DefaultRetries    = 3
)

// EffectiveWeight is the configured weight or HAProxy's default 1.
func (o *ServerOptions) EffectiveWeight() int {
	if o.Weight == nil {
		return DefaultWeight
	}
	return *o.Weight
}

// LuaLoad is `lua-load FILE [ARG...]` or `lua-load-per-thread FILE [ARG...]`.
// FILE is used as written (relative to the working directory, as HAProxy).
type LuaLoad struct {
	Pos       diag.Pos `json:"pos"`
	File      string   `json:"file"`
	Args      []string `json:"args,omitempty"`
	PerThread bool     `json:"per_thread,omitempty"`
}

// LuaPath is `lua-prepend-path PATH [path|cpath]`.
type LuaPath struct {
	Pos  diag.Pos `json:"pos"`
	Path string   `json:"path"`
	Kind string   `json:"kind"` // path (default) or cpath
}
