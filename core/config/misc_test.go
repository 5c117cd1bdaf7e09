package config

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/testenv"
)

// miscCases are misc.go's and legacy.go's refusals; haproxyOK says whether
// HAProxy 2.6 accepts the line (varde refuses what it does not build).
var miscCases = []struct {
	name, src          string
	line               int
	keyword, msg, hint string
	haproxyOK          bool
}{
	{"reqirep", "frontend f\n bind :80\n reqirep ^Host:\\ a.example Host:\\ b.example\n", 3, "reqirep", "The 'reqirep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-header' instead.", "http-request replace-header Host (?i)a.example b.example", false},
	{"reqadd with cond", "frontend f\n bind :80\n reqadd X-Proto:\\ https if { ssl_fc }\n", 3, "reqadd", "Use 'http-request add-header' instead", "http-request add-header X-Proto https if { ssl_fc }", false},
	{"reqdel", "frontend f\n bind :80\n reqdel ^Proxy:\n", 3, "reqdel", "'reqdel' directive", "http-request del-header Proxy", false},
	{"reqdeny on a header", "frontend f\n bind :80\n reqideny ^User-Agent:\\ .*curl\n", 3, "reqideny", "Use 'http-request deny'", "http-request deny if { req.hdr(User-Agent) -i -m reg curl }", false},
	{"block", "frontend f\n bind :80\n block if { src 10.0.0.0/8 }\n", 3, "block", "exact same syntax", "http-request deny if { src 10.0.0.0/8 }", false},
	{"monitor-net", "frontend f\n bind :80\n monitor-net 192.168.0.0/16\n", 3, "monitor-net", "'monitor-net' doesn't exist anymore", "http-request return status 200 if { src 192.168.0.0/16 }", false},
	{"rspirep", "backend b\n rspirep ^Location:\\ http://(.*) Location:\\ https://\\1\n", 2, "rspirep", "'rspirep' directive", "http-response replace-header Location (?i)http://(.*) https://\\1", false},
	{"option forceclose", "frontend f\n bind :80\n option forceclose\n", 3, "option forceclose", "since HAProxy 2.0", "option httpclose", false},
	{"default-path bogus", "global\n default-path bogus\n", 2, "default-path", "unsupported default-path mode 'bogus'", "'current', 'config', 'parent', and 'origin'", false},
	{"default-path origin without dir", "global\n default-path origin\n", 2, "default-path", "expects a directory", "", false},
	{"default-path config not built", "global\n default-path config\n", 2, "default-path", "default-path config is not built yet", "absolute", true},
	{"tune.http.maxhdr range", "global\n tune.http.maxhdr 0\n", 2, "tune.http.maxhdr", "expects a numeric value between 1 and 32767", "", false},
	{"tune.http.maxhdr 1 not built", "global\n tune.http.maxhdr 1\n", 2, "tune.http.maxhdr", "not built yet", "", false}, // HAProxy: its own pages no longer parse
	{"tune on/off", "global\n tune.sched.low-latency yes\n", 2, "tune.sched.low-latency", "expects either 'on' or 'off'", "", false},
	{"monitor fail without condition", "frontend f\n bind :80\n monitor-uri /x\n monitor fail\n", 4, "monitor fail", "expects either 'if' or 'unless'", "", false},
	{"errorloc bad code", "frontend f\n bind :80\n errorloc 999 http://x\n", 3, "errorloc", "status code '999' not handled", "", false},
	{"errorloc without url", "frontend f\n bind :80\n errorloc302 503\n", 3, "errorloc302", "expects <status_code> and <url>", "", false},
	{"nbsrv of an unknown backend", "frontend f\n bind :80\n monitor-uri /a\n monitor fail if { nbsrv(nob) lt 1 }\n", 4, "nbsrv", "no backend \"nob\"", "", false},
	{"maxcompcpuusage over 100", "global\n maxcompcpuusage 101\n", 2, "maxcompcpuusage", "101 is out of range 0..100", "", false},
	{"maxcompcpuusage negative", "global\n maxcompcpuusage -1\n", 2, "maxcompcpuusage", "out of range 0..100", "", false},
	{"redirect set-cookie without a cookie", "frontend f\n bind :80\n redirect location /x set-cookie\n", 3, "redirect", "set-cookie needs a cookie", "", false},
	{"use-server without condition", "backend b\n use-server a\n server a 127.0.0.1:80\n", 2, "use-server", "requires either 'if' or 'unless'", "", false},
	{"use-server unknown server", "backend b\n use-server nob if TRUE\n server a 127.0.0.1:80\n", 2, "use-server", "unable to find server 'nob' referenced in a 'use-server' rule", "", false},
	{"use-server dynamic name not built", "backend b\n use-server %[req.hdr(x)] if TRUE\n server a 127.0.0.1:80\n", 2, "use-server", "dynamic name is not built yet", "", true},
	{"dispatch without port", "backend b\n dispatch 127.0.0.1\n", 2, "dispatch", "port", "", false},
	{"dispatch to a host name", "backend b\n dispatch localhost:80\n", 2, "dispatch", "not built yet", "IP address", true},
	{"dispatch beside stick on", "backend b\n stick-table type ip size 10\n dispatch 127.0.0.1:80\n stick on src\n server s1 127.0.0.1:81\n", 3, "dispatch", "dispatch beside stick on (line 4): HAProxy stores a meaningless server id", "stick match", true},
	{"dispatch beside stick store-request", "backend b\n stick-table type ip size 10\n dispatch 127.0.0.1:80\n stick match src\n stick store-request src\n server s1 127.0.0.1:81\n", 3, "dispatch", "dispatch beside stick store-request (line 5)", "", true},
	{"dispatch with balance", "backend b\n balance roundrobin\n dispatch 127.0.0.1:80\n server a 127.0.0.1:81\n", 3, "dispatch", "will be ignored in balance mode", "", true},
	{"monitor-uri in mode tcp", "frontend f\n mode tcp\n bind :80\n monitor-uri /a\n", 1, "monitor-uri", "monitor-uri will be ignored for frontend 'f' (needs 'mode http').", "", true},
	{"redirect in mode tcp", "frontend f\n mode tcp\n bind :80\n redirect location /x\n", 4, "redirect", "'redirect' rules ignored for frontend 'f' as they require HTTP mode.", "", true},
	{"logasap in mode tcp", "frontend f\n mode tcp\n bind :80\n option logasap\n", 4, "option logasap", "built for mode http only", "", true},
	{"rate-limit sessions without a number", "frontend f\n bind :80\n rate-limit sessions\n", 3, "rate-limit sessions", "expects an integer value", "", false},
	{"rate-limit in a backend", "backend b\n rate-limit sessions 5\n", 2, "rate-limit sessions", "ignored", "", true},
	{"monitor fail in a backend", "backend b\n monitor fail if TRUE\n", 2, "monitor fail", "ignored", "", true},
}

