package config

import "strings"

// HAProxy 2.6 keywords, written from its doc/configuration.txt (section 3
// for global, the section 4.1 matrix for proxies, section 4.2 for the
// http-request/http-response/http-after-response actions). varde uses
// them to tell "a HAProxy keyword varde lacks" ("not supported by varde
// yet") from a typo ("unknown keyword"). Unsupported in keywords.go
// keeps the hints for the ones with a varde alternative.

// haproxyGlobalKeywords are the keywords of HAProxy 2.6's global section.
var haproxyGlobalKeywords = wordSet(`
	ca-base 51degrees-cache-size 51degrees-data-file 51degrees-property-name-list
	51degrees-property-separator busy-polling chroot cluster-secret cpu-map
	crt-base daemon default-path description deviceatlas-json-file
	deviceatlas-log-level deviceatlas-properties-cookie deviceatlas-separator
	expose-experimental-directives external-check fd-hard-limit gid grace group
	h1-accept-payload-with-any-method h1-case-adjust h1-case-adjust-file
	h2-workaround-bogus-websocket-clients hard-stop-after
	httpclient.resolvers.id httpclient.resolvers.prefer httpclient.ssl.ca-file
	httpclient.ssl.verify insecure-fork-wanted insecure-setuid-wanted
	issuers-chain-path localpeer log log-send-hostname log-tag lua-load
	lua-load-per-thread lua-prepend-path max-spread-checks maxcompcpuusage
	maxcomprate maxconn maxconnrate maxpipes maxsessrate maxsslconn maxsslrate
	maxzlibmem mworker-max-reloads nbthread no-memory-trimming node noepoll
	noevports nogetaddrinfo nokqueue nopoll noreuseport nosplice
	numa-cpu-mapping pidfile pp2-never-send-local presetenv profiling.tasks
	quiet resetenv server-state-base server-state-file set-dumpable set-var
	setenv spread-checks ssl-default-bind-ciphers ssl-default-bind-ciphersuites
	ssl-default-bind-curves ssl-default-bind-options ssl-default-server-ciphers
	ssl-default-server-ciphersuites ssl-default-server-options
	ssl-dh-param-file ssl-engine ssl-mode-async ssl-propquery ssl-provider
	ssl-provider-path ssl-server-verify ssl-skip-self-issued-ca strict-limits
	tune.buffers.limit tune.buffers.reserve tune.bufsize tune.comp.maxlevel
	tune.fd.edge-triggered tune.h2.header-table-size
	tune.h2.initial-window-size tune.h2.max-concurrent-streams
	tune.http.cookielen tune.http.logurilen tune.http.maxhdr
	tune.idle-pool.shared tune.idletimer tune.lua.forced-yield tune.lua.maxmem
	tune.lua.service-timeout tune.lua.session-timeout tune.lua.task-timeout
	tune.maxaccept tune.maxpollevents tune.maxrewrite tune.pattern.cache-size
	tune.pipesize tune.pool-high-fd-ratio tune.pool-low-fd-ratio
	tune.quic.frontend.conn-tx-buffers.limit
	tune.quic.frontend.max-idle-timeout tune.quic.frontend.max-streams-bidi
	tune.quic.retry-threshold tune.rcvbuf.client tune.rcvbuf.server
	tune.recv_enough tune.runqueue-depth tune.sched.low-latency
	tune.sndbuf.client tune.sndbuf.server tune.ssl.cachesize
	tune.ssl.capture-buffer-size tune.ssl.capture-cipherlist-size
	tune.ssl.default-dh-param tune.ssl.force-private-cache
	tune.ssl.hard-maxrecord tune.ssl.keylog tune.ssl.lifetime
	tune.ssl.maxrecord tune.ssl.ssl-ctx-cache-size tune.vars.global-max-size
	tune.vars.proc-max-size tune.vars.reqres-max-size tune.vars.sess-max-size
	tune.vars.txn-max-size tune.zlib.memlevel tune.zlib.windowsize uid ulimit-n
	unix-bind unsetenv user wurfl-cache-size wurfl-data-file
	wurfl-information-list wurfl-information-list-separator zero-warning
	close-spread-time master-worker profiling.memory ssl-load-extra-del-ext
	ssl-load-extra-files thread-group thread-groups tune.fail-alloc
	tune.h2.max-frame-size tune.listener.multi-queue wurfl-patch-file
	zero-warning`)

