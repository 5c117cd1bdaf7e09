package tcpcheck

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/health"
)

// rulesOf parses `tcp-check` lines the way varde check does.
func rulesOf(t testing.TB, lines string) []health.TCPCheckRule {
	t.Helper()
	src := "backend b\n    option tcp-check\n" + lines + "\n    server s 127.0.0.1:1 check\n"
	d := &diag.List{}
	c := config.Parse("t.cfg", []byte(src), func(string) string { return "" }, d)
	if d.HasErrors() {
		t.Fatalf("parse: %v", d.Items())
	}
	var out []health.TCPCheckRule
	for _, r := range c.Proxies[0].TCPCheck {
		out = append(out, r.TCPCheckRule)
	}
	return out
}

func check(t *testing.T, p *Probe, addr string) (st, info string, code int) {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	r := p.Check(ctx, health.Target{Addr: ap, Timeout: 700 * time.Millisecond})
	if r.OK != okStatus(r.Status) {
		t.Errorf("OK=%v for status %s", r.OK, r.Status)
	}
	return r.Status, r.Info, r.Code
}

// TestRules runs rule sets against fake servers; the expected statuses and
// texts are HAProxy 2.6.12's (the differential test compares the shared
// cases with haproxy itself).
func TestRules(t *testing.T) {
	redisRole := `    tcp-check send PING\r\n
    tcp-check expect string +PONG
    tcp-check send info\ replication\r\n
    tcp-check expect string role:master
    tcp-check send QUIT\r\n
    tcp-check expect string +OK`
	cases := []struct {
		name, lines string
		b           *behaviour
		status      string
		info        string
	}{
		{"redis master", redisRole, &redisMaster, "L7OK", "(tcp-check)"},
		{"redis replica times out", redisRole, &redisReplica, "L7TOUT", " at step 4 of tcp-check (expect string 'role:master')"},
		{"empty response", redisRole, &closerServer, "L7RSP", "TCPCHK got an empty response at step 2"},
		{"reset", redisRole, &resetServer, "SOCKERR", "Connection reset by peer at step 2 of tcp-check (expect string '+PONG')"},
		{"refused", redisRole, nil, "L4CON", "Connection refused at initial connection step of tcp-check"},
		{"min-recv ends the wait", "    tcp-check send PING\\r\\n\n    tcp-check expect min-recv 4 string +PONG", &redisLoading, "L7RSP", "TCPCHK did not match content '+PONG' at step 2"},
		{"error-status and on-error", "    tcp-check send PING\\r\\n\n    tcp-check expect min-recv 1 error-status L7STS on-error \"no pong\" string +PONG", &redisLoading, "L7STS", "no pong"},
		{"negated match", "    tcp-check send PING\\r\\n\n    tcp-check expect ! rstring ^-", &redisLoading, "L7RSP", "TCPCHK matched unwanted content (regex) at step 2"},
		{"binary", "    tcp-check send-binary 50494e470d0a\n    tcp-check expect binary 2b504f4e47", &redisMaster, "L7OK", "(tcp-check)"},
		{"rbinary", "    tcp-check send PING\\r\\n\n    tcp-check expect rbinary ^2B504F", &redisMaster, "L7OK", "(tcp-check)"},
		{"ok-status and on-success", "    tcp-check send PING\\r\\n\n    tcp-check expect ok-status L7OKC on-success pong string +PONG", &redisMaster, "L7OKC", "pong"},
		{"comment", "    tcp-check send PING\\r\\n\n    tcp-check comment ping\n    tcp-check expect min-recv 1 string +PONG", &redisLoading, "L7RSP", "TCPCHK did not match content '+PONG' at step 3 comment: ping"},
		{"a comment names the run of rules after it", "    tcp-check comment ping\n    tcp-check send PING\\r\\n\n    tcp-check expect min-recv 1 string +PONG", &redisLoading, "L7RSP", "TCPCHK did not match content '+PONG' at step 3"},
		{"last rule a send", "    tcp-check send PING\\r\\n", &redisMaster, "L7OK", "(tcp-check)"},
		{"only connect", "    tcp-check connect", &redisMaster, "L4OK", "(tcp-check)"},
		{"no rules", "", &redisMaster, "L4OK", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(rulesOf(t, tc.lines), false)
			if err != nil {
				t.Fatal(err)
			}
			addr := "127.0.0.1:1"
			if tc.b != nil {
				addr = serve(t, *tc.b)
			}
			st, info, _ := check(t, p, addr)
			if st != tc.status || info != tc.info {
				t.Errorf("got %s %q, want %s %q", st, info, tc.status, tc.info)
			}
		})
	}
}

