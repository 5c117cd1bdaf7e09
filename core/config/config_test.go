package config

import (
	"errors"
	"fmt"
	"os/exec"

	"github.com/varde-lb/varde/core/testenv"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/diag"
)

const okDefaults = `
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
`

// load parses and validates one config string.
func load(t *testing.T, src string) (*Config, *diag.List) {
	t.Helper()
	d := &diag.List{}
	c := Parse("t.cfg", []byte(src), nil, d)
	c.Validate(d)
	return c, d
}

func errorsOf(d *diag.List) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, it := range d.Items() {
		if it.Severity == diag.Error {
			out = append(out, it)
		}
	}
	return out
}

func warningsOf(d *diag.List) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, it := range d.Items() {
		if it.Severity == diag.Warning && !strings.HasPrefix(it.Message, "parsed, not yet enforced") {
			out = append(out, it)
		}
	}
	return out
}

// TestErrorPaths covers every validation error the foundation issue lists:
// each case must yield exactly one error, on the given line, for the given
// keyword, with the message and hint fragments.
var errorCases = []struct {
	name    string
	src     string
	line    int
	keyword string
	msg     string
	hint    string
	// haproxyOK marks what `haproxy -c` accepts although varde refuses it:
	// a keyword varde does not support, or a check varde adds.
	haproxyOK bool
}{
	{"unknown keyword", "frontend f\n bind :80\n defualt_backend b\n", 3, "defualt_backend", "unknown keyword", "default_backend", false},
	{"unknown option", "backend b\n option redispach\n", 2, "option redispach", "unknown keyword", "redispatch", false},
	{"keyword of another section", "frontend f\n bind :80\n balanse roundrobin\n", 3, "balanse", "unknown keyword", "did you mean `balance`? it is valid in defaults, backend, listen sections", false},
	{"unsupported keyword", "backend b\n option transparent\n", 2, "option transparent", "does not support", "not available", true},
	{"unsupported section", "peers p\n peer a 1.2.3.4:1024\n", 1, "peers", "does not support", "stick tables", true},
	{"unsupported option", "backend b\n option spop-check\n", 2, "option spop-check", "does not support", "TCP check", true},
	{"unsupported action", "frontend f\n bind :80\n http-request set-nice 10\n", 3, "http-request set-nice", "not supported by varde yet", "docs/config.md", true},
	{"unsupported server option", "backend b\n server a 1.2.3.4:80 track b/c\n", 2, "server track", "does not support", "own check", false},
	{"unknown resolvers", "backend b\n server a a.example:80 resolvers dns\n", 2, "server resolvers", "unable to find required resolvers", "declare", false},
	{"misplaced keyword", "frontend f\n bind :80\n server s 1.2.3.4:80\n", 3, "server", "not allowed in a frontend", "backend", false},
	{"misplaced in defaults", "defaults\n acl x path /\n", 2, "acl", "not allowed in a defaults", "frontend", false},
	{"outside section", "mode http\n", 1, "mode", "outside of any section", "global", false},
	{"duplicate proxy", "backend b\nbackend b\n", 2, "backend", "duplicate proxy name", "other backend is at t.cfg:1", false},
	{"listen clashes with backend", "backend b\nlisten b\n bind :80\n", 2, "listen", "duplicate proxy name", "", true},
	{"missing proxy name", "backend\n", 1, "backend", "needs a name", "", false},
	{"bad proxy name", "backend a/b\n", 1, "backend", "invalid backend name", "", false},
	{"from unknown defaults", "defaults base\nbackend b from bsae\n", 2, "backend", `defaults section "bsae" not found`, "base", false},
	{"duplicate server", "backend b\n server a 1.2.3.4:80\n server a 1.2.3.5:80\n", 3, "server", "duplicate server name", "t.cfg:2", false},
	{"missing default_backend", okDefaults + "frontend f\n bind :80\n default_backend nope\n", 9, "default_backend", `backend "nope" not found`, "declare", false},
	{"missing use_backend", okDefaults + "frontend f\n bind :80\n use_backend apii if TRUE\nbackend api\n", 9, "use_backend", `backend "apii" not found`, "api", false},
	{"backend is a frontend", okDefaults + "frontend f\n bind :80\n default_backend g\nfrontend g\n bind :81\n", 9, "default_backend", "not found", "is a frontend", false},
	{"unknown acl", okDefaults + "frontend f\n bind :80\n acl is_a path_beg /a\n use_backend b if is_b\nbackend b\n", 10, "use_backend", `unknown ACL "is_b"`, "is_a", false},
	{"acl used before declared", okDefaults + "frontend f\n bind :80\n use_backend b if is_a\n acl is_a path /a\nbackend b\n", 9, "use_backend", "used before it is declared", "move", false},
	{"unknown acl in http-request", okDefaults + "frontend f\n bind :80\n http-request deny if nope\n", 9, "http-request deny", "unknown ACL", "", false},
	{"unknown acl criterion", "backend f\n acl x pathbeg /a\n", 2, "acl", "unknown ACL criterion", "path_beg", false},
	{"acl bad network", "backend f\n acl x src 10.0.0.300\n", 2, "acl", "invalid IP address", "network", false},
	{"unterminated anon acl", "frontend f\n bind :80\n use_backend b if { path /a\n", 3, "use_backend", "unterminated '{'", "", false},
	{"bad bind address", "frontend f\n bind 1.2.3:80\n", 2, "bind", "neither an IP", "", true},
	{"bind without port", "frontend f\n bind 10.0.0.1\n", 2, "bind", "missing port", "ADDR:PORT", false},
	{"bad port", "frontend f\n bind :0\n", 2, "bind", "invalid port", "", false},
	{"bad server address", "backend b\n server a 300.1.1.1:80\n", 2, "server", "invalid address", "", false},
	{"bad server port", "backend b\n server a 10.0.0.1:99999\n", 2, "server", "invalid port", "", false},
	{"bad duration", "defaults\n timeout client 10y\n", 2, "timeout client", "invalid time unit", "e.g. 5s", false},
	{"bad duration number", "defaults\n timeout client abc\n", 2, "timeout client", "invalid time value", "", false},
	{"timer overflow", "defaults\n timeout client 25d\n", 2, "timeout client", "timer overflow", "24d", false},
	{"bad size", "global\n tune.bufsize 16q\n", 2, "tune.bufsize", "invalid size unit", "k, m or g", false},
	{"nbthread over 64", "global\n nbthread 100\n", 2, "nbthread", "out of range 1..64", "", false},
	{"bad log rotate size", "global\n log file@/tmp/a anonymize none rotate 1t local0\n", 2, "log rotate", "invalid size", "", false},
	{"weight too high", "backend b\n server a 1.2.3.4:80 weight 257\n", 2, "server weight", "out of range 0..256", "", false},
	{"weight negative", "backend b\n server a 1.2.3.4:80 weight -1\n", 2, "server weight", "out of range", "", false},
	{"duplicate cookie", "backend b\n mode http\n cookie S insert\n server a 1.2.3.4:80 cookie x\n server b 1.2.3.5:80 cookie x\n", 5, "server cookie", "duplicate cookie value", "a uses it", true},
	{"same bind twice", okDefaults + "frontend f\n bind 127.0.0.1:80\nfrontend g\n bind 127.0.0.1:80\n", 10, "bind", "bind the same address", `"f" already binds`, true},
	{"same bind wildcard spellings", okDefaults + "frontend f\n bind *:80\nfrontend g\n bind 0.0.0.0:80\n", 10, "bind", "bind the same address", "", true},
	{"mode mismatch http->tcp", "frontend f\n mode http\n bind :80\n default_backend b\nbackend b\n mode tcp\n", 4, "default_backend", "mode mismatch", "mode http", false},

	{"bad mode", "defaults\n mode udp\n", 2, "mode", "invalid mode", "http or tcp", false},
	{"bad balance", "backend b\n balance round-robin\n", 2, "balance", "unknown balance algorithm", "roundrobin", false},
	{"balance hdr without name", "backend b\n balance hdr\n", 2, "balance", "requires an http header field name", "", false},
	{"balance uri bad arg", "backend b\n balance uri deep 3\n", 2, "balance", "only accepts", "len N", false},
	{"bad hash factor", "backend b\n hash-balance-factor 90\n", 2, "hash-balance-factor", "must be 0 or above 100", "", false},
	{"cookie bad option", "backend b\n cookie S insert nocahe\n", 2, "cookie", "unknown cookie option", "nocache", false},
	{"cookie preserve without insert", "backend b\n cookie S rewrite preserve\n", 2, "cookie", "requires insert or indirect", "indirect", false},
	{"unknown bind option", "frontend f\n bind :443 sl\n", 2, "bind", "unknown bind option", "ssl", false},
	{"errorfile bad code", "defaults\n errorfile 302 /x\n", 2, "errorfile", "cannot have an errorfile", "", false},
	{"log bad facility", "global\n log 127.0.0.1 local8\n", 2, "log", "unknown log facility", "local0", false},
	{"log no facility", "global\n log 127.0.0.1\n", 2, "log", "without a facility", "", false},
	{"log global in global", "global\n log global\n", 2, "log", "only valid in a proxy", "", false},
	{"log bad anonymize", "global\n log file@/tmp/x anonymize ip 33,48 local0\n", 2, "log anonymize", "invalid anonymize ip", "24,48", false},
	{"log ring unsupported", "global\n log ring@buf local0\n", 2, "log", "not supported", "", true},
	{"stats socket bad level", "global\n stats socket /tmp/s level root\n", 2, "stats socket", "invalid level", "admin", false},
	{"on-error bad", "backend b\n server a 1.2.3.4:80 on-error crash\n", 2, "server on-error", "invalid on-error", "mark-down", false},
	{"observe bad", "backend b\n server a 1.2.3.4:80 observe layer3\n", 2, "server observe", "invalid observe", "", false},
	{"agent-check without port", "backend b\n server a 1.2.3.4:80 agent-check\n", 2, "server agent-check", "needs agent-port", "", false},
	{"check without port", "backend b\n server a 1.2.3.4 check\n", 2, "server check", "no port to check", "", false},
	{"http-check bad match", "backend b\n http-check expect state 200\n", 2, "http-check expect", "unknown http-check expect match", "status", false},
	{"use-service other", "frontend f\n bind :80\n http-request use-service other-svc\n", 3, "http-request use-service", "not supported", "prometheus-exporter", false},
	{"policy bad type", "backend b\n policy /etc/x.py\n", 2, "policy", "unknown type", ".lua", false},
	{"tune.log.on-full bad", "global\n tune.log.on-full wait\n", 2, "tune.log.on-full", "invalid value", "drop or block", false},
	{"unknown tune", "global\n tune.foo 1\n", 2, "tune.foo", "unknown keyword", "", false},
	{"HAProxy tune varde lacks", "global\n tune.pool-low-fd-ratio 20\n", 2, "tune.pool-low-fd-ratio", "HAProxy keyword not supported by varde yet", "docs/config.md", true},
	{"HAProxy global keyword varde lacks", "global\n maxsslrate 10\n", 2, "maxsslrate", "HAProxy keyword not supported by varde yet", "", true},
	{"HAProxy option varde lacks", "frontend f\n option httpslog\n", 2, "option httpslog", "HAProxy keyword not supported by varde yet", "", true},
	{"HAProxy timeout varde lacks", "backend b\n timeout check 1s\n timeout tunnel 1s\n srvtcpka-cnt 3\n", 4, "srvtcpka-cnt", "HAProxy keyword not supported by varde yet", "", true},
	{"HAProxy http-check action varde lacks", "backend b\n http-check set-var(check.x) str(a)\n", 2, "http-check set-var", "not supported by varde yet", "", true},
	{"HAProxy action with an alternative", "frontend f\n bind :80\n http-request silent-drop\n", 3, "http-request silent-drop", "not supported by varde yet", "use deny", true},
	{"HAProxy action varde lacks", "frontend f\n bind :80\n http-request set-tos 0\n", 3, "http-request set-tos", "not supported by varde yet", "", true},
	{"typo is unknown, not unsupported", "frontend f\n optoin httplog\n", 2, "optoin", "unknown keyword", "did you mean `option`?", false},
	{"quoted keyword", "frontend f\n \"option httplog\"\n", 2, "option httplog", "unknown keyword \"option httplog\" in frontend section", "write option httplog without quotes", false},
	{"stats socket in proxy", "listen s\n bind :80\n stats socket /x\n", 3, "stats socket", "not allowed", "global", false},
	{"duplicate stats socket", "global\n stats socket /tmp/s\n stats socket /tmp/s\n", 3, "stats socket", "declared twice", "", true},
	{"force-persist without cond", "backend b\n force-persist\n", 2, "force-persist", "needs a condition", "", false},
	{"no before non-option", "backend b\n no balance\n", 2, "balance", "not supported", "", false},
	{"stats show-node bad name", "listen s\n bind :80\n stats show-node lb/1\n", 3, "stats show-node", "invalid node name", "letters", false},
}

