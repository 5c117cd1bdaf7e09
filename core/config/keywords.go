package config

// The keyword table: every haproxy.cfg keyword varde parses.
//
// FORMAT (for the helpers who give keywords behaviour): one line per keyword,
//
//	{Name: "timeout connect", Sections: DFBL, Default: "", Enforced: true},
//
// Name is the keyword as written, multi-word for families ("option httplog",
// "timeout connect", "stats socket", "http-request set-header"); options of
// server, bind and log lines are "server weight", "bind ssl", "log anonymize".
// When your code makes a keyword work, flip Enforced to true on its line and
// drop its Refused reason; `varde check` and `varde run` then stop refusing
// it (Refused) or listing it as "parsed, not yet enforced". Keep the lines sorted within their block.
// A NEW keyword also needs its parser in this package, a line in
// docs/config.md and a use in a testdata/*.cfg golden (TestKeywordTable,
// TestDocsListEveryKeyword and TestEveryKeywordHasAGolden check all three).
//
// Sections: G global, D defaults, F frontend, B backend (listen = F|B).

// Section is a bit set of the sections a keyword may appear in.
type Section uint8

const (
	SecGlobal Section = 1 << iota
	SecDefaults
	SecFrontend
	SecBackend
	SecResolvers
	SecPeers
	SecCache

	G    = SecGlobal
	D    = SecDefaults
	F    = SecFrontend
	B    = SecBackend
	R    = SecResolvers
	P    = SecPeers
	C    = SecCache
	FB   = F | B
	DF   = D | F
	DB   = D | B
	DFB  = D | F | B
	DFBL = D | F | B // listen is F|B; kept as a name for readability
)

// KeywordInfo describes one keyword of the table.
type KeywordInfo struct {
	Name     string
	Sections Section
	Default  string
	Enforced bool
	// Refused, when set, makes every use of a keyword that is not enforced
	// an error with this reason: its silent absence would weaken security
	// or change routing (nothing fails open). Keywords left with
	// Enforced false and no Refused reason are harmless to ignore; they are
	// listed in one grouped warning.
	Refused string
}

