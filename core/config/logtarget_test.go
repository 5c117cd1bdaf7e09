package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
)

// logCases: a global `log` line; want "" when accepted, else a substring
// of the one error, which must be at line 2 with a hint.
var logCases = []struct{ line, want string }{
	// HAProxy 2.6 doc/configuration.txt, global "log".
	{"log 127.0.0.1:514 local0 info", ""},
	{"log 127.0.0.1 local0", ""},
	{"log 10.0.0.1:1514 len 2048 format rfc5424 local1 notice err", ""},
	{"log ipv4@127.0.0.1 daemon", ""},
	{"log udp@127.0.0.1:514 local0", ""},
	{"log udp6@[::1]:514 local0", ""},
	{"log tcp@127.0.0.1:601 local0", ""},
	{"log /dev/log local0", ""},
	{"log unix@/dev/log local0", ""},
	{"log stdout format raw daemon", ""},
	{"log stderr format short daemon", ""},
	{"log fd@1 format iso local0", ""},
	{"log 127.0.0.1 sample 1:2 local0", ""},
	{"log 127.0.0.1 sample 1-3,5:10 local0", ""},
	{"log 127.0.0.1 sample foo local0", "want RANGES:SIZE"},
	{"log 127.0.0.1 sample 3:2 local0", "must be within 1..2"},
	{"log file@/var/log/varde/a.log anonymize none rotate 10M keep 3 local0", ""},
	{"log ring@buf local0", "log target ring@ is not supported by varde yet"},
	{"log fd@3 local0", "log target fd@ is not supported by varde yet"},
	{"log smtp@mail local0", `unknown log target type "smtp@"`},
	{"log udp@ local0", "has no address"},
	{"log stdout", "log line without a facility"},
	{"log 127.0.0.1 local9", "unknown log facility or option"},
	{"log 127.0.0.1 local0 loud", "unknown log level"},
	{"log 127.0.0.1 format json local0", "unknown log format"},
	{"log 127.0.0.1 len 79 local0", "80"},
	{"log 127.0.0.1:99999 local0", "invalid port"},
	{"log file@relative.log local0", `log file path "relative.log" is not absolute`},
	{"log 127.0.0.1 rotate 10M local0", "log target 127.0.0.1 does not support rotate"},
	{"log stdout keep 3 daemon", "log target stdout does not support keep"},
}

func TestLogTargets(t *testing.T) {
	for _, tc := range logCases {
		t.Run(tc.line, func(t *testing.T) {
			var d diag.List
			config.Parse("t.cfg", []byte("global\n "+tc.line+"\n"), nil, &d)
			errs := errorsIn(&d)
			if tc.want == "" {
				if len(errs) > 0 {
					t.Fatalf("refused: %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Pos.Line != 2 || !strings.Contains(errs[0].Message+errs[0].Hint, tc.want) || errs[0].Hint == "" {
				t.Fatalf("want one error at line 2 containing %q with a hint, got %v", tc.want, errs)
			}
		})
	}
}

// TestCheckLogTargets: what a sink would refuse when it opens is refused
// by the configuration check, at the log line.
func TestCheckLogTargets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]string{
		"log file@" + dir + "/access.log anonymize none local0":         "",
		"log file@" + dir + "/missing/access.log anonymize none local0": "t.cfg:2: error: log: log file@" + dir + "/missing/access.log: log directory " + dir + "/missing: no such file or directory (hint: create " + dir + "/missing (writable by varde) or fix the path)",
		"log file@" + file + "/access.log anonymize none local0":        "is not a directory",
		"log file@" + dir + " anonymize none local0":                    "is a directory",
		"log 127.0.0.1 local0":                                          "",
		"log 127.0.0.1 anonymize hmac " + dir + "/k local0":             "",
		"log 127.0.0.1 anonymize hmac " + dir + "/x/k local0":           "anonymize hmac key file " + dir + "/x/k: directory " + dir + "/x does not exist",
		"log udp@name.invalid local0":                                   "t.cfg:2: error: log: log udp@name.invalid: cannot resolve name.invalid:514",
	} {
		var d diag.List
		cfg := config.Parse("t.cfg", []byte("global\n "+line+"\n"), nil, &d)
		if d.HasErrors() {
			t.Fatalf("%s: %v", line, d.Err())
		}
		cfg.CheckLogTargets(&d)
		errs := errorsIn(&d)
		switch {
		case want == "" && len(errs) > 0:
			t.Errorf("%s: refused: %v", line, errs)
		case want != "" && (len(errs) != 1 || !strings.Contains(errs[0].String(), want)):
			t.Errorf("%s: got %v, want %q", line, errs, want)
		}
	}
}

// TestOneSyslogTable: the names config accepts are the ones the pipeline
// encodes, by construction; this pins HAProxy 2.6's codes.
func TestOneSyslogTable(t *testing.T) {
	if core.SyslogFacility("local0") != 16 || core.SyslogFacility("kern") != 0 || len(core.SyslogFacilities()) != 24 {
		t.Error("facility codes differ from syslog's")
	}
	if core.SyslogLevel("info") != 6 || core.SyslogLevel("emerg") != 0 || len(core.SyslogLevels()) != 8 {
		t.Error("level codes differ from syslog's")
	}
}

// FuzzLogLine feeds arbitrary log lines through the one parser: it must
// not panic, and whatever it accepts must name a registered sink.
func FuzzLogLine(f *testing.F) {
	for _, tc := range logCases {
		f.Add(tc.line)
	}
	f.Add(`log "udp@[::1" local0`)
	f.Add("log @ local0")
	f.Add("log file@/a anonymize hmac k rotate")
	f.Fuzz(func(t *testing.T, line string) {
		words := strings.Fields(line)
		if len(words) == 0 || words[0] != "log" {
			words = append([]string{"log"}, words...)
		}
		lg, err := config.ParseLogLine(words[1:])
		if err != nil || lg == nil || lg.Global {
			return
		}
		if _, ok := core.LookupSinkScheme(lg.Kind); !ok {
			t.Fatalf("%q accepted with unregistered kind %q", line, lg.Kind)
		}
		if lg.Facility == "" {
			t.Fatalf("%q accepted without a facility", line)
		}
	})
}