func TestErrorPaths(t *testing.T) {
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			_, d := load(t, tt.src)
			errs := withoutRefusals(errorsOf(d))
			if len(errs) != 1 {
				t.Fatalf("want 1 error, got %d:\n%s", len(errs), render(d))
			}
			e := errs[0]
			if e.Pos.Line != tt.line || e.Keyword != tt.keyword || !strings.Contains(e.Message, tt.msg) || !strings.Contains(e.Hint, tt.hint) {
				t.Errorf("got %s\nwant line %d keyword %q message ~%q hint ~%q", e, tt.line, tt.keyword, tt.msg, tt.hint)
			}
			if e.Hint == "" {
				t.Errorf("error without a hint: %s", e)
			}
		})
	}
}

func render(d *diag.List) string {
	var b strings.Builder
	for _, it := range d.Items() {
		b.WriteString(it.String() + "\n")
	}
	return b.String()
}

// TestWarnings covers what is accepted with a warning.
func TestWarnings(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		keyword string
		msg     string
		hint    string
	}{
		{"daemon", "global\n daemon\n", "daemon", "foreground", "systemd"},
		{"chroot", "global\n chroot /var/empty\n", "chroot", "does not chroot", "ProtectSystem"},
		{"contimeout", "defaults\n contimeout 5000\n", "contimeout", `"timeout connect"`, "timeout connect VALUE"},
		{"clitimeout", "defaults\n clitimeout 5000\n", "clitimeout", `"timeout client"`, "timeout client"},
		{"srvtimeout", "defaults\n srvtimeout 5000\n", "srvtimeout", `"timeout server"`, "timeout server"},
		{"file log without anonymize", "global\n log file@/var/log/a.log local0\n", "log", "raw client IP", "anonymize ip 24,48"},
		{"http rule in tcp mode", "frontend f\n bind :80\n timeout client 1s\n http-request deny\n", "http-request deny", "needs mode http", "mode http"},
		{"server cookie without backend cookie", "backend b\n server a 1.2.3.4:80 cookie x\n", "server cookie", "no cookie directive", "insert"},
		{"missing timeouts", "frontend f\n bind :80\n", "timeout client", "no client timeout", "timeout client"},
		{"env unset", `global` + "\n pidfile \"${NOPE}\"\n", "", "is empty or not set", "export"},
		{"frontend keyword in backend", "backend b\n bind :80\n", "bind", `ignored: backend "b" has no frontend capability`, "move it"},
		{"backend keyword in frontend", "frontend f\n bind :80\n timeout client 1s\n balance source\n", "balance", "no backend capability", "backend or listen"},
		{"frontend without bind", "frontend f\n mode http\n timeout client 1s\n", "frontend", "has no bind line", "bind *:80"},
		{"cookie nocache without insert", "backend b\n mode http\n cookie S rewrite nocache\n", "cookie", "no effect without insert", "add insert"},
		{"log global without global logs", okDefaults + "frontend f\n bind :80\n log global\n", "log", "no log target", "global section"},
		{"stats show-desc without text", okDefaults + "frontend f\n bind :80\n stats show-desc\n", "stats show-desc", "global description", "stats show-desc TEXT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, d := load(t, tt.src)
			if d.HasErrors() {
				t.Fatalf("unexpected errors:\n%s", render(d))
			}
			for _, w := range warningsOf(d) {
				if w.Keyword == tt.keyword && strings.Contains(w.Message, tt.msg) && strings.Contains(w.Hint, tt.hint) {
					return
				}
			}
			t.Errorf("no warning %q ~%q (hint ~%q) in:\n%s", tt.keyword, tt.msg, tt.hint, render(d))
		})
	}
}