// Keywords is the table; see the FORMAT comment above.
var Keywords = []KeywordInfo{
	// resolvers sections (resolvers.go)
	{Name: "resolvers", Sections: R, Default: "", Enforced: true},
	{Name: "accepted_payload_size", Sections: R, Default: "512", Enforced: true},
	{Name: "hold nx", Sections: R, Default: "30s", Enforced: true},
	{Name: "hold obsolete", Sections: R, Default: "0s", Enforced: true},
	{Name: "hold other", Sections: R, Default: "30s", Enforced: true},
	{Name: "hold refused", Sections: R, Default: "30s", Enforced: true},
	{Name: "hold timeout", Sections: R, Default: "30s", Enforced: true},
	{Name: "hold valid", Sections: R, Default: "10s", Enforced: true},
	{Name: "nameserver", Sections: R, Default: "", Enforced: true},
	{Name: "parse-resolv-conf", Sections: R, Default: "", Enforced: true},
	{Name: "resolve_retries", Sections: R, Default: "3", Enforced: true},
	{Name: "timeout resolve", Sections: R, Default: "1s", Enforced: true},
	{Name: "timeout retry", Sections: R, Default: "1s", Enforced: true},
	// peers sections (peers.go, docs/peers.md): named "peers KEYWORD"
	// where the keyword is also a proxy's.
	{Name: "peers", Sections: P, Default: "", Enforced: true},
	{Name: "peers bind", Sections: P, Default: "", Enforced: true},
	{Name: "peers default-bind", Sections: P, Default: "", Enforced: true},   // only options that change nothing (v4v6); others are errors
	{Name: "peers default-server", Sections: P, Default: "", Enforced: true}, // only check timers, which peers do not use; others are errors
	{Name: "peers disabled", Sections: P, Default: "", Enforced: true},
	{Name: "peers enabled", Sections: P, Default: "", Enforced: true},
	{Name: "peers log", Sections: P, Default: "", Enforced: false}, // peers events go to varde's own log
	{Name: "peers peer", Sections: P, Default: "", Enforced: true}, // the local peer listens, remote peers are replicated with (core/peers)
	{Name: "peers server", Sections: P, Default: "", Enforced: true},
	{Name: "peers table", Sections: P, Default: "", Enforced: true},
	// cache sections (cache.go)
	{Name: "cache", Sections: C, Default: "", Enforced: true},
	{Name: "max-age", Sections: C, Default: "60", Enforced: true},
	{Name: "max-object-size", Sections: C, Default: "a 256th of total-max-size", Enforced: true},
	{Name: "max-secondary-entries", Sections: C, Default: "10", Enforced: true},
	{Name: "process-vary", Sections: C, Default: "off", Enforced: true},
	{Name: "total-max-size", Sections: C, Default: "", Enforced: true},
	// global
	{Name: "ca-base", Sections: G, Default: "", Enforced: true},                           // read by server ca-file/crl-file
	{Name: "chroot", Sections: G, Default: "", Enforced: true},                            // accepted with a warning: varde does not chroot
	{Name: "crt-base", Sections: G, Default: "", Enforced: true},                          // read by server crt
	{Name: "daemon", Sections: G, Default: "", Enforced: true},                            // accepted with a warning: varde stays in the foreground
	{Name: "debug", Sections: G, Default: "", Enforced: true},                             // accepted with a warning
	{Name: "default-path", Sections: G, Default: "current", Enforced: true},               // misc.go: only current; config|parent|origin refused
	{Name: "expose-experimental-directives", Sections: G, Default: "off", Enforced: true}, // allows http-request normalize-uri, as HAProxy 2.6
	{Name: "gid", Sections: G, Default: "", Enforced: true},                               // switched to when started as root (cmd/varde/privdrop_linux.go); unknown names are errors
	{Name: "group", Sections: G, Default: "", Enforced: true},                             // switched to when started as root (cmd/varde/privdrop_linux.go); unknown names are errors
	{Name: "hard-stop-after", Sections: G, Default: "none", Enforced: true},
	{Name: "localpeer", Sections: G, Default: "the host name", Enforced: true}, // peers.go; -L NAME wins
	{Name: "log-send-hostname", Sections: G, Default: "", Enforced: true},
	{Name: "lua-load", Sections: G, Default: "", Enforced: true},
	{Name: "lua-load-per-thread", Sections: G, Default: "", Enforced: true}, // pooled states, no lock (docs/haproxy-lua.md)
	{Name: "lua-prepend-path", Sections: G, Default: "", Enforced: true},
	{Name: "log-tag", Sections: G | DFB, Default: "haproxy", Enforced: true},
	{Name: "master-worker", Sections: G, Default: "off", Enforced: true},   // misc.go: varde reloads in place
	{Name: "maxcompcpuusage", Sections: G, Default: "100", Enforced: true}, // compress_cpu.go: the process's measured CPU share
	{Name: "maxcomprate", Sections: G, Default: "0 (no limit)", Enforced: true},
	{Name: "maxconn", Sections: G | DF, Default: "global: 4096 (HAProxy derives it from ulimit); frontend: global maxconn", Enforced: true},
	{Name: "nbproc", Sections: G, Default: "", Enforced: true}, // refused with HAProxy 2.6's own error
	{Name: "nbthread", Sections: G, Default: "number of CPUs", Enforced: true},
	{Name: "nosplice", Sections: G, Default: "off (varde splices large bodies)", Enforced: true},
	{Name: "pidfile", Sections: G, Default: "none", Enforced: true},
	{Name: "quiet", Sections: G, Default: "", Enforced: true},             // accepted with a warning
	{Name: "server-state-base", Sections: G, Default: "", Enforced: true}, // serverstate.go
	{Name: "server-state-file", Sections: G, Default: "", Enforced: true}, // serverstate.go, read at start-up and reload (core/admin/serverstate.go)
	{Name: "set-var", Sections: G, Default: "", Enforced: true},           // set-var proc.NAME EXPR (vars.go)
	{Name: "set-var-fmt", Sections: G, Default: "", Enforced: true},       // set-var-fmt proc.NAME FMT
	{Name: "spread-checks", Sections: G, Default: "0", Enforced: true},
	{Name: "ssl-default-bind-ciphers", Sections: G, Default: "Go's TLS defaults", Enforced: true},
	{Name: "ssl-default-bind-ciphersuites", Sections: G, Default: "Go's TLS defaults", Enforced: true},
	{Name: "ssl-default-bind-options", Sections: G, Default: "ssl-min-ver TLSv1.2", Enforced: true},
	{Name: "ssl-default-server-ciphers", Sections: G, Default: "Go's TLS defaults", Enforced: true},
	{Name: "ssl-default-server-ciphersuites", Sections: G, Default: "Go's TLS 1.3 set", Enforced: true},
	{Name: "ssl-default-server-options", Sections: G, Default: "", Enforced: true},
	{Name: "ssl-server-verify", Sections: G, Default: "required", Enforced: true},
	{Name: "strict-limits", Sections: G, Default: "on", Enforced: true}, // core/generation/limits.go; `no strict-limits` turns it off
	{Name: "stats socket", Sections: G, Default: "none", Enforced: true},
	{Name: "stats timeout", Sections: G, Default: "10s", Enforced: true},
	{Name: "tune.bufsize", Sections: G, Default: "16384", Enforced: true},
	{Name: "tune.comp.maxlevel", Sections: G, Default: "1", Enforced: true},
	{Name: "tune.log.batch", Sections: G, Default: "64", Enforced: true},
	{Name: "tune.log.flush", Sections: G, Default: "100ms", Enforced: true},
	{Name: "tune.log.on-full", Sections: G, Default: "drop", Enforced: true},
	{Name: "tune.maxrewrite", Sections: G, Default: "1024", Enforced: true},
	{Name: "tune.ssl.default-dh-param", Sections: G, Default: "", Enforced: true}, // accepted: Go's TLS does not use DH params
	{Name: "tune.buffers.limit", Sections: G, Default: "", Enforced: false},
	{Name: "tune.buffers.reserve", Sections: G, Default: "", Enforced: false},
	{Name: "tune.h2.header-table-size", Sections: G, Default: "4096", Enforced: false},
	{Name: "tune.h2.initial-window-size", Sections: G, Default: "65535", Enforced: false},
	{Name: "tune.h2.max-concurrent-streams", Sections: G, Default: "100", Enforced: true},
	{Name: "tune.h2.max-frame-size", Sections: G, Default: "16384", Enforced: false},
	{Name: "tune.http.cookielen", Sections: G, Default: "", Enforced: false},
	{Name: "tune.http.logurilen", Sections: G, Default: "", Enforced: false},
	{Name: "tune.http.maxhdr", Sections: G, Default: "101", Enforced: true},
	{Name: "tune.idle-pool.shared", Sections: G, Default: "on", Enforced: false},
	{Name: "tune.idletimer", Sections: G, Default: "", Enforced: false},
	{Name: "tune.listener.multi-queue", Sections: G, Default: "", Enforced: false},
	{Name: "tune.maxaccept", Sections: G, Default: "64", Enforced: false},
	{Name: "tune.maxpollevents", Sections: G, Default: "", Enforced: false},
	{Name: "tune.pattern.cache-size", Sections: G, Default: "", Enforced: false},
	{Name: "tune.pipesize", Sections: G, Default: "", Enforced: false},
	{Name: "tune.rcvbuf.client", Sections: G, Default: "", Enforced: false},
	{Name: "tune.rcvbuf.server", Sections: G, Default: "", Enforced: false},
	{Name: "tune.recv_enough", Sections: G, Default: "", Enforced: false},
	{Name: "tune.runqueue-depth", Sections: G, Default: "", Enforced: false},
	{Name: "tune.sched.low-latency", Sections: G, Default: "", Enforced: false},
	{Name: "tune.sndbuf.client", Sections: G, Default: "", Enforced: false},
	{Name: "tune.sndbuf.server", Sections: G, Default: "", Enforced: false},
	{Name: "tune.ssl.cachesize", Sections: G, Default: "20000", Enforced: false},
	{Name: "tune.ssl.capture-buffer-size", Sections: G, Default: "", Enforced: false},
	{Name: "tune.ssl.force-private-cache", Sections: G, Default: "", Enforced: false},
	{Name: "tune.ssl.hard-maxrecord", Sections: G, Default: "", Enforced: false},
	{Name: "tune.ssl.keylog", Sections: G, Default: "off", Enforced: false},
	{Name: "tune.ssl.lifetime", Sections: G, Default: "300s", Enforced: false},
	{Name: "tune.ssl.maxrecord", Sections: G, Default: "", Enforced: false},
	{Name: "tune.ssl.ssl-ctx-cache-size", Sections: G, Default: "", Enforced: false},
	{Name: "tune.vars.global-max-size", Sections: G, Default: "0 (no limit)", Enforced: true},
	{Name: "tune.vars.proc-max-size", Sections: G, Default: "0 (no limit)", Enforced: true},
	{Name: "tune.vars.reqres-max-size", Sections: G, Default: "0 (no limit)", Enforced: true},
	{Name: "tune.vars.sess-max-size", Sections: G, Default: "0 (no limit)", Enforced: true},
	{Name: "tune.vars.txn-max-size", Sections: G, Default: "0 (no limit)", Enforced: true},
	{Name: "uid", Sections: G, Default: "", Enforced: true},             // switched to when started as root (cmd/varde/privdrop_linux.go); unknown names are errors
	{Name: "ulimit-n", Sections: G, Default: "", Enforced: true},        // accepted with a warning
	{Name: "user", Sections: G, Default: "", Enforced: true},            // switched to when started as root (cmd/varde/privdrop_linux.go); unknown names are errors
	{Name: "zero-warning", Sections: G, Default: "off", Enforced: true}, // core/generation: any warning refuses the configuration (check, run, reload)

	// log lines (global and proxies)
	{Name: "log", Sections: G | DFB, Default: "none", Enforced: true},
	{Name: "log anonymize", Sections: G | DFB, Default: "none (warning on file@)", Enforced: true},
	{Name: "log compress", Sections: G | DFB, Default: "off", Enforced: true},
	{Name: "log format", Sections: G | DFB, Default: "rfc3164", Enforced: true},
	{Name: "log keep", Sections: G | DFB, Default: "all", Enforced: true},
	{Name: "log len", Sections: G | DFB, Default: "1024", Enforced: true},
	{Name: "log retention", Sections: G | DFB, Default: "forever", Enforced: true},
	{Name: "log rotate", Sections: G | DFB, Default: "off", Enforced: true},
	{Name: "log rotate-every", Sections: G | DFB, Default: "off", Enforced: true},
	{Name: "log sample", Sections: G | DFB, Default: "all", Enforced: true},
	{Name: "log-format", Sections: DFB, Default: "httplog/tcplog format", Enforced: true},

	// proxies
	{Name: "acl", Sections: FB, Default: "", Enforced: true},
	{Name: "balance", Sections: DB, Default: "roundrobin", Enforced: true},
	{Name: "bind-process", Sections: DFB, Default: "all", Enforced: true}, // warned: no effect in HAProxy 2.6 either; varde is one process
	{Name: "bind", Sections: F, Default: "", Enforced: true},
	{Name: "bind accept-proxy", Sections: F, Default: "off", Enforced: true},
	{Name: "bind alpn", Sections: F, Default: "", Enforced: true},
	{Name: "bind backlog", Sections: F, Default: "maxconn", Enforced: false},
	{Name: "bind process", Sections: F, Default: "all", Enforced: true}, // warned: deprecated in HAProxy 2.6; varde is one process
	{Name: "bind ca-file", Sections: F, Default: "", Enforced: true},
	{Name: "bind ciphers", Sections: F, Default: "ssl-default-bind-ciphers", Enforced: true},
	{Name: "bind ciphersuites", Sections: F, Default: "ssl-default-bind-ciphersuites", Enforced: true},
	{Name: "bind crl-file", Sections: F, Default: "", Enforced: true},
	{Name: "bind crt", Sections: F, Default: "", Enforced: true},
	{Name: "bind crt-list", Sections: F, Default: "", Enforced: true},
	{Name: "bind curves", Sections: F, Default: "Go's curves", Enforced: true},
	{Name: "bind defer-accept", Sections: F, Default: "off", Enforced: false},
	{Name: "bind ecdhe", Sections: F, Default: "Go's curves", Enforced: true},
	{Name: "bind force-tlsv12", Sections: F, Default: "", Enforced: true},
	{Name: "bind force-tlsv13", Sections: F, Default: "", Enforced: true},
	{Name: "bind interface", Sections: F, Default: "", Enforced: true},
	{Name: "bind maxconn", Sections: F, Default: "", Enforced: true}, // core/proxy/bindmaxconn.go
	{Name: "bind mode", Sections: F, Default: "", Enforced: false},
	{Name: "bind name", Sections: F, Default: "", Enforced: true},     // the listener's label (core/proxy Frontend.Listeners); see docs/config.md
	{Name: "bind no-sslv3", Sections: F, Default: "", Enforced: true}, // Go's TLS never speaks SSLv3
	{Name: "bind no-tls-tickets", Sections: F, Default: "tickets on", Enforced: true},
	{Name: "bind no-tlsv10", Sections: F, Default: "", Enforced: true},
	{Name: "bind no-tlsv11", Sections: F, Default: "", Enforced: true},
	{Name: "bind no-tlsv12", Sections: F, Default: "", Enforced: true},
	{Name: "bind no-tlsv13", Sections: F, Default: "", Enforced: true},
	{Name: "bind prefer-client-ciphers", Sections: F, Default: "off", Enforced: false}, // Go orders its suites itself
	{Name: "bind proto", Sections: F, Default: "", Enforced: true},
	{Name: "bind ssl", Sections: F, Default: "off", Enforced: true},
	{Name: "bind ssl-max-ver", Sections: F, Default: "TLSv1.3", Enforced: true},
	{Name: "bind ssl-min-ver", Sections: F, Default: "TLSv1.2", Enforced: true},
	{Name: "bind strict-sni", Sections: F, Default: "off", Enforced: true},
	{Name: "bind transparent", Sections: F, Default: "off", Enforced: true},
	{Name: "bind v4v6", Sections: F, Default: "", Enforced: false},
	{Name: "bind v6only", Sections: F, Default: "", Enforced: true},
	{Name: "bind verify", Sections: F, Default: "none", Enforced: true},
	{Name: "capture cookie", Sections: F, Default: "", Enforced: true},
	{Name: "capture request header", Sections: F, Default: "", Enforced: true},
	{Name: "capture response header", Sections: F, Default: "", Enforced: true},
	{Name: "clitimeout", Sections: DF, Default: "", Enforced: true}, // warned; behaves as and is enforced with "timeout client"
	{Name: "compression algo", Sections: DFB, Default: "none (no compression)", Enforced: true},
	{Name: "compression offload", Sections: DFB, Default: "off", Enforced: true}, // ignored with a warning in defaults, as HAProxy
	{Name: "compression type", Sections: DFB, Default: "any Content-Type", Enforced: true},
	{Name: "contimeout", Sections: DB, Default: "", Enforced: true},     // warned; behaves as and is enforced with "timeout connect"
	{Name: "declare capture", Sections: F, Default: "", Enforced: true}, // capture_rules.go
	{Name: "cookie", Sections: DB, Default: "none", Enforced: true},
	{Name: "default-server", Sections: DB, Default: "", Enforced: true},
	{Name: "default_backend", Sections: DF, Default: "none (503)", Enforced: true},
	{Name: "description", Sections: FB, Default: "", Enforced: false},
	{Name: "dispatch", Sections: B, Default: "", Enforced: true}, // misc.go, core/proxy/dispatch.go
	{Name: "disabled", Sections: DFB, Default: "", Enforced: true},
	{Name: "enabled", Sections: DFB, Default: "", Enforced: true},
	{Name: "errorfile", Sections: DFB, Default: "built-in pages", Enforced: true},
	{Name: "errorfiles", Sections: DFB, Default: "", Enforced: true},                                        // http-errors sections, httperrors.go
	{Name: "errorloc", Sections: DFB, Default: "", Enforced: true},                                          // misc.go: a 302 to the URL instead of the page
	{Name: "errorloc302", Sections: DFB, Default: "", Enforced: true},                                       // misc.go
	{Name: "errorloc303", Sections: DFB, Default: "", Enforced: true},                                       // misc.go: a 303
	{Name: "filter compression", Sections: FB, Default: "implicit when compression is set", Enforced: true}, // other filters are refused
	{Name: "force-persist", Sections: FB, Default: "", Enforced: true},
	{Name: "fullconn", Sections: DB, Default: "", Enforced: true}, // core/proxy/fullconn.go
	{Name: "hash-balance-factor", Sections: DB, Default: "0 (off)", Enforced: true},
	{Name: "hash-type", Sections: DB, Default: "map-based sdbm", Enforced: true},
	{Name: "http-check comment", Sections: DB, Default: "", Enforced: true},                  // appended to the failing expect's text
	{Name: "http-check connect", Sections: DB, Default: "the check address", Enforced: true}, // once, first; port/addr/send-proxy (core/config/tcpcheck.go)
	{Name: "http-check disable-on-404", Sections: DB, Default: "off", Enforced: true},
	{Name: "http-check expect", Sections: DB, Default: "status 2xx/3xx", Enforced: true},
	{Name: "http-check send", Sections: DB, Default: "", Enforced: true},
	{Name: "http-check send-state", Sections: DB, Default: "off", Enforced: false},
	{Name: "http-check set-var", Sections: DB, Default: "", Enforced: true},                  // checkvars.go
	{Name: "http-check set-var-fmt", Sections: DB, Default: "", Enforced: true},              // checkvars.go
	{Name: "http-check unset-var", Sections: DB, Default: "", Enforced: true},                // checkvars.go
	{Name: "http-after-response add-header", Sections: DFB, Default: "", Enforced: true},     // afterresp.go, docs/rewrite.md
	{Name: "http-after-response allow", Sections: DFB, Default: "", Enforced: true},          // afterresp.go, docs/rewrite.md
	{Name: "http-after-response del-header", Sections: DFB, Default: "", Enforced: true},     // afterresp.go, docs/rewrite.md
	{Name: "http-after-response replace-header", Sections: DFB, Default: "", Enforced: true}, // afterresp.go, docs/rewrite.md
	{Name: "http-after-response replace-value", Sections: DFB, Default: "", Enforced: true},  // afterresp.go, docs/rewrite.md
	{Name: "http-after-response set-header", Sections: DFB, Default: "", Enforced: true},     // afterresp.go, docs/rewrite.md
	{Name: "http-after-response set-status", Sections: DFB, Default: "", Enforced: true},     // afterresp.go, docs/rewrite.md
	{Name: "http-request add-acl", Sections: DFB, Default: "", Enforced: true},               // maps.go
	{Name: "http-request add-header", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request allow", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request cache-use", Sections: DFB, Default: "", Enforced: true},                   // cache.go; engine core/proxy/cache.go
	{Name: "http-request auth", Sections: DFB, Default: "realm: the proxy's name", Enforced: true}, // userlist.go, docs/config.md "Userlists"
	{Name: "http-request capture", Sections: DFB, Default: "", Enforced: true},                     // capture SAMPLE len N | id N
	{Name: "http-request del-acl", Sections: DFB, Default: "", Enforced: true},                     // maps.go
	{Name: "http-request del-header", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request del-map", Sections: DFB, Default: "", Enforced: true}, // maps.go
	{Name: "http-request deny", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request lua", Sections: DFB, Default: "", Enforced: true},           // http-request lua.NAME [ARG...]
	{Name: "http-request normalize-uri", Sections: DFB, Default: "", Enforced: true}, // normalize.go, docs/rewrite.md; needs expose-experimental-directives as in HAProxy
	{Name: "http-request redirect", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request replace-header", Sections: DFB, Default: "", Enforced: true}, // rewrite.go, docs/rewrite.md
	{Name: "http-request replace-path", Sections: DFB, Default: "", Enforced: true},   // rewrite.go, docs/rewrite.md
	{Name: "http-request replace-pathq", Sections: DFB, Default: "", Enforced: true},  // rewrite.go, docs/rewrite.md
	{Name: "http-request replace-uri", Sections: DFB, Default: "", Enforced: true},    // rewrite.go, docs/rewrite.md
	{Name: "http-request replace-value", Sections: DFB, Default: "", Enforced: true},  // rewrite.go, docs/rewrite.md
	{Name: "http-request return", Sections: DFB, Default: "", Enforced: true},         // retaction.go
	{Name: "http-request sc-inc-gpc0", Sections: FB, Default: "", Enforced: true},     // sc-inc-gpc0(N), docs/stick-tables.md
	{Name: "http-request sc-inc-gpc1", Sections: FB, Default: "", Enforced: true},
	{Name: "http-request sc-set-gpt0", Sections: FB, Default: "", Enforced: true}, // sc-set-gpt0(N) VALUE
	{Name: "http-request set-dst", Sections: DFB, Default: "", Enforced: true},    // setsrc.go
	{Name: "http-request set-dst-port", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request set-header", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request set-log-level", Sections: DFB, Default: "info", Enforced: true}, // loglevel.go
	{Name: "http-request set-map", Sections: DFB, Default: "", Enforced: true},           // maps.go
	{Name: "http-request set-method", Sections: DFB, Default: "", Enforced: true},        // rewrite.go, docs/rewrite.md
	{Name: "http-request set-path", Sections: DFB, Default: "", Enforced: true},          // rewrite.go, docs/rewrite.md
	{Name: "http-request set-pathq", Sections: DFB, Default: "", Enforced: true},         // rewrite.go, docs/rewrite.md
	{Name: "http-request set-query", Sections: DFB, Default: "", Enforced: true},         // rewrite.go, docs/rewrite.md
	{Name: "http-request set-src", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request set-src-port", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request set-uri", Sections: DFB, Default: "", Enforced: true},               // rewrite.go, docs/rewrite.md
	{Name: "http-request set-var", Sections: DFB, Default: "", Enforced: true},               // set-var(SCOPE.NAME[,COND...]) EXPR, vars.go
	{Name: "http-request set-var-fmt", Sections: DFB, Default: "", Enforced: true},           // set-var-fmt(SCOPE.NAME[,COND...]) FMT
	{Name: "http-request tarpit", Sections: DFB, Default: "deny_status 500", Enforced: true}, // tarpit.go
	{Name: "http-request track-sc0", Sections: FB, Default: "", Enforced: true},
	{Name: "http-request track-sc1", Sections: FB, Default: "", Enforced: true},
	{Name: "http-request track-sc2", Sections: FB, Default: "", Enforced: true},
	{Name: "http-request unset-var", Sections: DFB, Default: "", Enforced: true}, // unset-var(SCOPE.NAME)
	{Name: "http-request use-service", Sections: FB, Default: "", Enforced: true},
	{Name: "http-request wait-for-body", Sections: DFB, Default: "", Enforced: true}, // waitbody.go
	{Name: "http-response add-header", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-response cache-store", Sections: DFB, Default: "", Enforced: true}, // cache.go; engine core/proxy/cache.go
	{Name: "http-response capture", Sections: DFB, Default: "", Enforced: true},     // capture SAMPLE id N
	{Name: "http-response del-header", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-response deny", Sections: DFB, Default: "", Enforced: true},           // retaction.go; deny_status 502 by default
	{Name: "http-response lua", Sections: DFB, Default: "", Enforced: true},            // http-response lua.NAME [ARG...]
	{Name: "http-response replace-header", Sections: DFB, Default: "", Enforced: true}, // rewrite.go, docs/rewrite.md
	{Name: "http-response replace-value", Sections: DFB, Default: "", Enforced: true},  // rewrite.go, docs/rewrite.md
	{Name: "http-response return", Sections: DFB, Default: "", Enforced: true},         // retaction.go
	{Name: "http-response set-header", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-response add-acl", Sections: DFB, Default: "", Enforced: true}, // maps.go
	{Name: "http-response del-acl", Sections: DFB, Default: "", Enforced: true}, // maps.go
	{Name: "http-response del-map", Sections: DFB, Default: "", Enforced: true}, // maps.go
	{Name: "http-response set-log-level", Sections: DFB, Default: "info", Enforced: true},
	{Name: "http-response set-map", Sections: DFB, Default: "", Enforced: true},    // maps.go
	{Name: "http-response set-status", Sections: DFB, Default: "", Enforced: true}, // rewrite.go, docs/rewrite.md
	{Name: "http-response set-var", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-response set-var-fmt", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-response unset-var", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-reuse", Sections: DB, Default: "safe", Enforced: false},
	{Name: "http-send-name-header", Sections: DB, Default: "", Enforced: true}, // core/proxy/sendname.go
	{Name: "id", Sections: FB, Default: "", Enforced: false},
	{Name: "ignore-persist", Sections: FB, Default: "", Enforced: true},
	{Name: "load-server-state-from-file", Sections: DB, Default: "none", Enforced: true}, // serverstate.go, core/admin/serverstate.go
	{Name: "mode", Sections: DFB, Default: "tcp", Enforced: true},
	{Name: "monitor fail", Sections: F, Default: "", Enforced: true}, // misc.go, core/proxy/monitor.go
	{Name: "monitor-uri", Sections: DF, Default: "", Enforced: true},
	{Name: "option abortonclose", Sections: DB, Default: "off", Enforced: true},
	{Name: "option allbackups", Sections: DB, Default: "off", Enforced: true},
	{Name: "option checkcache", Sections: DB, Default: "off", Enforced: true},
	{Name: "option contstats", Sections: DF, Default: "", Enforced: true}, // varde always counts continuously
	{Name: "option socket-stats", Sections: DF, Default: "off", Enforced: false},
	{Name: "option dontlog-normal", Sections: DF, Default: "off", Enforced: true},
	{Name: "option dontlognull", Sections: DF, Default: "off", Enforced: true},
	{Name: "option forwardfor", Sections: DFB, Default: "off", Enforced: true},
	{Name: "option originalto", Sections: DFB, Default: "off", Enforced: true}, // setsrc.go
	{Name: "option http-buffer-request", Sections: DFB, Default: "off", Enforced: true},
	{Name: "option http-keep-alive", Sections: DFB, Default: "on", Enforced: true},
	{Name: "option http-server-close", Sections: DFB, Default: "off", Enforced: true},
	{Name: "option http-ignore-probes", Sections: DF, Default: "off", Enforced: true}, // proxy/http.go headReadFailed
	{Name: "option http-no-delay", Sections: DFB, Default: "off", Enforced: false},
	{Name: "option http-pretend-keepalive", Sections: DB, Default: "off", Enforced: false},
	{Name: "option http-use-proxy-header", Sections: DF, Default: "off", Enforced: true}, // auth.go proxyConn
	{Name: "option independent-streams", Sections: DFB, Default: "off", Enforced: false},
	{Name: "option nolinger", Sections: DFB, Default: "off", Enforced: false},
	{Name: "option prefer-last-server", Sections: DB, Default: "off", Enforced: true},
	{Name: "option httpchk", Sections: DB, Default: "OPTIONS / HTTP/1.0", Enforced: true},
	{Name: "option httpclose", Sections: DFB, Default: "off", Enforced: true},
	{Name: "option httplog", Sections: DF, Default: "off", Enforced: true},
	{Name: "option jsonlog", Sections: DF, Default: "off", Enforced: true},
	{Name: "option ldap-check", Sections: DB, Default: "off", Enforced: true},         // tcp-check rules, plugins/check/tcpcheck
	{Name: "option mysql-check", Sections: DB, Default: "off", Enforced: true},        // tcp-check rules, plugins/check/tcpcheck
	{Name: "option pgsql-check", Sections: DB, Default: "off", Enforced: true},        // tcp-check rules, plugins/check/tcpcheck
	{Name: "option redis-check", Sections: DB, Default: "off", Enforced: true},        // tcp-check rules, plugins/check/tcpcheck
	{Name: "option smtpchk", Sections: DB, Default: "HELO localhost", Enforced: true}, // tcp-check rules, plugins/check/tcpcheck
	{Name: "option logasap", Sections: DF, Default: "off", Enforced: true},            // core/proxy/logasap.go (mode http)
	{Name: "option log-health-checks", Sections: DB, Default: "off", Enforced: true},
	{Name: "option persist", Sections: DB, Default: "off", Enforced: true},
	{Name: "option redispatch", Sections: DB, Default: "off", Enforced: true},
	{Name: "option splice-auto", Sections: DFB, Default: "on in varde (measured, docs/performance.md)", Enforced: true},
	{Name: "option splice-request", Sections: DFB, Default: "on in varde", Enforced: true},
	{Name: "option splice-response", Sections: DFB, Default: "on in varde", Enforced: true},
	{Name: "option ssl-hello-chk", Sections: DB, Default: "off", Enforced: true},
	{Name: "option tcp-check", Sections: DB, Default: "off", Enforced: true},
	{Name: "option tcpka", Sections: DFB, Default: "off", Enforced: true},
	{Name: "option clitcpka", Sections: DF, Default: "off", Enforced: true},
	{Name: "option srvtcpka", Sections: DB, Default: "off", Enforced: true},
	{Name: "option tcplog", Sections: DF, Default: "off", Enforced: true},
	{Name: "policy", Sections: FB, Default: "none", Enforced: true},
	{Name: "rate-limit sessions", Sections: DF, Default: "0 (no limit)", Enforced: true}, // misc.go, core/proxy/dispatch.go
	{Name: "redirect", Sections: FB, Default: "", Enforced: true},                        // misc.go: http-request redirect's syntax, after the http-request rules
	{Name: "retries", Sections: DB, Default: "3", Enforced: true},
	{Name: "retry-on", Sections: DB, Default: "conn-failure", Enforced: true},
	{Name: "server", Sections: B, Default: "", Enforced: true},
	{Name: "server-template", Sections: B, Default: "", Enforced: true},                           // serverresolve.go
	{Name: "source", Sections: DB, Default: "none (the system's choice)", Enforced: true},         // dial.go; usesrc hdr_ip refused
	{Name: "srvtimeout", Sections: DB, Default: "", Enforced: true},                               // warned; behaves as and is enforced with "timeout server"
	{Name: "server-state-file-name", Sections: DB, Default: "the backend's name", Enforced: true}, // serverstate.go; not inherited from defaults, as HAProxy
	{Name: "stats admin", Sections: FB, Default: "off", Enforced: true},
	{Name: "stats bind-process", Sections: G, Default: "all", Enforced: true}, // warned: no effect; varde is one process
	{Name: "stats auth", Sections: DFB, Default: "none", Enforced: true},
	{Name: "stats enable", Sections: DFB, Default: "off", Enforced: true},
	{Name: "stats hide-version", Sections: DFB, Default: "off", Enforced: true},
	{Name: "stats realm", Sections: DFB, Default: "HAProxy Statistics", Enforced: true},
	{Name: "stats refresh", Sections: DFB, Default: "off", Enforced: true},
	{Name: "stats scope", Sections: DFB, Default: "all", Enforced: true},
	{Name: "stats show-desc", Sections: DFB, Default: "", Enforced: true},
	{Name: "stats show-legends", Sections: DFB, Default: "off", Enforced: true},
	{Name: "stats show-modules", Sections: DFB, Default: "off", Enforced: true},
	{Name: "stats show-node", Sections: DFB, Default: "", Enforced: true},
	{Name: "stats uri", Sections: DFB, Default: "/haproxy?stats", Enforced: true},
	{Name: "stick match", Sections: B, Default: "", Enforced: true},         // docs/stick-tables.md
	{Name: "stick on", Sections: B, Default: "", Enforced: true},            // match + store-request
	{Name: "stick store-request", Sections: B, Default: "", Enforced: true}, // docs/stick-tables.md
	{Name: "stick store-response", Sections: B, Default: "", Enforced: true},
	{Name: "stick-table", Sections: FB, Default: "none", Enforced: true}, // docs/stick-tables.md
	{Name: "tcp-check comment", Sections: DB, Default: "", Enforced: true},
	{Name: "tcp-check connect", Sections: DB, Default: "implicit first connect", Enforced: true},
	{Name: "tcp-check expect", Sections: DB, Default: "", Enforced: true},
	{Name: "tcp-check send", Sections: DB, Default: "", Enforced: true},
	{Name: "tcp-check send-binary", Sections: DB, Default: "", Enforced: true},
	{Name: "tcp-check send-lf", Sections: DB, Default: "", Enforced: true}, // checkvars.go
	{Name: "tcp-check set-var", Sections: DB, Default: "", Enforced: true},
	{Name: "tcp-check set-var-fmt", Sections: DB, Default: "", Enforced: true},
	{Name: "tcp-check unset-var", Sections: DB, Default: "", Enforced: true},
	{Name: "tcp-request connection accept", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection reject", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection sc-inc-gpc0", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection sc-inc-gpc1", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection sc-set-gpt0", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection set-dst", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection set-dst-port", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection set-src", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection set-src-port", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection set-var", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection set-var-fmt", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection track-sc0", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection track-sc1", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection track-sc2", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection unset-var", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request content accept", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request content reject", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request content set-var", Sections: FB, Default: "", Enforced: true}, // vars.go
	{Name: "tcp-request content set-var-fmt", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request content track-sc0", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request content track-sc1", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request content track-sc2", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request content unset-var", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request inspect-delay", Sections: FB, Default: "0 (no inspection)", Enforced: true},
	{Name: "tcp-request session accept", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session reject", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session sc-inc-gpc0", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session sc-inc-gpc1", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session sc-set-gpt0", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session set-dst", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session set-dst-port", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session set-src", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session set-src-port", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session set-var", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session set-var-fmt", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session track-sc0", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session track-sc1", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session track-sc2", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session unset-var", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-response content accept", Sections: B, Default: "", Enforced: true},
	{Name: "tcp-response content close", Sections: B, Default: "", Enforced: true},
	{Name: "tcp-response content reject", Sections: B, Default: "", Enforced: true},
	{Name: "tcp-response content sc-inc-gpc0", Sections: B, Default: "", Enforced: true},
	{Name: "tcp-response content sc-inc-gpc1", Sections: B, Default: "", Enforced: true},
	{Name: "tcp-response content sc-set-gpt0", Sections: B, Default: "", Enforced: true},
	{Name: "tcp-response content set-var", Sections: B, Default: "", Enforced: true},
	{Name: "tcp-response content set-var-fmt", Sections: B, Default: "", Enforced: true},
	{Name: "tcp-response content unset-var", Sections: B, Default: "", Enforced: true},
	{Name: "tcp-response inspect-delay", Sections: B, Default: "0 (no wait)", Enforced: true},
	{Name: "timeout check", Sections: DB, Default: "inter", Enforced: true},
	{Name: "timeout client", Sections: DF, Default: "none (HAProxy warns)", Enforced: true},
	{Name: "timeout client-fin", Sections: DF, Default: "timeout client", Enforced: true},
	{Name: "timeout connect", Sections: DB, Default: "none (HAProxy warns)", Enforced: true},
	{Name: "timeout http-keep-alive", Sections: DFB, Default: "timeout http-request", Enforced: true},
	{Name: "timeout http-request", Sections: DFB, Default: "timeout client", Enforced: true},
	{Name: "timeout queue", Sections: DB, Default: "timeout connect", Enforced: true},
	{Name: "timeout server", Sections: DB, Default: "none (HAProxy warns)", Enforced: true},
	{Name: "timeout server-fin", Sections: DB, Default: "timeout server", Enforced: true},
	{Name: "timeout tarpit", Sections: DFB, Default: "timeout connect", Enforced: true}, // http-request tarpit (tarpit.go)
	{Name: "timeout tunnel", Sections: DB, Default: "timeout server", Enforced: true},
	{Name: "unique-id-format", Sections: DF, Default: "none", Enforced: true}, // uniqueid.go
	{Name: "unique-id-header", Sections: DF, Default: "none", Enforced: true},
	{Name: "use-server", Sections: B, Default: "", Enforced: true}, // misc.go, core/proxy/dispatch.go: after cookie persistence, before stick rules
	{Name: "use_backend", Sections: F, Default: "", Enforced: true},

	// server and default-server options
	{Name: "server addr", Sections: DB, Default: "server address", Enforced: true},
	{Name: "server agent-addr", Sections: DB, Default: "server address", Enforced: true},
	{Name: "server agent-check", Sections: DB, Default: "off", Enforced: true},
	{Name: "server agent-inter", Sections: DB, Default: "2s", Enforced: true},
	{Name: "server agent-port", Sections: DB, Default: "", Enforced: true},
	{Name: "server agent-send", Sections: DB, Default: "", Enforced: true},
	{Name: "server backup", Sections: DB, Default: "off", Enforced: true},
	{Name: "server alpn", Sections: DB, Default: "none", Enforced: true},
	{Name: "server ca-file", Sections: DB, Default: "", Enforced: true},
	{Name: "server check", Sections: DB, Default: "off", Enforced: true},
	{Name: "server init-addr", Sections: DB, Default: "last,libc (then none with resolvers); last is refused", Enforced: true},
	{Name: "server resolve-net", Sections: DB, Default: "", Enforced: true},
	{Name: "server resolve-opts", Sections: DB, Default: "prevent-dup-ip", Enforced: true},
	{Name: "server resolve-prefer", Sections: DB, Default: "ipv6", Enforced: true},
	{Name: "server resolvers", Sections: DB, Default: "none: names resolved once at start-up", Enforced: true},
	{Name: "server check-alpn", Sections: DB, Default: "server alpn", Enforced: true},
	{Name: "server check-sni", Sections: DB, Default: "none", Enforced: true},
	{Name: "server check-via-socks4", Sections: DB, Default: "off", Enforced: true},
	{Name: "server check-ssl", Sections: DB, Default: "off (on with ssl unless port/addr)", Enforced: true},
	{Name: "server ciphers", Sections: DB, Default: "ssl-default-server-ciphers", Enforced: true},
	{Name: "server cookie", Sections: DB, Default: "", Enforced: true},
	{Name: "server crl-file", Sections: DB, Default: "", Enforced: true},
	{Name: "server crt", Sections: DB, Default: "", Enforced: true},
	{Name: "server disabled", Sections: DB, Default: "off", Enforced: true},
	{Name: "server downinter", Sections: DB, Default: "inter", Enforced: true},
	{Name: "server enabled", Sections: DB, Default: "on", Enforced: true},
	{Name: "server error-limit", Sections: DB, Default: "10", Enforced: true},
	{Name: "server fall", Sections: DB, Default: "3", Enforced: true},
	{Name: "server fastinter", Sections: DB, Default: "inter", Enforced: true},
	{Name: "server id", Sections: DB, Default: "", Enforced: false},
	{Name: "server inter", Sections: DB, Default: "2s", Enforced: true},
	{Name: "server interface", Sections: DB, Default: "", Enforced: true}, // dial.go: after source
	{Name: "server maxconn", Sections: DB, Default: "0 (no limit)", Enforced: true},
	{Name: "server maxqueue", Sections: DB, Default: "0 (no limit)", Enforced: true},
	{Name: "server minconn", Sections: DB, Default: "", Enforced: true}, // core/proxy/fullconn.go
	{Name: "server observe", Sections: DB, Default: "off", Enforced: true},
	{Name: "server on-error", Sections: DB, Default: "fastinter", Enforced: true},
	{Name: "server on-marked-down", Sections: DB, Default: "", Enforced: true},
	{Name: "server on-marked-up", Sections: DB, Default: "", Enforced: true},
	{Name: "server port", Sections: DB, Default: "server port", Enforced: true},
	{Name: "server redir", Sections: DB, Default: "", Enforced: true},
	{Name: "server rise", Sections: DB, Default: "2", Enforced: true},
	{Name: "server send-proxy", Sections: DB, Default: "off", Enforced: true},
	{Name: "server send-proxy-v2", Sections: DB, Default: "off", Enforced: true},
	{Name: "server slowstart", Sections: DB, Default: "0 (off)", Enforced: true},
	{Name: "server sni", Sections: DB, Default: "", Enforced: true},
	{Name: "server socks4", Sections: DB, Default: "", Enforced: true}, // dial.go, core/via.go
	{Name: "server source", Sections: DB, Default: "", Enforced: true}, // dial.go
	{Name: "server usesrc", Sections: DB, Default: "", Enforced: true}, // dial.go: after source
	{Name: "server ssl", Sections: DB, Default: "off", Enforced: true},
	{Name: "server ssl-max-ver", Sections: DB, Default: "TLSv1.3", Enforced: true},
	{Name: "server ssl-min-ver", Sections: DB, Default: "TLSv1.2 (Go's client default)", Enforced: true},
	{Name: "server ssl-reuse", Sections: DB, Default: "on", Enforced: true},
	{Name: "server verify", Sections: DB, Default: "required (ssl-server-verify)", Enforced: true},
	{Name: "server verifyhost", Sections: DB, Default: "none", Enforced: true},
	{Name: "server weight", Sections: DB, Default: "1", Enforced: true},
}

var keywordIndex = func() map[string]*KeywordInfo {
	m := make(map[string]*KeywordInfo, len(Keywords))
	for i := range Keywords {
		m[Keywords[i].Name] = &Keywords[i]
	}
	return m
}()

// LookupKeyword returns the table entry for name, or nil.
func LookupKeyword(name string) *KeywordInfo { return keywordIndex[name] }

// Unsupported lists real HAProxy keywords varde refuses, with what to do
// instead. They are errors so that nothing is silently ignored.
var Unsupported = map[string]string{
	"http-error":                          "use errorfile CODE FILE",
	"filter":                              "only `filter compression` is available in varde",
	"dynamic-cookie-key":                  "give each server a static cookie value",
	"email-alert":                         "use varde's metrics or log alerts",
	"cpu-map":                             "varde is one process scheduled by the Go runtime; remove the line",
	"persist":                             "use cookie persistence",
	"external-check":                      "not available in varde",
	"option external-check":               "not available in varde",
	"option spop-check":                   "use a plain TCP check",
	"option transparent":                  "not available in varde",
	"option accept-invalid-http-request":  "varde never accepts invalid requests",
	"option accept-invalid-http-response": "varde never accepts invalid responses",
	"option log-separate-errors":          "not available in varde",
	"grace":                               "remove the line",
	"h1-case-adjust":                      "not available in varde",
	"presetenv":                           "set the variable in the environment (systemd Environment=)",
	"setenv":                              "set the variable in the environment (systemd Environment=)",
	"resetenv":                            "set the variable in the environment (systemd Environment=)",
	"unsetenv":                            "set the variable in the environment (systemd Environment=)",
	"max-keep-alive-queue":                "not available in varde",
	"stats http-request":                  "use stats admin if COND / stats auth",
}

// UnsupportedSections are HAProxy section keywords varde refuses.
var UnsupportedSections = map[string]string{
	"mailers":     "use varde's metrics or log alerts",
	"program":     "run programs under systemd",
	"ring":        "use log file@PATH or a syslog target",
	"log-forward": "not available in varde",
	"fcgi-app":    "not available in varde",
	"crt-store":   "write crt FILE on the bind line",
	"traces":      "not available in varde",
	"ruleset":     "not available in varde",
}