func TestMiscErrors(t *testing.T) {
	for _, tt := range miscCases {
		t.Run(tt.name, func(t *testing.T) {
			_, d := load(t, tt.src)
			var got []string
			for _, it := range d.Items() {
				if it.Keyword == tt.keyword && strings.Contains(it.Message, tt.msg) && strings.Contains(it.Hint, tt.hint) && it.Pos.Line == tt.line {
					return
				}
				got = append(got, it.String())
			}
			t.Fatalf("want %s at line %d: %q (hint %q), got:\n%s", tt.keyword, tt.line, tt.msg, tt.hint, strings.Join(got, "\n"))
		})
	}
}

// haproxyCheck runs `haproxy -c` on src and returns whether it accepted
// the configuration and what it said.
func haproxyCheck(t *testing.T, src string) (bool, string) {
	t.Helper()
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	p := filepath.Join(t.TempDir(), "h.cfg")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(haproxy, "-c", "-f", p).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return err == nil || ee.ExitCode() == 2, string(out)
}

// HAProxy 2.6 agrees on every case: it refuses what varde refuses, except
// the lines varde refuses because it does not build them.
func TestMiscAgreesWithHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy -c")
	}
	for _, tt := range miscCases {
		t.Run(tt.name, func(t *testing.T) {
			if ok, out := haproxyCheck(t, tt.src); ok != tt.haproxyOK {
				t.Errorf("haproxy -c accepted=%v, want %v:\n%s", ok, tt.haproxyOK, out)
			}
		})
	}
	// The golden misc.cfg, valid for varde, is valid for HAProxy too.
	src, err := os.ReadFile("testdata/misc.cfg")
	if err != nil {
		t.Fatal(err)
	}
	if ok, out := haproxyCheck(t, string(src)); !ok {
		t.Errorf("haproxy -c refused testdata/misc.cfg:\n%s", out)
	}
}