// A configuration with three unrelated mistakes yields three error lines
// in the documented format, each with a hint.
func TestThreeMistakes(t *testing.T) {
	set, d := LoadFiles([]string{"testdata/three.cfg"}, nil)
	if set.HAProxy == nil {
		t.Fatal("no config")
	}
	var lines []string
	for _, e := range errorsOf(d) {
		lines = append(lines, e.String())
	}
	want := []string{
		`testdata/three.cfg:10: error: defualt_backend: unknown keyword "defualt_backend" in frontend section (hint: did you mean ` + "`default_backend`" + `?)`,
		`testdata/three.cfg:14: error: server weight: 300 is out of range 0..256 (hint: write a whole number)`,
		`testdata/three.cfg:15: error: server inter: invalid time unit "x" in "5x" (use us, ms, s, m, h or d) (hint: a number with an optional unit: us, ms, s, m, h, d (default ms), e.g. 5s)`,
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestNotEnforcedWarning(t *testing.T) {
	k := LookupKeyword("server slowstart")
	if k == nil {
		t.Fatal("server slowstart not in the table")
	}
	saved := k.Enforced
	t.Cleanup(func() { k.Enforced = saved })
	src := "backend b\n server a 1.2.3.4:80 slowstart 10s\n server b 1.2.3.5:80 slowstart 10s\n description hi\n"
	k.Enforced = false
	_, d := load(t, src)
	var got []diag.Diagnostic
	for _, it := range d.Items() {
		if strings.HasPrefix(it.Message, NotEnforcedMessage) {
			got = append(got, it)
		}
	}
	want := "parsed, not yet enforced: server slowstart (t.cfg:2, 2 uses), description (t.cfg:4)"
	if len(got) != 1 || got[0].Message != want || got[0].Pos.Line != 2 || got[0].Severity != diag.Warning {
		t.Fatalf("want one grouped warning %q at line 2, got:\n%s", want, render(d))
	}
	k.Enforced = true
	_, d = load(t, src)
	for _, it := range d.Items() {
		if strings.Contains(it.Message, "slowstart") {
			t.Errorf("enforced keyword still listed: %s", it)
		}
	}
}

// TestRefusedKeywords: a keyword whose silent absence would weaken security
// or change routing is an error at its line, never a warning; one line
// gets one error per reason.
func TestRefusedKeywords(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
		keyword   string
		reason    string
	}{
		// The keywords of issue 14 are built; these remain refused.
		{"bind maxconn", "frontend f\n bind 127.0.0.1:80 maxconn 10\n", 2, "bind maxconn", ""},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, d := load(t, tt.src)
			var got []diag.Diagnostic
			for _, e := range errorsOf(d) {
				if isRefusal(e.Message) {
					got = append(got, e)
				}
			}
			if len(got) != 1 {
				t.Fatalf("want 1 refusal, got:\n%s", render(d))
			}
			e := got[0]
			if e.Pos.Line != tt.line || e.Keyword != tt.keyword || (tt.reason != "" && e.Message != tt.reason) || e.Hint == "" {
				t.Errorf("got %s\nwant line %d keyword %q reason %q", e, tt.line, tt.keyword, tt.reason)
			}
		})
	}
}

