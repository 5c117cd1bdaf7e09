package logpipe_test

import (
	"strings"
	"testing"
)

// var() in log-format reads the variables as the transaction ended: txn.
// and sess. ones, res. ones set while the response was processed; req.
// ones are gone by then, even for a request a rule denied (its answer went
// through the after-response stage), as in HAProxy 2.6.
func TestLogFormatVarsMatchHAProxy(t *testing.T) {
	extra := `    http-request set-var(txn.a) path
    http-request set-var(txn.n) int(41)
    http-request set-var(req.r) str(req)
    http-request set-var(sess.c) var(sess.c,0),add(1)
    http-request set-var(txn.ip) src
    http-response set-var(res.s) status
    http-request deny if { path /deny }
`
	got, want := formatBoth(t, `MARK|%[var(txn.a)]|<%[var(req.r)]>|<%[var(res.s)]>|%[var(sess.c)]|%[var(txn.n),add(1)]|%{+Q}[var(txn.a)]|%[var(txn.ip)]|<%[var(txn.none)]>|%[var(txn.none,dflt)]|`, extra,
		[]string{"/a", "/b?x=1", "/deny"}, nil)
	if len(want) != 3 || !strings.HasPrefix(want[0], "MARK|/a|<->|<200>|") || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("varde:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
