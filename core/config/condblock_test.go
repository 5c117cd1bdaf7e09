package config

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

var condEnv = map[string]string{"V1": "one", "LIST": "a b"}

func condLookup(k string) string { return condEnv[k] }

// condCases are conditions with the branch HAProxy 2.6 takes ("T", "F")
// or "error" when it refuses the line.
var condCases = []struct{ cond, want string }{
	{"1", "T"}, {"0", "F"}, {"!0", "T"}, {"! ! 1", "T"}, {"0x10", "T"}, {"-1", "T"}, {"007", "T"}, {`""`, "F"},
	{"defined(V1)", "T"}, {"defined(NOPE)", "F"}, {"!defined(NOPE)", "T"},
	{"streq(a,a)", "T"}, {"streq(a,b)", "F"}, {`streq("$V1",one)`, "T"}, {`streq("${V1}x",onex)`, "T"}, {"strneq(a,b)", "T"},
	{`streq('a,b',"a,b")`, "error"}, {`streq(a\,b,x)`, "error"}, // the lexer took the quotes: three arguments
	{`streq("'a b'",'a b')`, "T"},
	{"version_atleast(2.4)", "T"}, {"version_atleast(2.6)", "T"}, {"version_atleast(2.4-dev19)", "T"}, {"version_atleast(3.0)", "F"},
	{"version_before(2.7)", "T"}, {"version_before(2.6)", "F"}, {"version_before(2)", "F"},
	{"feature(NO_SUCH_FEATURE)", "F"},
	{"1 && 0 || 1", "T"}, {"0 || 1 && 0", "F"}, {"(0 || 1) && !(1 && 0)", "T"}, {"( 1 )", "T"},
	{"foo", "error"}, {"streq(a)", "error"}, {"1 2", "error"}, {"(1", "error"}, {"defined(V1", "error"}, {"1 &&", "error"},
	{"0 && foo", "error"}, // HAProxy parses it all before evaluating
}

func condConfig(cond string) string {
	return fmt.Sprintf("global\n.if %s\n.notice \"T\"\n.else\n.notice \"F\"\n.endif\n", cond)
}

// varde's outcome: the notices printed, or "error".
func vardeCond(t *testing.T, src string) string {
	t.Helper()
	d := &diag.List{}
	Parse("c.cfg", []byte(src), condLookup, d)
	var notes []string
	for _, it := range d.Items() {
		switch it.Severity {
		case diag.Error:
			return "error"
		case diag.Notice:
			notes = append(notes, it.Message)
		}
	}
	return strings.Join(notes, ",")
}

func TestCondBlocks(t *testing.T) {
	for _, tt := range condCases {
		t.Run(tt.cond, func(t *testing.T) {
			if got := vardeCond(t, condConfig(tt.cond)); got != tt.want {
				t.Errorf(".if %s: varde takes %q, want %q", tt.cond, got, tt.want)
			}
		})
	}
}

// structureCases exercise nesting, .elif chains and misplaced directives.
var structureCases = []struct{ name, src, want string }{
	{"nested", ".if 1\n.if 0\n.notice A\n.elif 1\n.notice B\n.else\n.notice C\n.endif\n.endif\n", "B"},
	{"masked parent skips children", ".if 0\n.if 1\n.notice A\n.endif\n.else\n.notice B\n.endif\n", "B"},
	{"elif after a taken branch", ".if 1\n.notice A\n.elif 1\n.notice B\n.endif\n", "A"},
	{"masked lines are not parsed", ".if 0\nfrontend\n  no-such-keyword\n.endif\n", ""},
	{"warning", ".warning \"careful\"\n", ""},
	{"alert is an error", ".if 1\n.alert \"stop\"\n.endif\n", "error"},
	{"alert in a masked block", ".if 0\n.alert \"stop\"\n.endif\n", ""},
	{"lone else", ".else\n", "error"},
	{"lone endif", ".endif\n", "error"},
	{"lone elif", ".elif 1\n", "error"},
	{"missing endif", ".if 1\n.notice A\n", "error"},
	{"elif after else", ".if 0\n.else\n.elif 1\n.endif\n", "error"},
	{"else after else", ".if 0\n.else\n.else\n.endif\n", "error"},
	{"endif with argument", ".if 1\n.endif x\n", "error"},
	{"message with two words", ".notice a b\n", "error"},
	{"unknown directive", ".foo\n", "error"},
	{"unknown directive in a masked block", ".if 0\n.foo\n.endif\n", ""},
}

func TestCondStructure(t *testing.T) {
	for _, tt := range structureCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := vardeCond(t, tt.src); got != tt.want {
				t.Errorf("varde gives %q, want %q", got, tt.want)
			}
		})
	}
}

// The errors name the line of the directive at fault.
func TestCondErrorsLocated(t *testing.T) {
	d := &diag.List{}
	Parse("c.cfg", []byte("global\n.if 1\n.if 0\n.endif\n.else\n.else\n"), nil, d)
	got := fmt.Sprint(d.Items())
	for _, want := range []string{"c.cfg:6: error: .else: '.else' after '.else' is not permitted", "c.cfg:2: error: .if: non-terminated '.if' block"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %s", want, got)
		}
	}
}

// TestCondMatchesHAProxy runs every case through haproxy -c with the same
// environment and compares the branch taken (its NOTICE lines) or the
// refusal.
func TestCondMatchesHAProxy(t *testing.T) {
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not installed (apt-get install haproxy): conditions are checked against the table only")
	}
	dir := t.TempDir()
	env := os.Environ()
	for k, v := range condEnv {
		env = append(env, k+"="+v)
	}
	notice := regexp.MustCompile(`NOTICE.*parsing \[[^]]*\]: '([^']*)'\.`)
	run := func(t *testing.T, src string) string {
		p := filepath.Join(dir, "c.cfg")
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(haproxy, "-c", "-f", p)
		cmd.Env = env
		out, _ := cmd.CombinedOutput()
		if strings.Contains(string(out), "ALERT") {
			return "error"
		}
		var notes []string
		for _, m := range notice.FindAllStringSubmatch(string(out), -1) {
			notes = append(notes, m[1])
		}
		return strings.Join(notes, ",")
	}
	for _, tt := range condCases {
		t.Run(tt.cond, func(t *testing.T) {
			src := condConfig(tt.cond)
			if h, v := run(t, src), vardeCond(t, src); h != v {
				t.Errorf(".if %s: haproxy %q, varde %q", tt.cond, h, v)
			}
		})
	}
	for _, tt := range structureCases {
		t.Run(tt.name, func(t *testing.T) {
			src := "global\n" + tt.src
			if h, v := run(t, src), vardeCond(t, src); h != v {
				t.Errorf("haproxy %q, varde %q\n%s", h, v, src)
			}
		})
	}
}

// An unset variable is worth a warning only on a line varde uses: not in a
// skipped block, not in the condition that tests it. Lexing errors are
// reported everywhere, as HAProxy does.
func TestSkippedLinesDoNotWarn(t *testing.T) {
	d := &diag.List{}
	Parse("c.cfg", []byte("global\n.if defined(CERT) && streq(\"$CERT\",x)\n  log \"${CERT}\" local0\n  maxconn \"10\n.endif\n  pidfile \"${PIDF}\"\n"), nil, d)
	var got []string
	for _, it := range d.Items() {
		got = append(got, it.String())
	}
	want := []string{
		"c.cfg:4: error: maxconn: unterminated quote; line ignored (hint: close the quote on the same line)",
		`c.cfg:6: warning: environment variable "PIDF" is empty or not set (hint: export the variable before starting varde, or write ${PIDF-default})`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