func isRefusal(msg string) bool {
	for _, k := range Keywords {
		if k.Refused != "" && k.Refused == msg {
			return true
		}
	}
	return false
}

func withoutRefusals(in []diag.Diagnostic) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, e := range in {
		if !isRefusal(e.Message) {
			out = append(out, e)
		}
	}
	return out
}

// The keyword table must be consistent: unique names, a section for each,
// and every keyword the parser records must be in it.
func TestKeywordTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keywords {
		if seen[k.Name] {
			t.Errorf("duplicate keyword %q", k.Name)
		}
		seen[k.Name] = true
		if k.Sections == 0 {
			t.Errorf("keyword %q has no section", k.Name)
		}
		if _, bad := Unsupported[k.Name]; bad {
			t.Errorf("keyword %q is both supported and refused", k.Name)
		}
	}
	for opt := range serverOptionArgs {
		name := "server " + strings.TrimPrefix(opt, "no-")
		if !seen[name] && opt != "no-sslv3" {
			t.Errorf("server option %q has no table entry %q", opt, name)
		}
	}
	c, _ := LoadFiles([]string{"testdata/basic.cfg", "testdata/persist.cfg", "testdata/logs.cfg", "testdata/balance.cfg"}, nil)
	for _, u := range c.HAProxy.Uses {
		if LookupKeyword(u.Keyword) == nil {
			t.Errorf("use of %q at %s is not in the table", u.Keyword, u.Pos)
		}
	}
}

