package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/testenv"
)

// authorityDefaults is the preamble of every haproxy.cfg in the table.
const authorityDefaults = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
`

// authorityCases pair a configuration with `varde check`'s verdict: "" for
// valid, else the FILE:LINE: error: KEYWORD prefix expected (FILE is the
// config's base name). {PORT} and {DIR} are replaced per run; files named
// *.conf are keepalived.conf.
var authorityCases = []struct {
	name  string
	files map[string]string
	want  string
}{
	{"valid", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"compression", map[string]string{"h.cfg": "global\n    tune.comp.maxlevel 5\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    compression algo gzip deflate\n    compression type text/\n    compression offload\n    filter compression\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"maxcomprate", map[string]string{"h.cfg": "global\n    maxcomprate 100\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"maxcomprate not a number", map[string]string{"h.cfg": "global\n    maxcomprate 1k\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:2: error: maxcomprate"},
	{"maxcompcpuusage", map[string]string{"h.cfg": "global\n    maxcompcpuusage 50\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"maxcompcpuusage over 100", map[string]string{"h.cfg": "global\n    maxcompcpuusage 101\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:2: error: maxcompcpuusage"},
	{"option checkcache", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option checkcache\n    server s1 127.0.0.1:1\n"}, ""},
	{"option checkcache beside cookie nocache", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option checkcache\n    cookie SRV insert nocache\n    server s1 127.0.0.1:1 cookie a\n"}, "h.cfg:10: error: option checkcache"},
	{"filter other than compression", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    filter trace\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: filter"},
	{"peers: local peer only", map[string]string{"h.cfg": "global\n    localpeer lb1\npeers mine\n    peer lb1 127.0.0.1:1\n    table clients type ip size 1k store http_req_cnt\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request track-sc0 src table mine/clients\n    default_backend b\nbackend b\n    stick-table type ip size 1k store server_id peers mine\n    stick on src\n    server s1 127.0.0.1:1\n"}, ""},
	{"peers: remote peer without address", map[string]string{"h.cfg": "global\n    localpeer lb1\npeers mine\n    peer lb1 127.0.0.1:1\n    peer lb2\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    stick-table type ip size 1k peers mine\n    server s1 127.0.0.1:1\n"}, "h.cfg:5: error: peer"},
	{"peers: unknown section", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    stick-table type ip size 1k peers nope\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: stick-table"},
	{"resolvers: unknown section", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 app.invalid:80 resolvers nope init-addr none\n"}, "h.cfg:10: error: server resolvers"},
	{"resolvers: nameserver not an IP", map[string]string{"h.cfg": "resolvers dns\n    nameserver ns1 dns.example:53\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 app.invalid:80 resolvers dns\n"}, "h.cfg:2: error: nameserver"},
	{"resolvers: init-addr last", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 app.invalid:80 init-addr last,libc\n"}, "h.cfg:10: error: server init-addr"},
	{"resolvers: init-addr libc that fails", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 app.invalid:80 init-addr libc\n"}, "h.cfg:10: error: server"},
	{"resolvers: init-addr none and a template", map[string]string{"h.cfg": "resolvers dns\n    nameserver ns1 127.0.0.1:1\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    default-server init-addr none\n    server-template s 3 app.invalid:80 resolvers dns\n    server t 0.0.0.0:+1\n"}, ""},
	{"cache", map[string]string{"h.cfg": "cache c\n    total-max-size 1\n    max-age 30\n    process-vary on\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request cache-use c if { path_beg /static }\n    http-response cache-store c\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"cache: unknown cache", map[string]string{"h.cfg": "cache c\n    total-max-size 1\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request cache-use c\n    http-response cache-store other\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:11: error: http-response cache-store"},
	{"cache: no size", map[string]string{"h.cfg": "cache c\n    max-age 30\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:1: error: total-max-size"},
	{"cache: unknown keyword", map[string]string{"h.cfg": "cache c\n    total-max-size 1\n    max-objects 10\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:3: error: max-objects"},
	{"cache: object larger than half the cache", map[string]string{"h.cfg": "cache c\n    total-max-size 1\n    max-object-size 600000\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:1: error: max-object-size"},
	{"valid with log file and socket", map[string]string{"h.cfg": "global\n    stats socket {DIR}/admin.sock level admin\n    log file@{DIR}/access.log anonymize ip 24,48 local0\n" + authorityDefaults + "    log global\n    option httplog\nfrontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 check\n"}, ""},
	{"unresolvable server", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 nonexistent.invalid:80\n"}, "h.cfg:10: error: server"},
	{"missing socket directory", map[string]string{"h.cfg": "global\n    stats socket {DIR}/missing/admin.sock\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:2: error: stats socket"},
	{"anonymize mask hash without hmac keys", map[string]string{"h.cfg": "global\n    log stdout format raw anonymize ip 24,48 anonymize mask hash local0\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:2: error: log anonymize"},
	{"anonymize pii unknown class", map[string]string{"h.cfg": "global\n    log stdout format raw anonymize ip 24,48 anonymize pii email,ssn local0\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:2: error: log anonymize"},
	{"anonymize params and truncate", map[string]string{"h.cfg": "global\n    log stdout format raw anonymize ip 24,48 anonymize params email,token,session anonymize mask drop,card=truncate local0\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"log-format unknown variable", map[string]string{"h.cfg": "global\n    log stdout format raw local0\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    log global\n    log-format \"%ci %bix\"\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:11: error: log-format"},
	{"missing log directory", map[string]string{"h.cfg": authorityDefaults + "    log file@{DIR}/missing/a.log anonymize none local0\nfrontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:6: error: log"},
	{"balance uri len 0", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    balance uri len 0\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: balance"},
	{"missing errorfile", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    errorfile 503 {DIR}/missing.http\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: errorfile"},
	{"missing return file", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request return content-type text/plain file {DIR}/missing.txt\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request return"},
	{"return lf-string with an unknown fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request return content-type text/plain lf-string \"%[req.nosuch]\"\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request return"},
	{"return errorfiles of an unknown set", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request return status 503 errorfiles myerrs\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request return"},
	{"set-var with a bad scope", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request set-var(tx.a) str(b)\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request set-var"},
	{"set-var-fmt with an unknown fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-response set-var-fmt(txn.a) \"%[res.nosuch]\"\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-response set-var-fmt"},
	{"unique-id-format with flags varde cannot build", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    unique-id-format %{+X}o\\ %ci\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: unique-id-format"},
	{"capture of an undeclared slot", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request capture path id 3\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request capture"},
	{"tarpit with a reply body", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request tarpit deny_status 403 string nope\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request tarpit"},
	{"http-response return with an unknown fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-response return content-type text/plain lf-string \"%[res.nosuch]\"\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-response return"},
	{"http-response deny with a missing file", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-response deny content-type text/plain file {DIR}/missing.txt if { status 500 }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-response deny"},
	{"http-response deny and return valid", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-response deny if { status 500 }\n    http-response return status 200 content-type text/plain string ok if { status 404 }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"http-errors page missing", map[string]string{"h.cfg": authorityDefaults + "http-errors e\n    errorfile 503 {DIR}/e.http\nfrontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:7: error: errorfile"},
	{"errorfiles of an unknown set", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    errorfiles nosuch\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: errorfiles"},
	{"http-errors and errorfiles", map[string]string{"h.cfg": authorityDefaults + "http-errors e\n    errorfile 503 {DIR}/e.http\nfrontend f\n    bind 127.0.0.1:{PORT}\n    errorfiles e\n    http-request return status 503 errorfiles e if { path /x }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n", "e.http": "HTTP/1.0 503 Service Unavailable\r\n\r\nsorry\n"}, ""},
	{"rewrite rules valid", map[string]string{"h.cfg": authorityDefaults + "    http-after-response set-header X-After yes\nfrontend f\n    bind 127.0.0.1:{PORT}\n    http-request set-path /v2%[path]\n    http-request replace-header X-A (.*) [\\1]\n    http-request del-header X- -m beg\n    http-response set-status 503 reason \"Try Later\" if { status 500 }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"rewrite regex RE2 cannot run", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request replace-path ^/(?=a) /b\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request replace-path"},
	{"rewrite format with an unknown fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request set-path %[req.nosuch]\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request set-path"},
	{"rewrite after-response action not built", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-after-response set-path /x\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-after-response set-path"},
	{"rewrite normalize-uri without expose-experimental-directives", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request normalize-uri path-merge-slashes\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request normalize-uri"},
	{"rewrite normalize-uri conditional dotdot", map[string]string{"h.cfg": "global\n    expose-experimental-directives\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request normalize-uri path-strip-dotdot if { path_beg /a }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: http-request normalize-uri"},
	{"rewrite normalize-uri valid", map[string]string{"h.cfg": "global\n    expose-experimental-directives\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request normalize-uri path-strip-dotdot\n    http-request normalize-uri percent-to-uppercase strict if { path_beg /a }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"ssl on a bind line", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} ssl crt {DIR}/site.pem\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n", "site.pem": "{CERT}"}, ""},
	{"missing crt file", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} ssl crt {DIR}/missing.pem\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:7: error: bind"},
	{"crt without its key", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} ssl crt {DIR}/site.pem\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n", "site.pem": "{CERTONLY}"}, "h.cfg:7: error: bind"},
	{"ciphers with nothing Go implements", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} ssl crt {DIR}/site.pem ciphers DHE+AESGCM:DHE-RSA-AES128-GCM-SHA256\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n", "site.pem": "{CERT}"}, "h.cfg:7: error: bind ciphers"},
	{"alpn h2 on a TLS bind", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} ssl crt {DIR}/site.pem alpn h2,http/1.1\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n", "site.pem": "{CERT}"}, ""},
	{"alpn a protocol varde does not serve", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} ssl crt {DIR}/site.pem alpn spdy/3,http/1.1\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n", "site.pem": "{CERT}"}, "h.cfg:7: error: bind"},
	{"bad crt-list line", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} ssl crt-list {DIR}/list.txt\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n", "list.txt": "site.pem [npn http/1.1]\n"}, "h.cfg:7: error: bind"},
	{"ssl to a server, verify none", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 ssl verify none\n"}, ""},
	{"ssl to a server verifies by default: no ca-file", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 ssl\n"}, "h.cfg:10: error: server verify"},
	{"ssl verify required without ca-file", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 ssl verify required\n"}, "h.cfg:10: error: server verify"},
	{"ssl-server-verify none", map[string]string{"h.cfg": "global\n    ssl-server-verify none\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 ssl\n"}, ""},
	{"missing ca-file", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 ssl ca-file {DIR}/missing.pem\n"}, "h.cfg:10: error: server ca-file"},
	{"server ciphers Go cannot honour", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 ssl verify none ciphers DHE-RSA-AES128-GCM-SHA256\n"}, "h.cfg:10: error: server ciphers"},
	{"server alpn h2", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 ssl verify none alpn h2\n"}, "h.cfg:10: error: server alpn"},
	{"missing client crt for checks", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 check check-ssl verify none crt {DIR}/missing.pem\n"}, "h.cfg:10: error: server crt"},
	{"unknown track_varde backend", map[string]string{
		"h.cfg":  authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
		"k.conf": "vrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n    track_varde {\n        backend nosuch\n    }\n}\n",
	}, "k.conf:10: error: track_varde"},
	{"vrrp_script checking haproxy: a warning, not an error", map[string]string{
		"h.cfg":  authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
		"k.conf": kadHAProxyScriptConf,
	}, ""},
	{"keepalived trailing semicolon", map[string]string{"k.conf": "vrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100;\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n}\n"}, "k.conf:5: error: priority"},
	{"track_file and garp_master_refresh", map[string]string{"k.conf": "track_file f {\n    file {DIR}/f\n    weight -10\n}\nvrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    garp_master_refresh 10\n    garp_master_refresh_repeat 2\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n    track_file {\n        f\n    }\n}\n"}, ""},
	{"unknown track_file", map[string]string{"k.conf": "vrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n    track_file {\n        nosuch\n    }\n}\n"}, "k.conf:10: error: track_file"},
	{"track_file init_file not built", map[string]string{"k.conf": "track_file f {\n    file {DIR}/f\n    init_file 0\n}\nvrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n    track_file {\n        f\n    }\n}\n"}, "k.conf:3: error: init_file"},
	{"static_routes option varde does not build", map[string]string{"k.conf": "static_routes {\n    198.19.1.0/24 via 127.0.0.2 dev lo mtu 1400\n}\nvrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n}\n"}, "k.conf:2: error: static_routes"},
	{"virtual_rules without a priority", map[string]string{"k.conf": "vrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n    virtual_rules {\n        from 198.19.1.0/24 table 100\n    }\n}\n"}, "k.conf:10: error: virtual_rules"},
	{"vrrp_track_process", map[string]string{"k.conf": "vrrp_track_process p {\n    process sleep\n    weight -10\n}\nvrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n    track_process {\n        p\n    }\n}\n"}, ""},
	{"unknown vrrp_track_process", map[string]string{"k.conf": "vrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n    track_process {\n        nosuch\n    }\n}\n"}, "k.conf:10: error: track_process"},
	{"vrrp_track_process weight reverse", map[string]string{"k.conf": "vrrp_track_process p {\n    process sleep\n    weight 10 reverse\n}\nvrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n    track_process {\n        p weight 20 noreverse\n    }\n}\n"}, ""},
	{"use_vmac with an RFC 5798 MAC", map[string]string{"k.conf": "vrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    use_vmac 00:00:5e:00:01:99\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n}\n"}, "k.conf:6: error: use_vmac"},
	{"use_vmac with a multicast MAC", map[string]string{"k.conf": "vrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    use_vmac vm1 03:11:22:33:44:55\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n}\n"}, "k.conf:6: error: use_vmac"},
	{"stats page in a backend", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    use_backend st if { path_beg /stats }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\nbackend st\n    stats enable\n    stats uri /stats\n    stats show-legends\n    stats show-modules\n    stats show-desc primary\n"}, ""},
	{"stats show-node with a bad name", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    stats enable\n    stats show-node lb/1\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:9: error: stats show-node"},
	{"virtual_server (LVS)", map[string]string{"k.conf": "vrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n}\nvirtual_server 198.18.0.10 80 {\n    real_server 127.0.0.1 80 {\n    }\n}\n"}, "k.conf:10: error: virtual_server"},
	{"static_routes without a vrrp_instance", map[string]string{"k.conf": "static_routes {\n    198.19.1.0/24 via 127.0.0.2 dev lo\n}\n"}, "k.conf:2: error: static"},
	{"virtual_routes on an unknown interface", map[string]string{"k.conf": "vrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n    virtual_routes {\n        198.19.1.0/24 via 127.0.0.2 dev nonexist0\n    }\n}\n"}, "k.conf:10: error: virtual_routes"},
	{"vrrp_sync_group with an unknown member", map[string]string{"k.conf": "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_9\n    }\n}\nvrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n}\n"}, "k.conf:1: error: vrrp_sync_group"},
	{"vrrp_sync_group", map[string]string{"k.conf": "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n    notify /bin/true\n}\nvrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n}\nvrrp_instance VI_2 {\n    state BACKUP\n    interface lo\n    virtual_router_id 52\n    priority 100\n    virtual_ipaddress {\n        198.18.0.11/32\n    }\n}\n"}, ""},
	{"log-format with a header sample", map[string]string{"h.cfg": "global\n    log file@{DIR}/a.log anonymize none local0\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    log global\n    capture request header Host len 64\n    log-format \"%ci %[req.hdr(host),lower] %[srv_id]\"\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"set-header from url", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request set-header X-Url %[url]\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"dynamic use_backend", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    use_backend be_%[req.hdr(host),lower,field(1,:)]\n    default_backend be_www\nbackend be_www\n    server s1 127.0.0.1:1\n"}, ""},
	{"unknown converter", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    use_backend be_%[req.hdr(host),lowr]\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: use_backend"},
	{"response fetch in a request rule", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request set-header X %[status]\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request set-header"},
	{"tcp-check redis role", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option tcp-check\n    tcp-check send PING\\r\\n\n    tcp-check expect string +PONG\n    server s1 127.0.0.1:1 check\n"}, ""},
	{"tcp-check connect ssl verifies by default: no ca-file", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option tcp-check\n    tcp-check connect port 6443 ssl\n    server s1 127.0.0.1:1 check\n"}, "h.cfg:12: error: server verify"},
	{"tcp-check connect ssl, verify none", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option tcp-check\n    tcp-check connect port 6443 ssl sni api.example alpn h2\n    server s1 127.0.0.1:1 check verify none\n"}, ""},
	{"tcp-check connect via-socks4", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option tcp-check\n    tcp-check connect via-socks4\n    server s1 127.0.0.1:1 socks4 127.0.0.1:2 check\n"}, ""},
	{"tcp-check connect proto not built", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option tcp-check\n    tcp-check connect proto h2\n    server s1 127.0.0.1:1 check\n"}, "h.cfg:11: error: tcp-check connect"},
	{"tcp-check send-lf not built", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option tcp-check\n    tcp-check send-lf %[src]\n    server s1 127.0.0.1:1 check\n"}, "h.cfg:11: error: tcp-check send-lf"},
	{"tcp-check expect regex Go lacks", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option tcp-check\n    tcp-check expect rstring (?=x)\n    server s1 127.0.0.1:1 check\n"}, "h.cfg:11: error: tcp-check expect"},
	{"global user unknown", map[string]string{"h.cfg": "global\n    user varde-no-such-user\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:2: error: user"},
	{"global group unknown", map[string]string{"h.cfg": "global\n    user nobody\n    group varde-no-such-group\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:3: error: group"},
	{"global uid not a number", map[string]string{"h.cfg": "global\n    uid nobody\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:2: error: uid"},
	{"pgsql-check without user", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option pgsql-check\n    server s1 127.0.0.1:1 check\n"}, "h.cfg:10: error: option pgsql-check"},
	{"http-check connect ssl not built", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option httpchk\n    http-check connect port 8443 ssl\n    http-check send meth GET uri /\n    server s1 127.0.0.1:1 check\n"}, "h.cfg:11: error: http-check connect"},
	{"http-check connect port", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option httpchk\n    http-check connect port 8080\n    http-check send meth GET uri /\n    server s1 127.0.0.1:1 check\n"}, ""},
	{"smtpchk", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option smtpchk EHLO lb.example.com\n    server s1 127.0.0.1:1 check\n"}, ""},
	{"quoted keyword", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    \"option httplog\"\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: option httplog"},
	{"unterminated quote", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request set-header X \"abc\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: "},
	{"balance url_param check_post", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    balance url_param uid check_post\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: balance"},
	{"hmac key file that does not parse", map[string]string{
		"h.cfg":   "global\n    log stdout format raw anonymize hmac {DIR}/bad.key rotate 1d local0\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
		"bad.key": "garbage\n",
	}, "h.cfg:2: error: log anonymize"},
	{"track_varde on a disabled backend", map[string]string{
		"h.cfg":  authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\nbackend old\n    disabled\n    server s1 127.0.0.1:1\n",
		"k.conf": "vrrp_instance VI_1 {\n    state BACKUP\n    interface lo\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n    track_varde {\n        backend old\n    }\n}\n",
	}, "k.conf:10: error: track_varde"},
	{"valid policies", map[string]string{
		"h.cfg":     authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    policy route.lua\n    default_backend b\nbackend b\n    policy pick.lua timeout 2ms fallback leastconn\n    server s1 127.0.0.1:1\n",
		"route.lua": "function choose_backend(req) return nil end\n",
		"pick.lua":  "function choose_server(req, servers) return nil end\n",
	}, ""},
	{"policy with Lua 5.3 syntax", map[string]string{
		"h.cfg":     authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    policy route.lua\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
		"route.lua": "function choose_backend(req)\n  return 7 // 2\nend\n",
	}, "h.cfg:8: error: policy: route.lua:2: integer division"},
	{"policy with a bad fetch", map[string]string{
		"h.cfg":     authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    policy route.lua\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
		"route.lua": "function choose_backend(req)\n  return req:fetch(\"req.hdrx(host)\")\nend\n",
	}, "h.cfg:8: error: policy: route.lua:2: req:fetch"},
	{"choose_backend in a backend", map[string]string{
		"h.cfg":     authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    policy route.lua\n    server s1 127.0.0.1:1\n",
		"route.lua": "function choose_backend(req) return nil end\n",
	}, "h.cfg:10: error: policy: route.lua defines choose_backend"},
	{"two policies with one entry point", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    policy a.lua\n    policy b.lua\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
		"a.lua": "function choose_backend(req) return nil end\n",
		"b.lua": "function choose_backend(req) return nil end\n",
	}, "h.cfg:9: error: policy: a.lua and b.lua both define choose_backend"},
	{"missing policy file", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    policy nosuch.lua\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: policy"},
	{"accept-proxy and send-proxy-v2", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} accept-proxy\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 send-proxy-v2 check\n"}, ""},
	{"proxy-v2-options", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 send-proxy-v2 proxy-v2-options authority\n"}, "h.cfg:10: error: server proxy-v2-options"},
	{"check-send-proxy", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 check check-send-proxy\n"}, "h.cfg:10: error: server check-send-proxy"},
	{"tcp-request content in mode tcp", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    mode tcp\n    bind 127.0.0.1:{PORT}\n    tcp-request inspect-delay 5s\n    tcp-request content accept if { req_ssl_hello_type 1 }\n    use_backend b if { req_ssl_sni -i a.example }\nbackend b\n    mode tcp\n    server s1 127.0.0.1:1\n"}, ""},
	{"tcp-request content in mode http", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    tcp-request content reject if { src 10.0.0.0/8 }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"tcp-request content in mode http with a payload fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    tcp-request content reject if { req.len gt 10 }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: tcp-request content reject"},
	{"tcp-request content track-sc0", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    mode tcp\n    bind 127.0.0.1:{PORT}\n    tcp-request content track-sc0 src\n    default_backend b\nbackend b\n    mode tcp\n    server s1 127.0.0.1:1\n"}, "h.cfg:9: error: tcp-request content track-sc0"},
	{"stick-table rate limit", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur\n    tcp-request connection track-sc1 src table per_ip\n    tcp-request connection reject if { sc_conn_cur(1) gt 10 }\n    http-request track-sc0 src\n    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 10 }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\nbackend per_ip\n    stick-table type ip size 1m expire 10s store conn_cur\n"}, ""},
	{"tcp-request session track-sc0", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    stick-table type ip size 100k store conn_cur\n    tcp-request session track-sc0 src\n    tcp-request session reject if { sc_conn_cur(0) gt 10 }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"tcp-request session with an HTTP fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    tcp-request session reject if { path_beg /x }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: tcp-request session reject"},
	{"stick-table peers", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    stick-table type ip size 100k peers p store gpc0\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: stick-table"},
	{"stick on", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    stick-table type ip size 100k\n    stick on src\n    server s1 127.0.0.1:1\n"}, ""},
	{"stick store-response", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    stick-table type ip size 100k\n    stick store-response src\n    server s1 127.0.0.1:1\n"}, ""},
	{"stick store-response res.cook", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    stick-table type string len 32 size 100k\n    stick match req.cook(SID)\n    stick store-response res.cook(SID)\n    server s1 127.0.0.1:1\n"}, ""},
	{"stick store-request with a response fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    stick-table type string len 32 size 100k\n    stick store-request res.cook(SID)\n    server s1 127.0.0.1:1\n"}, "h.cfg:11: error: stick store-request"},
	{"stick on in mode tcp", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    mode tcp\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    mode tcp\n    stick-table type ip size 100k\n    stick on src\n    server s1 127.0.0.1:1\n"}, "h.cfg:13: error: stick on"},
	{"src fetch without a table", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request deny if { src_http_req_rate gt 10 }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: src_http_req_rate"},
	{"track-sc to a missing table", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request track-sc0 src table nope\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request track-sc0"},
	{"tcp-request content with a response fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    mode tcp\n    bind 127.0.0.1:{PORT}\n    tcp-request inspect-delay 1s\n    tcp-request content reject if { res.hdr(x) -m found }\n    default_backend b\nbackend b\n    mode tcp\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: tcp-request content reject"},
	{"tcp-request connection and session actions", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    stick-table type ip size 10 store gpc0,gpt0\n    tcp-request connection set-var(sess.a) src\n    tcp-request connection set-src-port int(5)\n    tcp-request connection track-sc0 src\n    tcp-request connection sc-inc-gpc0(0)\n    tcp-request session set-var-fmt(sess.b) \"%[var(sess.a)]\"\n    tcp-request session set-dst ipv4(10.0.0.1)\n    tcp-request session sc-set-gpt0(0) 1\n    tcp-request session unset-var(sess.a)\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"tcp-request session set-var with a payload fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    tcp-request session set-var(sess.x) req.len\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: tcp-request session set-var"},
	{"tcp-request connection set-src with an HTTP fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    tcp-request connection set-src hdr(x-real-ip)\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: tcp-request connection set-src"},
	{"tcp-request connection set-tos stays refused", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    tcp-request connection set-tos 8\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: tcp-request connection set-tos"},
	{"tcp-response content in mode tcp", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    mode tcp\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    mode tcp\n    tcp-response inspect-delay 2s\n    tcp-response content set-var(txn.l) res.len if { res.len ge 2 }\n    tcp-response content close if { res.payload(0,3) -m str BYE }\n    tcp-response content accept if { res.ssl_hello_type 2 }\n    tcp-response content reject\n    server s1 127.0.0.1:1\n"}, ""},
	{"tcp-response content in a mode http backend", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    tcp-response content reject if { res.len gt 10 }\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: tcp-response content reject"},
	{"tcp-response content with a request fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    mode tcp\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    mode tcp\n    tcp-response content reject if { req.len gt 10 }\n    server s1 127.0.0.1:1\n"}, "h.cfg:12: error: tcp-response content reject"},
	{"tcp-response in a frontend", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    mode tcp\n    bind 127.0.0.1:{PORT}\n    tcp-response content reject\n    default_backend b\nbackend b\n    mode tcp\n    server s1 127.0.0.1:1\n"}, "h.cfg:9: error: tcp-response"},
	{"tcp-response content set-mark stays refused", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    mode tcp\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    mode tcp\n    tcp-response content set-mark 1\n    server s1 127.0.0.1:1\n"}, "h.cfg:12: error: tcp-response content set-mark"},
	{"http-check variables", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option httpchk\n    http-check set-var(check.p) str(/h)\n    http-check set-var-fmt(sess.w) \"lb-%[var(check.p)]\"\n    http-check unset-var(check.x)\n    http-check send meth GET uri-lf %[var(check.p)] hdr X-W %[var(sess.w)] body-lf x%%\n    server s1 127.0.0.1:1 check\n"}, ""},
	{"http-check send hdr reading a request fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option httpchk\n    http-check send meth GET uri / hdr X-A %[req.hdr(host)]\n    server s1 127.0.0.1:1 check\n"}, "h.cfg:11: error: http-check send"},
	{"http-check set-var after the send", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option httpchk\n    http-check send meth GET uri /\n    http-check set-var(check.x) str(a)\n    server s1 127.0.0.1:1 check\n"}, "h.cfg:12: error: http-check set-var"},
	{"tcp-check variables and send-lf", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    mode tcp\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    mode tcp\n    option tcp-check\n    tcp-check set-var(check.x) str(a)\n    tcp-check send-lf %[var(check.x)]\\r\\n\n    tcp-check expect string OK\n    tcp-check unset-var(check.x)\n    server s1 127.0.0.1:1 check\n"}, ""},
	{"tcp-check set-var reading the response", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    mode tcp\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    mode tcp\n    option tcp-check\n    tcp-check expect string OK\n    tcp-check set-var(check.x) res.payload(0,2)\n    server s1 127.0.0.1:1 check\n"}, "h.cfg:14: error: tcp-check set-var"},
	{"tcp-request connection in a backend", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    tcp-request connection reject\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: tcp-request connection reject"},
	{"tcp-request session in a backend", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    tcp-request session accept\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: tcp-request session accept"},
	{"tcp-request content in a backend", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    stick-table type string len 32 size 10 store http_req_cnt,http_err_rate(10m)\n    tcp-request inspect-delay 10s\n    tcp-request content track-sc1 path\n    tcp-request content reject if { sc_http_err_rate(1) gt 5 }\n    server s1 127.0.0.1:1\n"}, ""},
	{"tcp-request content in a backend with an HTTP fetch", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    tcp-request content reject if { path_beg /admin }\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: tcp-request content reject"},
	{"tcp-request content in a backend tracking into a missing table", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    tcp-request content track-sc1 src table nope\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: tcp-request content track-sc1"},
	{"lua-load service", map[string]string{
		"h.cfg": "global\n    lua-load {DIR}/s.lua\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request use-service lua.hello if { path /hello }\n    http-request lua.tag\n    http-request set-header X %[lua.who,lua.up]\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
		"s.lua": "core.register_service('hello', 'http', function(applet) applet:start_response() end)\ncore.register_action('tag', {'http-req'}, function(txn) end)\ncore.register_fetches('who', function(txn) return 'x' end)\ncore.register_converters('up', function(s) return s:upper() end)\n",
	}, ""},
	{"lua-load unsupported function", map[string]string{
		"h.cfg": "global\n    lua-load {DIR}/s.lua\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
		"s.lua": "-- a task\ncore.register_task(function() end)\n",
	}, "s.lua:2: error: lua-load"},
	{"lua-load Lua 5.3 syntax", map[string]string{
		"h.cfg": "global\n    lua-load {DIR}/s.lua\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
		"s.lua": "local a = 1\nlocal b = a // 2\n",
	}, "s.lua:2: error: lua-load"},
	{"lua-load runtime error while loading", map[string]string{
		"h.cfg": "global\n    lua-load {DIR}/s.lua\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
		"s.lua": "local t = nil\nprint(t.x)\n",
	}, "s.lua:2: error: lua-load"},
	{"lua action nobody registered", map[string]string{
		"h.cfg": "global\n    lua-load {DIR}/s.lua\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request lua.nosuch\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
		"s.lua": "core.register_action('tag', {'http-req'}, function(txn) end)\n",
	}, "h.cfg:10: error: http-request lua"},
	{"lua action with the wrong number of arguments", map[string]string{
		"h.cfg": "global\n    lua-load {DIR}/s.lua\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request lua.tag one\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
		"s.lua": "core.register_action('tag', {'http-req'}, function(txn, a, b) end, 2)\n",
	}, "h.cfg:10: error: http-request lua"},
	{"lua fetch without lua-load", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request set-header X %[lua.who]\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request set-header"},
	{"bind proto other than h2", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} proto h1\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
	}, "h.cfg:7: error: bind proto"},
	{"bind proto h2 in mode tcp", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    mode tcp\n    bind 127.0.0.1:{PORT} proto h2\n    default_backend b\nbackend b\n    mode tcp\n    server s1 127.0.0.1:1\n",
	}, "h.cfg:8: error: bind proto: HTTP/2 needs mode http"},
	{"bind proto h2", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} proto h2\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
	}, ""},
	{"bind v6only interface on proto h2", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} proto h2 interface lo\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
	}, "h.cfg:7: error: frontend: bind proto h2: v6only, interface and transparent"},
	{"bind v6only", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    bind [::1]:{PORT} v6only\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
	}, ""},
	{"bind maxconn", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} maxconn 10\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
	}, ""},
	{"bind maxconn on proto h2", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT} proto h2 maxconn 10\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
	}, "h.cfg:7: error: frontend: bind maxconn"},
	{"server-state-file missing: a warning", map[string]string{
		"h.cfg": "global\n    server-state-file {DIR}/none.state\n" + authorityDefaults + "    load-server-state-from-file global\nfrontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
	}, ""},
	{"server-state-file twice", map[string]string{
		"h.cfg": "global\n    server-state-file {DIR}/a.state\n    server-state-file {DIR}/b.state\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
	}, "h.cfg:3: error: server-state-file"},
	{"load-server-state-from-file bad mode", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    load-server-state-from-file always\n    server s1 127.0.0.1:1\n",
	}, "h.cfg:10: error: load-server-state-from-file"},
	{"zero-warning with a warning", map[string]string{
		"h.cfg": "global\n    zero-warning\n    server-state-file {DIR}/none.state\n" + authorityDefaults + "    load-server-state-from-file global\nfrontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
	}, "h.cfg:2: error: zero-warning"},
	{"zero-warning without warnings", map[string]string{
		"h.cfg": "global\n    zero-warning\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n",
	}, ""},
	{"server redir", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 redir http://static.example.com\n",
	}, ""},
	{"http-check disable-on-404", map[string]string{
		"h.cfg": authorityDefaults + "    http-check disable-on-404\nfrontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    option httpchk GET /health\n    server s1 127.0.0.1:1 check\n",
	}, ""},
	{"http-send-name-header", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    http-send-name-header X-Server\n    server s1 127.0.0.1:1\n",
	}, ""},
	{"http-send-name-header without a name", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    http-send-name-header\n    server s1 127.0.0.1:1\n",
	}, "h.cfg:10: error: http-send-name-header"},
	{"stick store-response in mode tcp stays refused", map[string]string{
		"h.cfg": authorityDefaults + "frontend f\n    mode tcp\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    mode tcp\n    stick-table type ip size 1k\n    stick store-response src\n    server s1 127.0.0.1:1\n",
	}, "h.cfg:13: error: stick store-response"},
	{"stats scope", map[string]string{
		"h.cfg": authorityDefaults + "listen st\n    bind 127.0.0.1:{PORT}\n    stats enable\n    stats scope .\n    stats scope app\n    server s1 127.0.0.1:1\n",
	}, ""},
	{"expose-fd listeners", map[string]string{"h.cfg": "global\n    stats socket {DIR}/admin.sock level admin expose-fd listeners\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"expose-fd other than listeners", map[string]string{"h.cfg": "global\n    stats socket {DIR}/admin.sock expose-fd all\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:2: error: stats socket"},
	{"bind fd@ not a number", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind fd@x\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:7: error: bind"},
	{"unknown interface", map[string]string{"k.conf": "vrrp_instance VI_1 {\n    state BACKUP\n    interface nonexist0\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        198.18.0.10/32\n    }\n}\n"}, "k.conf:3: error: interface"},
	{"retry-on with on-marked-down and abortonclose", map[string]string{"h.cfg": authorityDefaults + "    retry-on conn-failure empty-response 503\n    option redispatch 1\n    option abortonclose\n    option http-buffer-request\nfrontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 check on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions\n"}, ""},
	{"retry-on unknown keyword", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    retry-on 418\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: retry-on"},
	{"retry-on none with others", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    retry-on none 503\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: retry-on"},
	{"retry-on in a frontend", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    retry-on 503\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: retry-on"},
	{"userlist with http-request auth", map[string]string{"h.cfg": "userlist L\n    user u insecure-password p\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request auth realm R unless { http_auth(L) }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"http_auth of an unknown userlist", map[string]string{"h.cfg": "userlist L\n    user u insecure-password p\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request auth unless { http_auth(M) }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: http_auth"},
	{"userlist MD5 hash", map[string]string{"h.cfg": "userlist L\n    user u password $1$salt$abcdefghijklmnopqrstuv\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:2: error: user"},
	{"userlist user in an unknown group", map[string]string{"h.cfg": "userlist L\n    user u insecure-password p groups g\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:2: error: user"},
	{"http-request wait-for-body and req.body", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request wait-for-body time 1s at-least 1k if METH_POST\n    http-request deny if { req.body_param(user) -m str admin } || { req.body -m sub attack } || { req.body_len gt 100 }\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"http-request wait-for-body without a time", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request wait-for-body at-least 10\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request wait-for-body"},
	{"http-response wait-for-body stays refused", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-response wait-for-body time 1s\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-response"},
	// maps and ACL files (docs/maps.md)
	{"log-format map file missing", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    log-format \"%[req.hdr(host),map({DIR}/missing.map,-)]\"\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: log-format"},
	{"map file missing", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    use_backend %[req.hdr(host),lower,map({DIR}/missing.map,b)]\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: use_backend"},
	{"map_ip file with a host name", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request set-header X-Net %[src,map_ip({DIR}/nets.map,none)]\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n", "nets.map": "10.0.0.0/8 lan\nwww.example.com web\n"}, "h.cfg:8: error: http-request set-header"},
	{"acl file as a map", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    acl bad hdr(host) -f {DIR}/hosts.lst\n    http-request deny if bad\n    use_backend %[req.hdr(host),map({DIR}/hosts.lst,b)]\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n", "hosts.lst": "a.example.com b\n"}, "h.cfg:10: error: frontend"},
	{"maps with map acls and map actions", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    acl bad hdr(host) -i -f {DIR}/block.lst\n    acl known hdr(host) -M -f {DIR}/hosts.map\n    http-request deny if bad\n    http-request set-map({DIR}/hosts.map) %[req.hdr(x-k)] %[req.hdr(x-v)] if { src 127.0.0.1 }\n    http-request add-acl({DIR}/block.lst) %[req.hdr(x-b)] if { src 127.0.0.1 }\n    use_backend %[req.hdr(host),lower,map({DIR}/hosts.map,b)] if known\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n", "hosts.map": "a.example.com b\n", "block.lst": "evil.example.com\n"}, ""},
	{"set-map without its value", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    http-request set-map({DIR}/hosts.map) %[req.hdr(x-k)]\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: http-request set-map"},
	{"monitor-uri with monitor fail", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    monitor-uri /alive\n    acl maint req.hdr(x-maint) -m found\n    monitor fail if maint\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, ""},
	{"monitor fail with an unknown ACL", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    monitor-uri /alive\n    monitor fail if nosuch\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:9: error: monitor fail"},
	{"reqirep (removed in HAProxy 2.1)", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    reqirep ^Host:\\ a Host:\\ b\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: reqirep"},
	{"monitor-net (removed in HAProxy 2.1)", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    monitor-net 10.0.0.0/8\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:8: error: monitor-net"},
	{"server-template with an SRV name", map[string]string{"h.cfg": authorityDefaults + "resolvers r\n    nameserver ns 127.0.0.1:53\nfrontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server-template s 3 _http._tcp.example.local resolvers r\n"}, "h.cfg:12: error: server"},
	{"dispatch beside stick on", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    stick-table type ip size 10\n    dispatch 127.0.0.1:1\n    stick on src\n    server s1 127.0.0.1:2\n"}, "h.cfg:11: error: dispatch"},
	// server connections (core/proxy/dial_via.go)
	{"unix-domain servers", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 unix@{DIR}/php.sock check\n    server s2 {DIR}/v.sock\n    server s3 abns@vd-authority\n"}, ""},
	{"source and socks4", map[string]string{"h.cfg": authorityDefaults + "    source 127.0.0.2\nfrontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 source 127.0.0.3\n    server s2 127.0.0.1:2 socks4 127.0.0.1:1080 check-via-socks4 check\n"}, ""},
	{"source usesrc clientip and client", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    source 0.0.0.0 usesrc clientip\n    server s1 127.0.0.1:1\n    server s2 127.0.0.1:2 source 0.0.0.0 usesrc client\n"}, ""},
	{"usesrc hdr_ip stays refused", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    source 0.0.0.0 usesrc hdr_ip(x-forwarded-for)\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: source"},
	{"server usesrc without source", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1 usesrc client\n"}, "h.cfg:10: error: server usesrc"},
	{"socks4 to an IPv6 server", map[string]string{"h.cfg": authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 [::1]:1 socks4 127.0.0.1:1080\n"}, "h.cfg:10: error: server socks4"},
	{"default-path config", map[string]string{"h.cfg": "global\n    default-path config\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    errorfile 503 e.http\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n", "e.http": "HTTP/1.0 503 Service Unavailable\r\n\r\nsorry\n"}, ""},
	{"default-path config, file missing there", map[string]string{"h.cfg": "global\n    default-path config\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    errorfile 503 nosuch.http\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:10: error: errorfile"},
	{"default-path naming two directories", map[string]string{"h.cfg": "global\n    default-path config\n    default-path origin /\n" + authorityDefaults + "frontend f\n    bind 127.0.0.1:{PORT}\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"}, "h.cfg:3: error: default-path"},
	{"tune knobs and harmless options", map[string]string{"h.cfg": "global\n    master-worker\n    tune.http.maxhdr 64\n    tune.ssl.cachesize 20000\n    tune.maxaccept 64\n" + authorityDefaults + "    option http-no-delay\nfrontend f\n    bind 127.0.0.1:{PORT}\n    option http-ignore-probes\n    default_backend b\nbackend b\n    option prefer-last-server\n    server s1 127.0.0.1:1\n"}, ""},
}

// TestCheckIsTheAuthority runs every configuration of the table through
// `varde check` and `varde run` (a real process): check refuses exactly
// what run refuses, with the same first error line, and whatever check
// accepts, run starts and stops cleanly on SIGTERM.
func TestCheckIsTheAuthority(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde processes")
	}
	bin := testenv.VardeBinary(t)
	for _, tt := range authorityCases {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := writeCase(t, dir, tt.files)
			var out, errb bytes.Buffer
			code := dispatch(append([]string{"check"}, args...), &out, &errb)
			first := firstError(out.String(), dir)
			if tt.want == "" && code != 0 || tt.want != "" && (code != 1 || !strings.HasPrefix(first, tt.want)) {
				t.Fatalf("check: exit %d, first error %q; want %q\n%s%s", code, first, tt.want, out.String(), errb.String())
			}
			var haOut, haErr bytes.Buffer
			if haCode := dispatch(append([]string{"-c"}, args...), &haOut, &haErr); haCode != code {
				t.Fatalf("varde -c: exit %d, varde check: exit %d\n%s", haCode, code, haErr.String())
			}
			started, runErr := startAndStop(t, bin, dir, args)
			if started != (code == 0) {
				t.Fatalf("check exit %d but run started=%v:\n%s", code, started, runErr)
			}
			if !started && firstError(runErr, dir) != first {
				t.Errorf("run's first error %q differs from check's %q", firstError(runErr, dir), first)
			}
		})
	}
}

func writeCase(t *testing.T, dir string, files map[string]string) []string {
	t.Helper()
	port := fmt.Sprint(testenv.FreePort(t))
	var args []string
	for name, src := range files { // data files beside the configuration
		if name != "h.cfg" && name != "k.conf" {
			src = dataFile(t, src)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range []string{"h.cfg", "k.conf"} {
		src, ok := files[name]
		if !ok {
			continue
		}
		src = strings.NewReplacer("{PORT}", port, "{DIR}", dir).Replace(src)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-f", p)
	}
	return args
}

var errorLine = regexp.MustCompile(`(?m)^(\S+: error: .*)$`)

// firstError returns the first error line with dir cut from paths.
func firstError(out, dir string) string {
	m := errorLine.FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], dir+"/", "")
}

// startAndStop runs varde until it says it is running (then stops it with
// SIGTERM and expects exit 0) or exits on its own (a refusal).
func startAndStop(t *testing.T, bin, dir string, args []string) (started bool, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run"}, args...)...)
	cmd.Dir = dir
	var eb syncBuffer
	cmd.Stderr = &eb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.After(20 * time.Second)
	for {
		select {
		case err := <-done:
			if err == nil {
				t.Fatalf("run exited 0 without a signal:\n%s", eb.String())
			}
			return false, eb.String()
		case <-deadline:
			t.Fatalf("run neither started nor exited in 20s:\n%s", eb.String())
		case <-time.After(50 * time.Millisecond):
		}
		if strings.Contains(eb.String(), "varde running") {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run did not stop cleanly: %v\n%s", err, eb.String())
		}
	case <-time.After(20 * time.Second):
		t.Errorf("run did not stop in 20s after SIGTERM:\n%s", eb.String())
	}
	return true, eb.String()
}

// syncBuffer is a bytes.Buffer safe for the process's writer goroutine
// and the test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCheckLeavesNothing builds and drops a generation 200 times, as
// repeated `varde check` runs in one process (and, later, refused reloads)
// would: no file descriptor or goroutine may stay behind, and nothing is
// created on disk.
func TestCheckLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	args := writeCase(t, dir, authorityCases[1].files)
	files := []string{args[1]}
	build := func() {
		g, d := generation.Load(files, func(string) string { return "" }, generation.Options{})
		if d.HasErrors() {
			t.Fatal(d.Err())
		}
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
	}
	build() // first use of lazily started runtime machinery
	fds, gs := openFDs(t), runtime.NumGoroutine()
	for range 200 {
		build()
	}
	if n := openFDs(t); n > fds {
		t.Errorf("open descriptors grew from %d to %d over 200 generations", fds, n)
	}
	if n := runtime.NumGoroutine(); n > gs {
		t.Errorf("goroutines grew from %d to %d over 200 generations", gs, n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("check created files: %v", entries)
	}
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd on this system")
	}
	return len(ents)
}
