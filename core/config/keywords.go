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

	G    = SecGlobal
	D    = SecDefaults
	F    = SecFrontend
	B    = SecBackend
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
	// global
	{Name: "ca-base", Sections: G, Default: "", Enforced: true},  // read by server ca-file/crl-file
	{Name: "chroot", Sections: G, Default: "", Enforced: true},   // accepted with a warning: varde does not chroot
	{Name: "crt-base", Sections: G, Default: "", Enforced: true}, // read by server crt
	{Name: "daemon", Sections: G, Default: "", Enforced: true},   // accepted with a warning: varde stays in the foreground
	{Name: "debug", Sections: G, Default: "", Enforced: true},    // accepted with a warning
	{Name: "gid", Sections: G, Default: "", Enforced: true},      // accepted with a warning
	{Name: "group", Sections: G, Default: "", Enforced: true},    // accepted with a warning
	{Name: "hard-stop-after", Sections: G, Default: "none", Enforced: true},
	{Name: "log-send-hostname", Sections: G, Default: "", Enforced: true},
	{Name: "lua-load", Sections: G, Default: "", Enforced: true},
	{Name: "lua-load-per-thread", Sections: G, Default: "", Enforced: true}, // pooled states, no lock (docs/haproxy-lua.md)
	{Name: "lua-prepend-path", Sections: G, Default: "", Enforced: true},
	{Name: "log-tag", Sections: G | DFB, Default: "haproxy", Enforced: true},
	{Name: "maxcompcpuusage", Sections: G, Default: "100", Enforced: false, Refused: "varde does not lower compression under CPU load yet: responses would be compressed whatever the CPU usage (remove the line to compress always)"},
	{Name: "maxcomprate", Sections: G, Default: "0 (no limit)", Enforced: true},
	{Name: "maxconn", Sections: G | DF, Default: "global: 4096 (HAProxy derives it from ulimit); frontend: global maxconn", Enforced: true},
	{Name: "nbproc", Sections: G, Default: "1", Enforced: true}, // accepted with a warning
	{Name: "nbthread", Sections: G, Default: "number of CPUs", Enforced: true},
	{Name: "pidfile", Sections: G, Default: "none", Enforced: true},
	{Name: "quiet", Sections: G, Default: "", Enforced: true}, // accepted with a warning
	{Name: "spread-checks", Sections: G, Default: "0", Enforced: true},
	{Name: "ssl-default-bind-ciphers", Sections: G, Default: "Go's TLS defaults", Enforced: true},
	{Name: "ssl-default-bind-ciphersuites", Sections: G, Default: "Go's TLS defaults", Enforced: true},
	{Name: "ssl-default-bind-options", Sections: G, Default: "ssl-min-ver TLSv1.2", Enforced: true},
	{Name: "ssl-default-server-ciphers", Sections: G, Default: "Go's TLS defaults", Enforced: true},
	{Name: "ssl-default-server-ciphersuites", Sections: G, Default: "Go's TLS 1.3 set", Enforced: true},
	{Name: "ssl-default-server-options", Sections: G, Default: "", Enforced: true},
	{Name: "ssl-server-verify", Sections: G, Default: "required", Enforced: true},
	{Name: "stats socket", Sections: G, Default: "none", Enforced: true},
	{Name: "stats timeout", Sections: G, Default: "10s", Enforced: true},
	{Name: "tune.bufsize", Sections: G, Default: "16384", Enforced: true},
	{Name: "tune.comp.maxlevel", Sections: G, Default: "1", Enforced: true},
	{Name: "tune.log.batch", Sections: G, Default: "64", Enforced: true},
	{Name: "tune.log.flush", Sections: G, Default: "100ms", Enforced: true},
	{Name: "tune.log.on-full", Sections: G, Default: "drop", Enforced: true},
	{Name: "tune.maxrewrite", Sections: G, Default: "1024", Enforced: true},
	{Name: "tune.ssl.default-dh-param", Sections: G, Default: "", Enforced: true}, // accepted: Go's TLS does not use DH params
	{Name: "uid", Sections: G, Default: "", Enforced: true},                       // accepted with a warning
	{Name: "ulimit-n", Sections: G, Default: "", Enforced: true},                  // accepted with a warning
	{Name: "user", Sections: G, Default: "", Enforced: true},                      // accepted with a warning

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
	{Name: "bind", Sections: F, Default: "", Enforced: true},
	{Name: "bind accept-proxy", Sections: F, Default: "off", Enforced: true},
	{Name: "bind alpn", Sections: F, Default: "", Enforced: true},
	{Name: "bind backlog", Sections: F, Default: "maxconn", Enforced: false},
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
	{Name: "bind interface", Sections: F, Default: "", Enforced: false, Refused: "binding to one interface is not built yet: varde would accept connections on every interface"},
	{Name: "bind maxconn", Sections: F, Default: "", Enforced: false, Refused: "a per-bind maxconn is not enforced yet: more connections would be accepted than configured (set maxconn in the frontend instead)"},
	{Name: "bind mode", Sections: F, Default: "", Enforced: false},
	{Name: "bind name", Sections: F, Default: "", Enforced: false},
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
	{Name: "bind transparent", Sections: F, Default: "off", Enforced: false, Refused: "transparent binding is not built yet: varde would bind only local addresses"},
	{Name: "bind v4v6", Sections: F, Default: "", Enforced: false},
	{Name: "bind v6only", Sections: F, Default: "", Enforced: false, Refused: "v6only is not built yet: varde would accept IPv4 connections too"},
	{Name: "bind verify", Sections: F, Default: "none", Enforced: true},
	{Name: "capture cookie", Sections: F, Default: "", Enforced: true},
	{Name: "capture request header", Sections: F, Default: "", Enforced: true},
	{Name: "capture response header", Sections: F, Default: "", Enforced: true},
	{Name: "clitimeout", Sections: DF, Default: "", Enforced: true}, // warned; behaves as and is enforced with "timeout client"
	{Name: "compression algo", Sections: DFB, Default: "none (no compression)", Enforced: true},
	{Name: "compression offload", Sections: DFB, Default: "off", Enforced: true}, // ignored with a warning in defaults, as HAProxy
	{Name: "compression type", Sections: DFB, Default: "any Content-Type", Enforced: true},
	{Name: "contimeout", Sections: DB, Default: "", Enforced: true}, // warned; behaves as and is enforced with "timeout connect"
	{Name: "cookie", Sections: DB, Default: "none", Enforced: true},
	{Name: "default-server", Sections: DB, Default: "", Enforced: true},
	{Name: "default_backend", Sections: DF, Default: "none (503)", Enforced: true},
	{Name: "description", Sections: FB, Default: "", Enforced: false},
	{Name: "disabled", Sections: DFB, Default: "", Enforced: true},
	{Name: "enabled", Sections: DFB, Default: "", Enforced: true},
	{Name: "errorfile", Sections: DFB, Default: "built-in pages", Enforced: true},
	{Name: "errorfiles", Sections: DFB, Default: "", Enforced: true},                                        // http-errors sections, httperrors.go
	{Name: "filter compression", Sections: FB, Default: "implicit when compression is set", Enforced: true}, // other filters are refused
	{Name: "force-persist", Sections: FB, Default: "", Enforced: true},
	{Name: "fullconn", Sections: DB, Default: "", Enforced: false},
	{Name: "hash-balance-factor", Sections: DB, Default: "0 (off)", Enforced: true},
	{Name: "hash-type", Sections: DB, Default: "map-based sdbm", Enforced: true},
	{Name: "http-check comment", Sections: DB, Default: "", Enforced: true},                  // appended to the failing expect's text
	{Name: "http-check connect", Sections: DB, Default: "the check address", Enforced: true}, // once, first; port/addr/send-proxy (core/config/tcpcheck.go)
	{Name: "http-check disable-on-404", Sections: DB, Default: "off", Enforced: false, Refused: "disable-on-404 is not built yet: a server answering 404 would keep receiving new traffic"},
	{Name: "http-check expect", Sections: DB, Default: "status 2xx/3xx", Enforced: true},
	{Name: "http-check send", Sections: DB, Default: "", Enforced: true},
	{Name: "http-check send-state", Sections: DB, Default: "off", Enforced: false},
	{Name: "http-request add-header", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request allow", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request auth", Sections: DFB, Default: "realm: the proxy's name", Enforced: true}, // userlist.go, docs/config.md "Userlists"
	{Name: "http-request del-header", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request deny", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request lua", Sections: DFB, Default: "", Enforced: true}, // http-request lua.NAME [ARG...]
	{Name: "http-request redirect", Sections: DFB, Default: "", Enforced: true},
	{Name: "redirect", Sections: FB, Default: "", Enforced: true},
	{Name: "http-request return", Sections: DFB, Default: "", Enforced: true},     // retaction.go
	{Name: "http-request sc-inc-gpc0", Sections: FB, Default: "", Enforced: true}, // sc-inc-gpc0(N), docs/stick-tables.md
	{Name: "http-request sc-set-gpt0", Sections: FB, Default: "", Enforced: true}, // sc-set-gpt0(N) VALUE
	{Name: "http-request set-header", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request track-sc0", Sections: FB, Default: "", Enforced: true},
	{Name: "http-request track-sc1", Sections: FB, Default: "", Enforced: true},
	{Name: "http-request track-sc2", Sections: FB, Default: "", Enforced: true},
	{Name: "http-request use-service", Sections: FB, Default: "", Enforced: true},
	{Name: "http-response add-header", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-response del-header", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-response lua", Sections: DFB, Default: "", Enforced: true}, // http-response lua.NAME [ARG...]
	{Name: "http-response set-header", Sections: DFB, Default: "", Enforced: true},
	{Name: "http-request set-map", Sections: DFB, Default: "", Enforced: true},  // maps.go
	{Name: "http-request del-map", Sections: DFB, Default: "", Enforced: true},  // maps.go
	{Name: "http-request add-acl", Sections: DFB, Default: "", Enforced: true},  // maps.go
	{Name: "http-request del-acl", Sections: DFB, Default: "", Enforced: true},  // maps.go
	{Name: "http-response set-map", Sections: DFB, Default: "", Enforced: true}, // maps.go
	{Name: "http-response del-map", Sections: DFB, Default: "", Enforced: true}, // maps.go
	{Name: "http-response add-acl", Sections: DFB, Default: "", Enforced: true}, // maps.go
	{Name: "http-response del-acl", Sections: DFB, Default: "", Enforced: true}, // maps.go
	{Name: "http-reuse", Sections: DB, Default: "safe", Enforced: false},
	{Name: "id", Sections: FB, Default: "", Enforced: false},
	{Name: "ignore-persist", Sections: FB, Default: "", Enforced: true},
	{Name: "mode", Sections: DFB, Default: "tcp", Enforced: true},
	{Name: "monitor-uri", Sections: DF, Default: "", Enforced: false, Refused: "monitor-uri is not built yet: the requests would reach the backend instead of being answered by varde"},
	{Name: "option abortonclose", Sections: DB, Default: "off", Enforced: true},
	{Name: "option allbackups", Sections: DB, Default: "off", Enforced: true},
	{Name: "option contstats", Sections: DF, Default: "", Enforced: true}, // varde always counts continuously
	{Name: "option socket-stats", Sections: DF, Default: "off", Enforced: false},
	{Name: "option dontlog-normal", Sections: DF, Default: "off", Enforced: true},
	{Name: "option dontlognull", Sections: DF, Default: "off", Enforced: true},
	{Name: "option forwardfor", Sections: DFB, Default: "off", Enforced: true},
	{Name: "option http-buffer-request", Sections: DFB, Default: "off", Enforced: true},
	{Name: "option http-keep-alive", Sections: DFB, Default: "on", Enforced: true},
	{Name: "option http-server-close", Sections: DFB, Default: "off", Enforced: true},
	{Name: "option httpchk", Sections: DB, Default: "OPTIONS / HTTP/1.0", Enforced: true},
	{Name: "option httpclose", Sections: DFB, Default: "off", Enforced: true},
	{Name: "option httplog", Sections: DF, Default: "off", Enforced: true},
	{Name: "option jsonlog", Sections: DF, Default: "off", Enforced: true},
	{Name: "option ldap-check", Sections: DB, Default: "off", Enforced: true},         // tcp-check rules, plugins/check/tcpcheck
	{Name: "option mysql-check", Sections: DB, Default: "off", Enforced: true},        // tcp-check rules, plugins/check/tcpcheck
	{Name: "option pgsql-check", Sections: DB, Default: "off", Enforced: true},        // tcp-check rules, plugins/check/tcpcheck
	{Name: "option redis-check", Sections: DB, Default: "off", Enforced: true},        // tcp-check rules, plugins/check/tcpcheck
	{Name: "option smtpchk", Sections: DB, Default: "HELO localhost", Enforced: true}, // tcp-check rules, plugins/check/tcpcheck
	{Name: "option log-health-checks", Sections: DB, Default: "off", Enforced: true},
	{Name: "option persist", Sections: DB, Default: "off", Enforced: true},
	{Name: "option redispatch", Sections: DB, Default: "off", Enforced: true},
	{Name: "option ssl-hello-chk", Sections: DB, Default: "off", Enforced: true},
	{Name: "option tcp-check", Sections: DB, Default: "off", Enforced: true},
	{Name: "option tcpka", Sections: DFB, Default: "off", Enforced: true},
	{Name: "option clitcpka", Sections: DF, Default: "off", Enforced: true},
	{Name: "option srvtcpka", Sections: DB, Default: "off", Enforced: true},
	{Name: "option tcplog", Sections: DF, Default: "off", Enforced: true},
	{Name: "policy", Sections: FB, Default: "none", Enforced: true},
	{Name: "retries", Sections: DB, Default: "3", Enforced: true},
	{Name: "retry-on", Sections: DB, Default: "conn-failure", Enforced: true},
	{Name: "server", Sections: B, Default: "", Enforced: true},
	{Name: "srvtimeout", Sections: DB, Default: "", Enforced: true}, // warned; behaves as and is enforced with "timeout server"
	{Name: "stats admin", Sections: FB, Default: "off", Enforced: true},
	{Name: "stats auth", Sections: DFB, Default: "none", Enforced: true},
	{Name: "stats enable", Sections: DFB, Default: "off", Enforced: true},
	{Name: "stats hide-version", Sections: DFB, Default: "off", Enforced: true},
	{Name: "stats realm", Sections: DFB, Default: "HAProxy Statistics", Enforced: true},
	{Name: "stats refresh", Sections: DFB, Default: "off", Enforced: true},
	{Name: "stats scope", Sections: DFB, Default: "all", Enforced: false, Refused: "stats scope is not built yet: the page would show every proxy"},
	{Name: "stats show-desc", Sections: DFB, Default: "", Enforced: false},
	{Name: "stats show-legends", Sections: DFB, Default: "off", Enforced: false},
	{Name: "stats show-modules", Sections: DFB, Default: "off", Enforced: false},
	{Name: "stats show-node", Sections: DFB, Default: "", Enforced: true},
	{Name: "stats uri", Sections: DFB, Default: "/haproxy?stats", Enforced: true},
	{Name: "stick match", Sections: B, Default: "", Enforced: true},         // docs/stick-tables.md
	{Name: "stick on", Sections: B, Default: "", Enforced: true},            // match + store-request
	{Name: "stick store-request", Sections: B, Default: "", Enforced: true}, // docs/stick-tables.md
	{Name: "stick store-response", Sections: B, Default: "", Enforced: false, Refused: "stick store-response is not built yet: clients would not stick; use stick on or stick store-request"},
	{Name: "stick-table", Sections: FB, Default: "none", Enforced: true}, // docs/stick-tables.md
	{Name: "tcp-check comment", Sections: DB, Default: "", Enforced: true},
	{Name: "tcp-check connect", Sections: DB, Default: "implicit first connect", Enforced: true},
	{Name: "tcp-check expect", Sections: DB, Default: "", Enforced: true},
	{Name: "tcp-check send", Sections: DB, Default: "", Enforced: true},
	{Name: "tcp-check send-binary", Sections: DB, Default: "", Enforced: true},
	{Name: "tcp-request connection accept", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection reject", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection track-sc0", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection track-sc1", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request connection track-sc2", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request content accept", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request content reject", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request content track-sc0", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request content track-sc1", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request content track-sc2", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request inspect-delay", Sections: FB, Default: "0 (no inspection)", Enforced: true},
	{Name: "tcp-request session accept", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session reject", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session track-sc0", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session track-sc1", Sections: FB, Default: "", Enforced: true},
	{Name: "tcp-request session track-sc2", Sections: FB, Default: "", Enforced: true},
	{Name: "timeout check", Sections: DB, Default: "inter", Enforced: true},
	{Name: "timeout client", Sections: DF, Default: "none (HAProxy warns)", Enforced: true},
	{Name: "timeout client-fin", Sections: DF, Default: "timeout client", Enforced: true},
	{Name: "timeout connect", Sections: DB, Default: "none (HAProxy warns)", Enforced: true},
	{Name: "timeout http-keep-alive", Sections: DFB, Default: "timeout http-request", Enforced: true},
	{Name: "timeout http-request", Sections: DFB, Default: "timeout client", Enforced: true},
	{Name: "timeout queue", Sections: DB, Default: "timeout connect", Enforced: true},
	{Name: "timeout server", Sections: DB, Default: "none (HAProxy warns)", Enforced: true},
	{Name: "timeout server-fin", Sections: DB, Default: "timeout server", Enforced: true},
	{Name: "timeout tarpit", Sections: DFB, Default: "timeout connect", Enforced: false},
	{Name: "timeout tunnel", Sections: DB, Default: "timeout server", Enforced: true},
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
	{Name: "server check-alpn", Sections: DB, Default: "server alpn", Enforced: true},
	{Name: "server check-sni", Sections: DB, Default: "none", Enforced: true},
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
	{Name: "server maxconn", Sections: DB, Default: "0 (no limit)", Enforced: true},
	{Name: "server maxqueue", Sections: DB, Default: "0 (no limit)", Enforced: true},
	{Name: "server minconn", Sections: DB, Default: "", Enforced: false},
	{Name: "server observe", Sections: DB, Default: "off", Enforced: true},
	{Name: "server on-error", Sections: DB, Default: "fastinter", Enforced: true},
	{Name: "server on-marked-down", Sections: DB, Default: "", Enforced: true},
	{Name: "server on-marked-up", Sections: DB, Default: "", Enforced: true},
	{Name: "server port", Sections: DB, Default: "server port", Enforced: true},
	{Name: "server redir", Sections: DB, Default: "", Enforced: false, Refused: "server redir is not built yet: requests would be proxied instead of redirected"},
	{Name: "server rise", Sections: DB, Default: "2", Enforced: true},
	{Name: "server send-proxy", Sections: DB, Default: "off", Enforced: true},
	{Name: "server send-proxy-v2", Sections: DB, Default: "off", Enforced: true},
	{Name: "server slowstart", Sections: DB, Default: "0 (off)", Enforced: true},
	{Name: "server sni", Sections: DB, Default: "", Enforced: true},
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
	"tcp-response":                        "not available in varde",
	"server-template":                     "list the servers one by one",
	"use-server":                          "use a varde policy (policy FILE) to pick servers",
	"block":                               "write http-request deny if COND instead",
	"reqadd":                              "write http-request add-header instead",
	"reqrep":                              "write http-request set-header / replace-header instead",
	"reqirep":                             "write http-request set-header / replace-header instead",
	"reqdel":                              "write http-request del-header instead",
	"reqidel":                             "write http-request del-header instead",
	"reqallow":                            "write http-request allow if COND instead",
	"reqdeny":                             "write http-request deny if COND instead",
	"reqideny":                            "write http-request deny if COND instead",
	"reqpass":                             "remove the line",
	"reqtarpit":                           "write http-request deny instead",
	"rspadd":                              "write http-response add-header instead",
	"rsprep":                              "write http-response set-header instead",
	"rspirep":                             "write http-response set-header instead",
	"rspdel":                              "write http-response del-header instead",
	"rspidel":                             "write http-response del-header instead",
	"rspdeny":                             "not available in varde",
	"http-after-response":                 "use http-response",
	"http-error":                          "use errorfile CODE FILE",
	"errorloc":                            "use errorfile CODE FILE or http-request redirect",
	"errorloc302":                         "use errorfile CODE FILE or http-request redirect",
	"errorloc303":                         "use errorfile CODE FILE or http-request redirect",
	"filter":                              "only `filter compression` is available in varde",
	"unique-id-format":                    "not available in varde yet",
	"unique-id-header":                    "not available in varde yet",
	"declare":                             "not available in varde",
	"dynamic-cookie-key":                  "give each server a static cookie value",
	"email-alert":                         "use varde's metrics or log alerts",
	"server-state-file":                   "varde keeps runtime state across reloads by itself",
	"load-server-state-from-file":         "varde keeps runtime state across reloads by itself",
	"source":                              "not available in varde",
	"rate-limit":                          "not available in varde",
	"bind-process":                        "varde is one process; remove the line",
	"cpu-map":                             "varde is one process scheduled by the Go runtime; remove the line",
	"persist":                             "use cookie persistence",
	"monitor":                             "not available in varde",
	"external-check":                      "not available in varde",
	"option external-check":               "not available in varde",
	"option spop-check":                   "use a plain TCP check",
	"option transparent":                  "not available in varde",
	"option http-use-proxy-header":        "not available in varde",
	"option http-pretend-keepalive":       "remove the line; varde's keep-alive does not need it",
	"option splice-auto":                  "remove the line",
	"option splice-request":               "remove the line",
	"option splice-response":              "remove the line",
	"option originalto":                   "not available in varde yet",
	"option accept-invalid-http-request":  "varde never accepts invalid requests",
	"option accept-invalid-http-response": "varde never accepts invalid responses",
	"option prefer-last-server":           "not available in varde",
	"option independent-streams":          "remove the line",
	"option nolinger":                     "remove the line",
	"option log-separate-errors":          "not available in varde",
	"option httplog clf":                  "use log-format",
	"option forceclose":                   "write option httpclose instead",
	"option http-tunnel":                  "remove the line (HAProxy removed it too)",
	"master-worker":                       "varde runs in the foreground under systemd; remove the line",
	"expose-experimental-directives":      "remove the line",
	"set-var":                             "not available in varde",
	"grace":                               "remove the line",
	"server-state-base":                   "remove the line",
	"h1-case-adjust":                      "not available in varde",
	"presetenv":                           "set the variable in the environment (systemd Environment=)",
	"setenv":                              "set the variable in the environment (systemd Environment=)",
	"resetenv":                            "set the variable in the environment (systemd Environment=)",
	"unsetenv":                            "set the variable in the environment (systemd Environment=)",
	"mailers":                             "not available in varde",
	"dispatch":                            "use a server line",
	"http-send-name-header":               "not available in varde",
	"max-keep-alive-queue":                "not available in varde",
	"stats bind-process":                  "varde is one process; remove the line",
	"stats http-request":                  "use stats admin if COND / stats auth",
}

// UnsupportedSections are HAProxy section keywords varde refuses.
var UnsupportedSections = map[string]string{
	"peers":       "varde does not replicate stick tables between nodes: each keeps its own (remove the section and the tables' peers option)",
	"resolvers":   "server host names are resolved at start-up",
	"mailers":     "use varde's metrics or log alerts",
	"program":     "run programs under systemd",
	"cache":       "not available in varde",
	"ring":        "use log file@PATH or a syslog target",
	"log-forward": "not available in varde",
	"fcgi-app":    "not available in varde",
	"crt-store":   "write crt FILE on the bind line",
	"traces":      "not available in varde",
	"ruleset":     "not available in varde",
}