func TestDefaultsInheritance(t *testing.T) {
	c, d := load(t, `
defaults
    mode http
    timeout client 7s
    option httplog
    balance leastconn
backend a
    option redispatch
defaults named
    timeout client 9s
backend b
backend c from named
backend e
    balance source
defaults
backend f
`)
	if d.HasErrors() {
		t.Fatal(render(d))
	}
	a, b, cc, e, f := c.Backend("a"), c.Backend("b"), c.Backend("c"), c.Backend("e"), c.Backend("f")
	if a.Mode != "http" || a.Timeouts.Client != 7*time.Second || a.Option("httplog") == nil || a.Balance.Algorithm != "leastconn" || a.Option("redispatch") == nil {
		t.Errorf("a did not inherit the first defaults: %+v", a)
	}
	// A defaults section without `from` starts from HAProxy's defaults.
	if b.Mode != "" || b.Timeouts.Client != 9*time.Second || b.Option("httplog") != nil || b.Balance != nil {
		t.Errorf("b: want the named section only, got %+v", b)
	}
	if cc.From != "named" || cc.Timeouts.Client != 9*time.Second {
		t.Errorf("c: %+v", cc)
	}
	if e.Balance.Algorithm != "source" {
		t.Errorf("e balance %v", e.Balance)
	}
	if f.Timeouts.Client != 0 || f.Retries != DefaultRetries || f.EffectiveMode() != "tcp" {
		t.Errorf("f after an empty defaults: %+v", f)
	}
	// a's own option must not leak into the defaults section.
	if c.Defaults[0].Option("redispatch") != nil {
		t.Error("proxy option leaked into its defaults section")
	}
	// Balance args are copied, not shared.
	a.Balance.Algorithm = "first"
	if c.Defaults[0].Balance.Algorithm != "leastconn" {
		t.Error("balance spec shared between defaults and proxy")
	}
}

func TestListenIsFrontendAndBackend(t *testing.T) {
	c, d := load(t, okDefaults+"listen web 0.0.0.0:80,:::8080\n server a 10.0.0.1:80\n")
	if d.HasErrors() {
		t.Fatal(render(d))
	}
	f, b := c.Frontend("web"), c.Backend("web")
	if f == nil || f != b {
		t.Fatalf("listen should be the same proxy on both sides: %v %v", f, b)
	}
	want := []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:80"), netip.MustParseAddrPort("[::]:8080")}
	var got []netip.AddrPort
	for _, a := range f.Binds[0].Addrs {
		got = append(got, a.Addr)
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("binds (-want +got):\n%s", diff)
	}
}

