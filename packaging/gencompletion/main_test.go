package main

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// Help texts in the form cmd/varde prints them (newFlagSet's Usage and
// flag.PrintDefaults).
const runHelp = `Usage: varde run -f FILE [-f FILE ...] [--log-format text|json] [--grace DUR] [--pidfile PATH]

run the load balancer

Flags:
  -f FILE
    	configuration FILE
  -grace duration
    	how long (default 10s)
  -log-format string
    	format: text or json (default "text")
  -pidfile PATH
    	write the process id to PATH
`

const logsHelp = `Usage: varde logs audit PATH... [--retention DUR] [--json] | anonymize [--ip V4,V6 | --hmac KEYFILE] IN [OUT]

audit log files
`

const versionHelp = `Usage: varde version [-vv]

print varde's version

Flags:
  -vv
    	also print build facts
`

const ctlHelp = `Usage: varde ctl -s SOCKET|HOST:PORT COMMAND [ARGS...]

Flags:
  -s string
    	admin socket path (default "/run/varde/admin.sock")
  -t duration
    	give up after this long (default 10s)
`

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		key, help string
		flags     string // spelled:kind, kind = b(ool) f(iles) n(one) or the choices
		subs      string
		posFiles  bool
	}{
		{"run", runHelp, "-f:f --grace:n --log-format:text|json --pidfile:f", "", false},
		{"logs", logsHelp, "", "audit anonymize", true},
		{"version", versionHelp, "-vv:b", "", false},
		{"ctl", ctlHelp, "-s:f -t:n", "", false},
	} {
		s := parseScope(tc.key, tc.help, false)
		var got []string
		for _, f := range s.flags {
			kind := "b"
			switch {
			case len(f.choices) > 0:
				kind = strings.Join(f.choices, "|")
			case f.files:
				kind = "f"
			case f.value:
				kind = "n"
			}
			got = append(got, f.spelled+":"+kind)
		}
		if g := strings.Join(got, " "); g != tc.flags {
			t.Errorf("%s: flags %q, want %q", tc.key, g, tc.flags)
		}
		if g := strings.Join(s.subs, " "); g != tc.subs {
			t.Errorf("%s: subcommands %q, want %q", tc.key, g, tc.subs)
		}
		if s.posFiles != tc.posFiles {
			t.Errorf("%s: positional files %v, want %v", tc.key, s.posFiles, tc.posFiles)
		}
	}
}

// TestScriptIsBash checks the generated script's syntax with bash -n.
func TestScriptIsBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	tb := &table{commands: []string{"run", "logs"}}
	tb.scopes = append(tb.scopes, parseScope("run", runHelp, false), parseScope("logs", logsHelp, false))
	var script bytes.Buffer
	writeScript(&script, tb)
	cmd := exec.Command(bash, "-n")
	cmd.Stdin = &script
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("bash -n: %v\n%s\n%s", err, out, script.String())
	}
}

var (
	safeFlag = regexp.MustCompile(`^--?[A-Za-z][A-Za-z0-9-]*$`)
	safeWord = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// FuzzParseScope: whatever a help text holds, what reaches the generated
// shell script is flag names and plain lower-case words, never shell
// syntax.
func FuzzParseScope(f *testing.F) {
	for _, h := range []string{runHelp, logsHelp, versionHelp, ctlHelp} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, help string) {
		s := parseScope("run", help, false)
		for _, fl := range s.flags {
			if !safeFlag.MatchString(fl.spelled) {
				t.Fatalf("flag %q", fl.spelled)
			}
			for _, c := range fl.choices {
				if !safeWord.MatchString(c) {
					t.Fatalf("choice %q", c)
				}
			}
		}
		for _, sub := range s.subs {
			if !safeWord.MatchString(sub) {
				t.Fatalf("subcommand %q", sub)
			}
		}
	})
}