// haproxyGlobalStats are the "stats" keywords of HAProxy 2.6's global section.
var haproxyGlobalStats = wordSet(`bind-process maxconn socket timeout`)

// wordSet splits a list of blank-separated keywords into a set.
func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// isHAProxyKeyword reports whether key (as checkKeyword builds it:
// "option httpslog", "timeout tarpit", "http-request set-var", "tune.x")
// is a HAProxy 2.6 keyword of section sec.
func isHAProxyKeyword(key string, sec Section) bool {
	if sec == SecGlobal {
		if rest, ok := strings.CutPrefix(key, "stats "); ok {
			return haproxyGlobalStats[rest]
		}
		return haproxyGlobalKeywords[key]
	}
	if s, ok := haproxyProxyKeywords[key]; ok {
		return s&sec != 0
	}
	// Multi-word keywords the matrix lists by their first words only
	// ("tcp-request content ..." is "tcp-request content").
	// The reverse too: checkKeyword keys "tcp-check" or "stick" by their
	// first word, the matrix lists "tcp-check send", "stick on".
	for k, s := range haproxyProxyKeywords {
		if (strings.HasPrefix(key, k+" ") || strings.HasPrefix(k, key+" ")) && s&sec != 0 {
			return true
		}
	}
	return false
}

// haproxyProxyKeywords are the keywords of HAProxy 2.6's defaults, frontend,
// listen and backend sections and where each is valid (listen = F|B).
var haproxyProxyKeywords = map[string]Section{
	"acl":                                 DFB,
	"backlog":                             DF,
	"balance":                             DB,
	"bind":                                F,
	"bind-process":                        DFB,
	"capture cookie":                      F,
	"capture request header":              F,
	"capture response header":             F,
	"clitcpka-cnt":                        DF,
	"clitcpka-idle":                       DF,
	"clitcpka-intvl":                      DF,
	"compression":                         DFB,
	"cookie":                              DB,
	"declare capture":                     F,
	"default-server":                      DB,
	"default_backend":                     DF,
	"description":                         FB,
	"disabled":                            DFB,
	"dispatch":                            B,
	"email-alert from":                    DFB,
	"email-alert level":                   DFB,
	"email-alert mailers":                 DFB,
	"email-alert myhostname":              DFB,
	"email-alert to":                      DFB,
	"enabled":                             DFB,
	"errorfile":                           DFB,
	"errorfiles":                          DFB,
	"errorloc":                            DFB,
	"errorloc302":                         DFB,
	"errorloc303":                         DFB,
	"error-log-format":                    DF,
	"force-persist":                       B,
	"filter":                              FB,
	"fullconn":                            DB,
	"hash-type":                           DB,
	"http-after-response":                 DFB,
	"http-check comment":                  DB,
	"http-check connect":                  DB,
	"http-check disable-on-404":           DB,
	"http-check expect":                   DB,
	"http-check send":                     DB,
	"http-check send-state":               DB,
	"http-check set-var":                  DB,
	"http-check unset-var":                DB,
	"http-error":                          DFB,
	"http-request":                        DFB,
	"http-response":                       DFB,
	"http-reuse":                          DB,
	"http-send-name-header":               B,
	"id":                                  FB,
	"ignore-persist":                      B,
	"load-server-state-from-file":         DB,
	"log":                                 DFB,
	"log-format":                          DF,
	"log-format-sd":                       DF,
	"log-tag":                             DFB,
	"max-keep-alive-queue":                DB,
	"maxconn":                             DF,
	"mode":                                DFB,
	"monitor fail":                        F,
	"monitor-uri":                         DF,
	"option abortonclose":                 DB,
	"option accept-invalid-http-request":  DF,
	"option accept-invalid-http-response": DB,
	"option allbackups":                   DB,
	"option checkcache":                   DB,
	"option clitcpka":                     DF,
	"option contstats":                    DF,
	"option disable-h2-upgrade":           DF,
	"option dontlog-normal":               DF,
	"option dontlognull":                  DF,
	"option forwardfor":                   DFB,
	"option h1-case-adjust-bogus-client":  DF,
	"option h1-case-adjust-bogus-server":  DB,
	"option http-buffer-request":          DFB,
	"option http-ignore-probes":           DF,
	"option http-keep-alive":              DFB,
	"option http-no-delay":                DFB,
	"option http-pretend-keepalive":       DB,
	"option http-restrict-req-hdr-names":  DFB,
	"option http-server-close":            DFB,
	"option http-use-proxy-header":        DF,
	"option httpchk":                      DB,
	"option httpclose":                    DFB,
	"option httplog":                      DF,
	"option httpslog":                     DF,
	"option independent-streams":          DFB,
	"option ldap-check":                   DB,
	"option external-check":               DB,
	"option log-health-checks":            DB,
	"option log-separate-errors":          DF,
	"option logasap":                      DF,
	"option mysql-check":                  DB,
	"option nolinger":                     DFB,
	"option originalto":                   DFB,
	"option persist":                      DB,
	"option pgsql-check":                  DB,
	"option prefer-last-server":           DB,
	"option redispatch":                   DB,
	"option redis-check":                  DB,
	"option smtpchk":                      DB,
	"option socket-stats":                 DF,
	"option splice-auto":                  DFB,
	"option splice-request":               DFB,
	"option splice-response":              DFB,
	"option spop-check":                   B,
	"option srvtcpka":                     DB,
	"option ssl-hello-chk":                DB,
	"option tcp-check":                    DB,
	"option tcp-smart-accept":             DF,
	"option tcp-smart-connect":            DB,
	"option tcpka":                        DFB,
	"option tcplog":                       DFB,
	"option transparent":                  DB,
	"option idle-close-on-response":       DF,
	"external-check command":              DB,
	"external-check path":                 DB,
	"persist rdp-cookie":                  DB,
	"rate-limit sessions":                 DF,
	"redirect":                            FB,
	"retries":                             DB,
	"retry-on":                            DB,
	"server":                              B,
	"server-state-file-name":              DB,
	"server-template":                     B,
	"source":                              DB,
	"srvtcpka-cnt":                        DB,
	"srvtcpka-idle":                       DB,
	"srvtcpka-intvl":                      DB,
	"stats admin":                         FB,
	"stats auth":                          DFB,
	"stats enable":                        DFB,
	"stats hide-version":                  DFB,
	"stats http-request":                  FB,
	"stats realm":                         DFB,
	"stats refresh":                       DFB,
	"stats scope":                         DFB,
	"stats show-desc":                     DFB,
	"stats show-legends":                  DFB,
	"stats show-modules":                  DFB,
	"stats show-node":                     DFB,
	"stats uri":                           DFB,
	"stick match":                         B,
	"stick on":                            B,
	"stick store-request":                 B,
	"stick store-response":                B,
	"stick-table":                         FB,
	"tcp-check comment":                   DB,
	"tcp-check connect":                   DB,
	"tcp-check expect":                    DB,
	"tcp-check send":                      DB,
	"tcp-check send-lf":                   DB,
	"tcp-check send-binary":               DB,
	"tcp-check send-binary-lf":            DB,
	"tcp-check set-var":                   DB,
	"tcp-check unset-var":                 DB,
	"tcp-request connection":              DF,
	"tcp-request content":                 DFB,
	"tcp-request inspect-delay":           DFB,
	"tcp-request session":                 DF,
	"tcp-response content":                DB,
	"tcp-response inspect-delay":          DB,
	"timeout check":                       DB,
	"timeout client":                      DF,
	"timeout client-fin":                  DF,
	"timeout connect":                     DB,
	"timeout http-keep-alive":             DFB,
	"timeout http-request":                DFB,
	"timeout queue":                       DB,
	"timeout server":                      DB,
	"timeout server-fin":                  DB,
	"timeout tarpit":                      DFB,
	"timeout tunnel":                      DB,
	"transparent":                         DB,
	"unique-id-format":                    DF,
	"unique-id-header":                    DF,
	"use_backend":                         F,
	"use-fcgi-app":                        B,
	"use-server":                          B,
	"http-after-response add-header":      DFB,
	"http-after-response allow":           DFB,
	"http-after-response capture":         DFB,
	"http-after-response del-header":      DFB,
	"http-after-response replace-header":  DFB,
	"http-after-response replace-value":   DFB,
	"http-after-response set-header":      DFB,
	"http-after-response set-status":      DFB,
	"http-after-response set-var":         DFB,
	"http-after-response set-var-fmt":     DFB,
	"http-after-response strict-mode":     DFB,
	"http-after-response unset-var":       DFB,
	"http-request add-acl":                DFB,
	"http-request add-header":             DFB,
	"http-request allow":                  DFB,
	"http-request auth":                   DFB,
	"http-request cache-use":              DFB,
	"http-request capture":                DFB,
	"http-request del-acl":                DFB,
	"http-request del-header":             DFB,
	"http-request del-map":                DFB,
	"http-request deny":                   DFB,
	"http-request disable-l7-retry":       DFB,
	"http-request do-resolve":             DFB,
	"http-request early-hint":             DFB,
	"http-request normalize-uri":          DFB,
	"http-request redirect":               DFB,
	"http-request reject":                 DFB,
	"http-request replace-header":         DFB,
	"http-request replace-path":           DFB,
	"http-request replace-pathq":          DFB,
	"http-request replace-uri":            DFB,
	"http-request replace-value":          DFB,
	"http-request return":                 DFB,
	"http-request sc-inc-gpc":             DFB,
	"http-request sc-inc-gpc0":            DFB,
	"http-request sc-inc-gpc1":            DFB,
	"http-request sc-set-gpt":             DFB,
	"http-request sc-set-gpt0":            DFB,
	"http-request send-spoe-group":        DFB,
	"http-request set-dst":                DFB,
	"http-request set-dst-port":           DFB,
	"http-request set-header":             DFB,
	"http-request set-log-level":          DFB,
	"http-request set-map":                DFB,
	"http-request set-mark":               DFB,
	"http-request set-method":             DFB,
	"http-request set-nice":               DFB,
	"http-request set-path":               DFB,
	"http-request set-pathq":              DFB,
	"http-request set-priority-class":     DFB,
	"http-request set-priority-offset":    DFB,
	"http-request set-query":              DFB,
	"http-request set-src":                DFB,
	"http-request set-src-port":           DFB,
	"http-request set-timeout":            DFB,
	"http-request set-tos":                DFB,
	"http-request set-uri":                DFB,
	"http-request set-var":                DFB,
	"http-request set-var-fmt":            DFB,
	"http-request silent-drop":            DFB,
	"http-request strict-mode":            DFB,
	"http-request tarpit":                 DFB,
	"http-request track-sc0":              DFB,
	"http-request track-sc1":              DFB,
	"http-request track-sc2":              DFB,
	"http-request unset-var":              DFB,
	"http-request use-service":            DFB,
	"http-request wait-for-body":          DFB,
	"http-request wait-for-handshake":     DFB,
	"http-response add-acl":               DFB,
	"http-response add-header":            DFB,
	"http-response allow":                 DFB,
	"http-response cache-store":           DFB,
	"http-response capture":               DFB,
	"http-response del-acl":               DFB,
	"http-response del-header":            DFB,
	"http-response del-map":               DFB,
	"http-response deny":                  DFB,
	"http-response redirect":              DFB,
	"http-response replace-header":        DFB,
	"http-response replace-value":         DFB,
	"http-response return":                DFB,
	"http-response sc-inc-gpc":            DFB,
	"http-response sc-inc-gpc0":           DFB,
	"http-response sc-inc-gpc1":           DFB,
	"http-response sc-set-gpt":            DFB,
	"http-response sc-set-gpt0":           DFB,
	"http-response send-spoe-group":       DFB,
	"http-response set-header":            DFB,
	"http-response set-log-level":         DFB,
	"http-response set-map":               DFB,
	"http-response set-mark":              DFB,
	"http-response set-nice":              DFB,
	"http-response set-status":            DFB,
	"http-response set-tos":               DFB,
	"http-response set-var":               DFB,
	"http-response set-var-fmt":           DFB,
	"http-response silent-drop":           DFB,
	"http-response strict-mode":           DFB,
	"http-response track-sc0":             DFB,
	"http-response track-sc1":             DFB,
	"http-response track-sc2":             DFB,
	"http-response unset-var":             DFB,
	"http-response wait-for-body":         DFB,
}