func TestMultipleFilesAndDetect(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Names say nothing: syntax is detected by content.
	a := write("one", "global\n maxconn 10\ndefaults\n mode http\n timeout client 3s\n")
	k := write("two", "# keepalived\nvrrp_instance VI_1 {\n state MASTER\n interface lo\n virtual_router_id 7\n priority 100\n virtual_ipaddress {\n  192.0.2.1\n }\n}\n")
	b := write("three", "frontend f\n bind 127.0.0.1:1\n default_backend g\nbackend g\n timeout connect 1s\n timeout server 1s\n server s 127.0.0.1:2\n")
	set, d := LoadFiles([]string{a, k, b}, nil)
	if d.HasErrors() {
		t.Fatal(render(d))
	}
	if set.HAProxy.Global.MaxConn != 10 || set.HAProxy.Frontend("f").Timeouts.Client != 3*time.Second {
		t.Errorf("defaults from the first file not applied to the third")
	}
	if set.Keepalived == nil || len(set.Keepalived.Instances) != 1 {
		t.Errorf("keepalived file not loaded: %+v", set.Keepalived)
	}
	wantFiles := []FileInfo{{a, SyntaxHAProxy}, {k, SyntaxKeepalived}, {b, SyntaxHAProxy}}
	if diff := cmp.Diff(wantFiles, set.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	// A missing file is an error naming it, and the others still load.
	_, d = LoadFiles([]string{filepath.Join(dir, "nope"), a}, nil)
	errs := errorsOf(d)
	if len(errs) != 1 || errs[0].Pos.File != filepath.Join(dir, "nope") {
		t.Errorf("missing file: %s", render(d))
	}
	// keepalived only: no haproxy config in the set.
	set, _ = LoadFiles([]string{k}, nil)
	if set.HAProxy != nil {
		t.Errorf("keepalived-only set has a haproxy config")
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		src  string
		want Syntax
	}{
		{"global\n daemon\n", SyntaxHAProxy},
		{"global_defs {\n router_id a\n}\n", SyntaxKeepalived},
		{"# c\n\nvrrp_instance VI_1 {\n}\n", SyntaxKeepalived},
		{"vrrp_script chk {\n script x\n}\nvrrp_instance A {\n}\n", SyntaxKeepalived},
		{"frontend f\n bind :80\n", SyntaxHAProxy},
		{"listen x\n", SyntaxHAProxy},
		{"", SyntaxHAProxy},
		{"# only a comment with vrrp_instance X {\n", SyntaxHAProxy},
		{"include /etc/keepalived/conf.d/*.conf\n", SyntaxKeepalived},
		{"global\n  log 127.0.0.1 local0\ninclude x\n", SyntaxHAProxy},
	}
	for _, tt := range tests {
		if got := Detect([]byte(tt.src)); got != tt.want {
			t.Errorf("Detect(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestUnits(t *testing.T) {
	durs := map[string]time.Duration{"0": 0, "5000": 5 * time.Second, "10us": 10 * time.Microsecond, "10ms": 10 * time.Millisecond,
		"3s": 3 * time.Second, "2m": 2 * time.Minute, "1h": time.Hour, "30d": 30 * 24 * time.Hour}
	for in, want := range durs {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "s", "-1", "1.5s", "10 s", "5x", "99999999999999999999", "9999999999999d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	sizes := map[string]int64{"0": 0, "16384": 16384, "4k": 4096, "100m": 100 << 20, "2g": 2 << 30, "1M": 1 << 20}
	for in, want := range sizes {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "k", "1t", "1.5m", "-1"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

// A timer with characters after a valid unit keeps the value read so far
// and warns, as HAProxy 2.6's parse_time_err does ("1s[" is 1s); an
// unknown unit stays an error.
func TestTimerTrailingCharacters(t *testing.T) {
	tests := []struct {
		val  string
		want time.Duration
		warn bool
		bad  bool
	}{
		{"1s", time.Second, false, false},
		{"1s[", time.Second, true, false},
		{"2ms5", 2 * time.Millisecond, true, false},
		{"1mx", time.Minute, true, false},
		{"5x", 0, false, true},
		{"1u", 0, false, true},
	}
	for _, tc := range tests {
		cfg, d := load(t, "defaults\n  mode http\n  timeout client "+tc.val+"\n")
		if got := len(errorsOf(d)) > 0; got != tc.bad {
			t.Errorf("%s: errors %v, want error %v", tc.val, errorsOf(d), tc.bad)
			continue
		}
		if got := len(warningsOf(d)) > 0; got != tc.warn {
			t.Errorf("%s: warnings %v, want warning %v", tc.val, warningsOf(d), tc.warn)
		}
		if !tc.bad && cfg.Defaults[0].Timeouts.Client != tc.want {
			t.Errorf("%s: timeout client %v, want %v", tc.val, cfg.Defaults[0].Timeouts.Client, tc.want)
		}
	}
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in       string
		needPort bool
		want     Address
		bad      bool
	}{
		{"10.0.0.1:80", true, Address{Raw: "10.0.0.1:80", Addr: netip.MustParseAddrPort("10.0.0.1:80"), Port: 80}, false},
		{"*:80", true, Address{Raw: "*:80", Addr: netip.MustParseAddrPort("0.0.0.0:80"), Port: 80, Wildcard: true}, false},
		{":80", true, Address{Raw: ":80", Addr: netip.MustParseAddrPort("0.0.0.0:80"), Port: 80, Wildcard: true}, false},
		{":::80", true, Address{Raw: ":::80", Addr: netip.MustParseAddrPort("[::]:80"), Port: 80, Wildcard: true}, false},
		{"[2001:db8::1]:443", true, Address{Raw: "[2001:db8::1]:443", Addr: netip.MustParseAddrPort("[2001:db8::1]:443"), Port: 443}, false},
		{"2001:db8::1:443", true, Address{Raw: "2001:db8::1:443", Addr: netip.MustParseAddrPort("[2001:db8::1]:443"), Port: 443}, false},
		{"ipv4@127.0.0.1:9000", true, Address{Raw: "ipv4@127.0.0.1:9000", Addr: netip.MustParseAddrPort("127.0.0.1:9000"), Port: 9000}, false},
		{"web.example.com:8080", false, Address{Raw: "web.example.com:8080", Host: "web.example.com", Port: 8080}, false},
		{"10.0.0.1", false, Address{Raw: "10.0.0.1", Addr: netip.MustParseAddrPort("10.0.0.1:0")}, false},
		{"2001:db8::1", false, Address{Raw: "2001:db8::1", Addr: netip.MustParseAddrPort("[2001:db8::1]:0")}, false},
		{":8000-8010", true, Address{Raw: ":8000-8010", Addr: netip.MustParseAddrPort("0.0.0.0:8000"), Port: 8000, PortEnd: 8010, Wildcard: true}, false},
		{"10.0.0.1", true, Address{}, true},
		{"10.0.0.1:0", true, Address{}, true},
		{"10.0.0.1:65536", true, Address{}, true},
		{"1.2.3.4.5:80", true, Address{}, true},
		{"bad_host!:80", false, Address{}, true},
		{"[::1:80", true, Address{}, true},
		{":90-80", true, Address{}, true},
	}
	for _, tt := range tests {
		got, err := ParseAddress(tt.in, tt.needPort)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseAddress(%q) accepted: %+v", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
			t.Errorf("ParseAddress(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestNearest(t *testing.T) {
	cands := []string{"default_backend", "balance", "bind", "server"}
	for in, want := range map[string]string{"defualt_backend": "default_backend", "balnce": "balance", "bnd": "bind", "xyzzy": "", "srv": ""} {
		if got := nearest(in, cands); got != want {
			t.Errorf("nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every helper-facing keyword from issues 4 and 5 parses into the model.
func TestIssue4And5Keywords(t *testing.T) {
	c, d := load(t, `
global
    stats socket /run/varde/admin.sock mode 600 level admin
    stats socket 127.0.0.1:9999 level operator
    tune.log.batch 32
    tune.log.flush 20ms
    tune.log.on-full drop
    log udp@127.0.0.1:514 len 2048 format rfc3164 local0 info
    log file@/var/log/a.log anonymize hmac /etc/k rotate 24h retention 30d rotate 10m keep 3 compress rotate-every 1h local1
defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend f
    bind 127.0.0.1:1
    option jsonlog
    http-request use-service prometheus-exporter if { path /metrics }
    default_backend b
backend b
    option persist
    force-persist if { src 10.0.0.0/8 }
    ignore-persist if { path_end .css }
    server s 127.0.0.1:2 check observe layer7 error-limit 5 on-error fail-check agent-check agent-port 9000 agent-inter 3s
`)
	if d.HasErrors() {
		t.Fatal(render(d))
	}
	g := c.Global
	if len(g.StatsSockets) != 2 || g.StatsSockets[0].Mode != 0o600 || g.StatsSockets[0].Level != "admin" || g.StatsSockets[1].Addr == nil {
		t.Errorf("stats sockets: %+v", g.StatsSockets)
	}
	if g.TuneLog != (LogTuning{Batch: 32, Flush: 20 * time.Millisecond, OnFull: "drop"}) {
		t.Errorf("tune.log: %+v", g.TuneLog)
	}
	l := g.Logs[1]
	wantLog := &Log{Kind: "file", Target: "file@/var/log/a.log", Path: "/var/log/a.log", Facility: "local1",
		Anonymize: &Anonymize{Mode: "hmac", KeyFile: "/etc/k", Rotate: 24 * time.Hour},
		Retention: 30 * 24 * time.Hour, RotateSize: 10 << 20, Keep: 3, Compress: true, RotateEvery: time.Hour}
	if diff := cmp.Diff(wantLog, l, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Pos" }, cmp.Ignore())); diff != "" {
		t.Errorf("file log (-want +got):\n%s", diff)
	}
	if l0 := g.Logs[0]; l0.Kind != "udp" || l0.Len != 2048 || l0.Format != "rfc3164" || l0.Level != "info" || l0.Addr.Port != 514 {
		t.Errorf("udp log: %+v", l0)
	}
	f := c.Frontend("f")
	if f.Option("jsonlog") == nil || f.HTTPRequest[0].Service != "prometheus-exporter" {
		t.Errorf("frontend: %+v", f)
	}
	b := c.Backend("b")
	s := b.Servers[0]
	if s.Observe != "layer7" || s.ErrorLimit != 5 || s.OnError != "fail-check" || !s.AgentCheck || s.AgentPort != 9000 || s.AgentInter != 3*time.Second {
		t.Errorf("server: %+v", s.ServerOptions)
	}
	if b.Option("persist") == nil || len(b.ForcePersist) != 1 || len(b.IgnorePersist) != 1 {
		t.Errorf("backend: %+v", b)
	}
}

// Each error varde reports is one real HAProxy reports too, except the
// cases marked haproxyOK (varde refuses what it does not support, and adds
// a few checks): `haproxy -c` must agree on every case.
func TestErrorsAgreeWithHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy -c")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	dir := t.TempDir()
	for i, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, fmt.Sprintf("%d.cfg", i))
			if err := os.WriteFile(p, []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(haproxy, "-c", "-f", p).CombinedOutput()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			// Exit status 2 is "valid, but no listener to start".
			accepted := err == nil || ee.ExitCode() == 2
			if accepted != tt.haproxyOK {
				t.Errorf("haproxy -c accepted=%v, want %v:\n%s", accepted, tt.haproxyOK, out)
			}
		})
	}
}

// Settings inherited from a defaults section are reported once, at the
// defaults line, not once per proxy.
func TestInheritedReportedOnce(t *testing.T) {
	_, d := load(t, "global\ndefaults\n mode http\n log global\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n errorfile 503 /nonexistent/503.http\n"+
		"frontend a\n bind :80\n default_backend b\nfrontend c\n bind :81\n default_backend b\nbackend b\n server s 1.2.3.4:80\n")
	n := map[string]int{}
	for _, w := range d.Items() {
		n[w.Severity.String()+" "+w.Keyword]++
		if w.Pos.Line != 4 && w.Pos.Line != 8 {
			t.Errorf("diagnostic not at the defaults line: %s", w)
		}
	}
	if n["error errorfile"] != 1 || n["warning log"] != 1 {
		t.Errorf("want one errorfile error and one log warning, got %v:\n%s", n, render(d))
	}
}

// Every keyword of the table is parsed by at least one golden file, so each
// has a pinned model and none is in the table without a parser.
func TestEveryKeywordHasAGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.cfg")
	used := map[string]bool{}
	for _, f := range files {
		set, _ := LoadFiles([]string{f}, goldenEnv)
		if set.HAProxy != nil {
			for _, u := range set.HAProxy.Uses {
				used[u.Keyword] = true
			}
		}
	}
	for _, k := range Keywords {
		if !used[k.Name] {
			t.Errorf("keyword %q is used by no testdata/*.cfg golden", k.Name)
		}
	}
}

// A log-format names the request headers it reads: they are kept for log
// time (Proxy.LogHeaders); one that reads every header, or more than the
// record can keep, is refused.
func TestLogFormatHeaders(t *testing.T) {
	c, d := load(t, "frontend f\n bind :80\n mode http\n log-format \"%[req.hdr(Host),lower] %[req.hdr_cnt(X-A)] %[req.cook(sid)] %[base] %[path] %[capture.req.hdr(0)]\"\n")
	if d.HasErrors() {
		t.Fatal(render(d))
	}
	if got, want := c.Frontends[0].LogHeaders(), []string{"host", "x-a", "cookie"}; !slices.Equal(got, want) {
		t.Errorf("LogHeaders = %q, want %q", got, want)
	}
	for _, tt := range []struct{ format, msg string }{
		{"%[req.hdr()]", "a fetch of every request header cannot be logged"},
		{"%[req.hdr(a)] %[req.hdr(b)] %[req.hdr(c)] %[req.hdr(d)] %[req.hdr(e)] %[req.hdr(f)] %[req.hdr(g)] %[req.hdr(h)] %[req.hdr(i)]", "reads 9 request headers"},
	} {
		_, d := load(t, "frontend f\n bind :80\n mode http\n log-format \""+tt.format+"\"\n")
		errs := errorsOf(d)
		if len(errs) != 1 || errs[0].Pos.Line != 4 || errs[0].Keyword != "log-format" || !strings.Contains(errs[0].Message, tt.msg) {
			t.Errorf("%s: got\n%s", tt.format, render(d))
		}
	}
}