// legacySample is a line for each legacy directive, as 1.x configs wrote it.
var legacySample = map[string]string{
	"block": "block if TRUE", "monitor-net": "monitor-net 10.0.0.0/8",
	"option forceclose": "option forceclose", "option http-tunnel": "option http-tunnel",
	"option http_proxy": "option http_proxy", "option http-use-htx": "option http-use-htx",
	"reqadd": `reqadd X-A:\ b`, "rspadd": `rspadd X-A:\ b`,
}

// varde's message is HAProxy's own, word for word (HAProxy prefixes
// "parsing [FILE:LINE] : "): a user searching the text finds HAProxy's
// migration notes.
func TestLegacyMessagesAreHAProxys(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy -c")
	}
	for key, ld := range legacyDirectives {
		t.Run(key, func(t *testing.T) {
			line, ok := legacySample[key]
			if !ok {
				line = key + ` ^X-A:\ b X-A:\ c`
				if strings.HasSuffix(key, "del") || strings.Contains(key, "allow") || strings.Contains(key, "deny") || strings.Contains(key, "tarpit") || strings.Contains(key, "pass") {
					line = key + ` ^X-A:\ b`
				}
			}
			src := "frontend f\n bind 127.0.0.1:18080\n " + line + "\n"
			accepted, out := haproxyCheck(t, src)
			if accepted {
				t.Fatalf("haproxy -c accepted %q", line)
			}
			want := ld.text(strings.Fields(line)[1:])
			if key == "option http-use-htx" {
				want = "unknown option 'http-use-htx'" // varde explains further
			}
			if !strings.Contains(out, want) {
				t.Errorf("HAProxy says:\n%s\nvarde says: %s", out, want)
			}
			_, d := load(t, src)
			if !d.HasErrors() || !strings.Contains(render(d), want) {
				t.Errorf("varde: %s", render(d))
			}
		})
	}
}

// Every legacy directive is named in docs/config.md.
func TestDocsListLegacy(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for k := range legacyDirectives {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("docs/config.md does not list pre-2.x `%s`", k)
		}
	}
}

// The replacement lines are built from whatever a 1.x line holds.
func FuzzLegacyHint(f *testing.F) {
	f.Add(`^Host:\ (.*)`, `Host:\ \1`, "if")
	f.Add("X-A: b", "", "")
	f.Add(":", "^:", "{")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for key, ld := range legacyDirectives {
			for _, args := range [][]string{nil, {a}, {a, b}, {a, b, c}} {
				if ld.modern(args) == "" {
					t.Fatalf("%s %q: empty replacement", key, args)
				}
			}
		}
	})
}

// A 1.x line that replaced a whole header becomes set-header (seen in a
// real configuration: `reqirep ^Host: Host:\ app.example`).
func TestLegacyWholeHeaderIsSetHeader(t *testing.T) {
	_, d := load(t, "backend b\n reqirep ^Host: Host:\\ app.example\n server a 127.0.0.1:80\n")
	if got := render(d); !strings.Contains(got, "hint: write: http-request set-header Host app.example)") {
		t.Errorf("got %s", got)
	}
}