// TestProtocols runs the protocol checks against fake servers.
func TestProtocols(t *testing.T) {
	cases := []struct {
		option string
		args   []string
		b      behaviour
		status string
		code   int
		info   string
	}{
		{"redis-check", nil, redisMaster, "L7OK", 0, "Redis server is ok"},
		{"redis-check", nil, behaviour{turns: []turn{{"PING", "-ERR unknown\r\n"}}, close: true}, "L7STS", 0, "-ERR unknown"},
		{"smtpchk", []string{"EHLO", "lb"}, smtpGood, "L7OK", 221, "2.0.0 Bye"},
		{"smtpchk", nil, smtpBusy, "L7STS", 421, "mail.example.com too busy"},
		{"pgsql-check", []string{"user", "u"}, pgsqlTrust, "L7OK", 0, "PostgreSQL server is ok"},
		{"pgsql-check", []string{"user", "u"}, pgsqlNoUser, "L7RSP", 0, "FATAL"},
		{"mysql-check", nil, mysqlReady, "L7OK", 0, ""},
		{"mysql-check", nil, mysqlBlocked, "L7STS", 1129, "Host '127.0.0.1' is blocked because of many connection errors"},
		{"mysql-check", []string{"user", "haproxy"}, behaviour{turns: []turn{{"", mysqlHandshake("8.0")}, {"haproxy\x00", "\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00"}}}, "L7OK", 0, ""},
		{"mysql-check", []string{"user", "haproxy", "pre-41"}, behaviour{turns: []turn{{"", mysqlHandshake("5.0")}, {"haproxy\x00", mysqlError(1045, "Access denied")}}, close: true}, "L7STS", 1045, "Access denied"},
		{"ldap-check", nil, ldapOK, "L7OK", 0, ""},
		{"ldap-check", nil, ldapInvalidCreds, "L7STS", 49, "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"},
		{"ldap-check", nil, smtpGood, "L7RSP", 0, "Not LDAPv3 protocol"},
	}
	for _, tc := range cases {
		t.Run(tc.option+" "+strings.Join(tc.args, " ")+" "+tc.status, func(t *testing.T) {
			p, err := Protocol(tc.option, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			st, info, code := check(t, p, serve(t, tc.b))
			if st != tc.status || info != tc.info || code != tc.code {
				t.Errorf("got %s %d %q, want %s %d %q", st, code, info, tc.status, tc.code, tc.info)
			}
		})
	}
}

// TestDefaultsRulesReplaced: a proxy's own tcp-check lines replace the
// rules it inherited from defaults (HAProxy keeps one rule set per proxy).
func TestDefaultsRulesReplaced(t *testing.T) {
	src := `defaults
    option tcp-check
    tcp-check send A\r\n
    tcp-check expect string A
backend own
    tcp-check send B\r\n
    server s 127.0.0.1:1 check
backend inherits
    server s 127.0.0.1:1 check
`
	d := &diag.List{}
	c := config.Parse("t.cfg", []byte(src), func(string) string { return "" }, d)
	if d.HasErrors() {
		t.Fatal(d.Items())
	}
	own, inh := c.Proxies[0].TCPCheck, c.Proxies[1].TCPCheck
	if len(own) != 1 || own[0].Data != "B\r\n" || own[0].Index != 0 {
		t.Errorf("own rules %+v", own)
	}
	if len(inh) != 2 || inh[0].Data != "A\r\n" {
		t.Errorf("inherited rules %+v", inh)
	}
}
