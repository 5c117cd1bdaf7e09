package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/testenv"
)

// HAProxy's command line: -c, -q, -f DIR, --, -vv, refused HAProxy flags.
func TestHACommandLine(t *testing.T) {
	dir := t.TempDir()
	valid := writeFile(t, dir, "valid.cfg", validCfg)
	bad := writeFile(t, dir, "bad.cfg", threeMistakes)
	confd := filepath.Join(dir, "conf.d")
	if err := os.Mkdir(confd, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, confd, "20-backend.cfg", "backend app\n    server a 127.0.0.1:9001\n")
	writeFile(t, confd, "10-front.cfg", strings.Split(validCfg, "\nbackend app")[0]+"\n")
	writeFile(t, confd, ".hidden.cfg", "garbage line\n")
	writeFile(t, confd, "old.cfg.bak", "garbage line\n")
	tests := []struct {
		name    string
		args    []string
		code    int
		outHas  string
		errHas  string
		outNone bool
	}{
		{"check valid", []string{"-c", "-f", valid}, 0, "Configuration file is valid", "", false},
		{"check valid prints warnings", []string{"-c", "-f", valid}, 0, "Warnings were found.", "valid.cfg:2: warning: daemon", false},
		{"check quiet", []string{"-c", "-q", "-f", valid}, 0, "", "", true},
		{"check invalid", []string{"-c", "-f", bad}, 1, "", "bad.cfg:10: error: balance", true},
		{"check quiet still prints errors", []string{"-q", "-c", "-f", bad}, 1, "", "bad.cfg:8: error: default_backend", true},
		{"check directory", []string{"-c", "-f", confd}, 0, "Configuration file is valid", "", false},
		{"check files after --", []string{"-c", "--", valid}, 0, "Configuration file is valid", "", false},
		{"no file", []string{"-c"}, 1, "", "no configuration file", true},
		{"master-worker accepted", []string{"-Ws", "-c", "-f", valid}, 0, "Configuration file is valid", "-Ws: varde is its own master", false},
		{"-W accepted", []string{"-W", "-c", "-q", "-f", valid}, 0, "", "-W: varde is its own master", false},
		{"master CLI refused", []string{"-S", "/run/x.sock", "-f", valid}, 2, "", "-S is not supported", true},
		{"unknown flag", []string{"-Z", "-f", valid}, 2, "", "flag provided but not defined: -Z", true},
		{"-vv", []string{"-vv"}, 0, "Balancing algorithms : ", "", false},
		{"version -vv", []string{"version", "-vv"}, 0, "Health check probes : ", "", false},
		{"-v", []string{"-v"}, 0, "varde ", "", false},
		{"subcommand check takes a directory", []string{"check", "-f", confd}, 0, "", "configuration valid: 1 frontend, 1 backend", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := dispatch(tt.args, &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tt.outHas) || !strings.Contains(errb.String(), tt.errHas) {
				t.Errorf("stdout %q (want %q), stderr %q (want %q)", out.String(), tt.outHas, errb.String(), tt.errHas)
			}
			if tt.outNone && out.Len() > 0 {
				t.Errorf("stdout should be empty, got %q", out.String())
			}
		})
	}
}

// -f DIR reads the files HAProxy reads, in its order: the test asks both
// to print ${.FILE} from every file of the same directory.
func TestConfigDirectoryMatchesHAProxy(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.cfg", "a.cfg", "B.cfg", "10-x.cfg", ".hidden.cfg", "x.cfg.bak", "twice.cfg.cfg", "cfg", "n.conf"} {
		writeFile(t, dir, name, ".notice \"${.FILE}\"\n")
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.cfg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a.cfg"), filepath.Join(dir, "link.cfg")); err != nil {
		t.Fatal(err)
	}
	want := []string{"10-x.cfg", "B.cfg", "a.cfg", "b.cfg", "link.cfg"}
	got, err := cfgFilesOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("varde reads %v, want %v", got, want)
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not installed: the order is checked against HAProxy's rule only")
	}
	out, _ := exec.Command(haproxy, "-c", "-f", dir).CombinedOutput()
	var hap []string
	for _, m := range regexp.MustCompile(`'([^']*)'\.`).FindAllStringSubmatch(string(out), -1) {
		hap = append(hap, filepath.Base(m[1]))
	}
	if strings.Join(hap, " ") != strings.Join(want, " ") {
		t.Errorf("haproxy reads %v, want %v\n%s", hap, want, out)
	}
}

// formerPanics crashed `varde check` with a Go stack trace; each must now
// be a located error and exit 1, from the built binary, under both
// `varde check` and `varde -c`.
var formerPanics = []struct {
	name, line, want string
}{
	{"quoted option", `"option httplog"`, `x.cfg:6: error: option httplog: unknown keyword "option httplog" in frontend section (hint: write option httplog without quotes; quoted, it is a single word)`},
	{"quoted stats uri", `"stats uri" /stats`, `x.cfg:6: error: stats uri: unknown keyword "stats uri" in frontend section (hint: write stats uri without quotes`},
	{"quoted timeout", `"timeout client" 5s`, `x.cfg:6: error: timeout client: unknown keyword "timeout client" in frontend section`},
	{"quoted option after no", `no "option httplog"`, `x.cfg:6: error: option httplog: unknown keyword "option httplog" in frontend section (hint: write no option httplog without quotes`},
	{"quoted global stats socket", "GLOBAL", `x.cfg:2: error: stats socket: unknown keyword "stats socket" in global section`},
	{"unterminated quote", `option "httplog`, `x.cfg:6: error: option: unterminated quote; line ignored (hint: close the quote on the same line)`},
}

func formerPanicConfig(line string) string {
	if line == "GLOBAL" {
		return "global\n    \"stats socket\" /run/varde.sock\n"
	}
	return "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\nfrontend f\n    " + line + "\n    bind 127.0.0.1:8080\n"
}

func TestFormerPanicsBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the varde binary")
	}
	bin := testenv.VardeBinary(t)
	dir := t.TempDir()
	for _, tt := range formerPanics {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeFile(t, dir, "x.cfg", formerPanicConfig(tt.line))
			for _, args := range [][]string{{"check", "-f", cfg}, {"-c", "-f", cfg}} {
				cmd := exec.Command(bin, args...)
				cmd.Dir = dir
				out, err := cmd.CombinedOutput()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 1 {
					t.Fatalf("varde %v: %v, want exit 1\n%s", args, err, out)
				}
				text := strings.ReplaceAll(string(out), cfg, "x.cfg")
				if strings.Contains(text, "panic") || strings.Contains(text, "goroutine") {
					t.Fatalf("varde %v panicked:\n%s", args, out)
				}
				if !strings.Contains(text, tt.want) {
					t.Errorf("varde %v output lacks %q:\n%s", args, tt.want, text)
				}
				if n := strings.Count(text, ": error: "); n != 1 {
					t.Errorf("varde %v: %d errors, want exactly 1 (no follow-on errors):\n%s", args, n, text)
				}
			}
		})
	}
}

// `varde run` takes HAProxy's flags without a change to run.go: the
// arguments are rewritten before its own flag parsing.
func TestHARunArgs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b.cfg", "")
	writeFile(t, dir, "a.cfg", "")
	a, b := filepath.Join(dir, "a.cfg"), filepath.Join(dir, "b.cfg")
	tests := []struct {
		in, want []string
		notice   bool
	}{
		{[]string{"-f", dir}, []string{"-f", a, "-f", b}, false},
		{[]string{"-f=" + dir, "--grace", "1s"}, []string{"-f", a, "-f", b, "-grace", "1s"}, false},
		{[]string{"-f", "x.cfg", "-p", "/run/v.pid", "-D", "-db"}, []string{"-f", "x.cfg", "--pidfile", "/run/v.pid"}, true},
		{[]string{"--log-format", "json", "-f", "x.cfg"}, []string{"-log-format", "json", "-f", "x.cfg"}, false},
		{[]string{"-f", "x.cfg", "--", "-D"}, []string{"-f", "x.cfg", "--", "-D"}, false},
		{[]string{"-unknown", "-f", "x.cfg"}, []string{"-unknown", "-f", "x.cfg"}, false},
		// binary upgrade (upgrade.go): the PID list is not mistaken for files
		{[]string{"-f", "x.cfg", "-sf", "12", "34", "-x", "/run/s.sock", "-p", "p"}, []string{"-x", "/run/s.sock", "-sf", "12", "34", "-f", "x.cfg", "--pidfile", "p"}, false},
	}
	for _, tt := range tests {
		var errb bytes.Buffer
		got, err := haRunArgs(tt.in, &errb)
		if err != nil || strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("haRunArgs(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if notice := strings.Contains(errb.String(), "does not fork"); notice != tt.notice {
			t.Errorf("haRunArgs(%q): -D notice printed=%v, want %v", tt.in, notice, tt.notice)
		}
	}
	if _, err := haRunArgs([]string{"-f", t.TempDir()}, &bytes.Buffer{}); err == nil {
		t.Error("an empty directory should be an error")
	}
}

// varde -c and haproxy -c agree on the verdict (exit 0 or 1) for a valid
// configuration, a wrong one and every former panic.
func TestCheckExitMatchesHAProxy(t *testing.T) {
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not installed: exit codes are checked against the table only")
	}
	dir := t.TempDir()
	cfgs := map[string]string{"valid": validCfg, "three mistakes": threeMistakes}
	for _, fp := range formerPanics {
		cfgs[fp.name] = formerPanicConfig(fp.line)
	}
	for name, src := range cfgs {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, dir, "c.cfg", src)
			hcode := 0
			if err := exec.Command(haproxy, "-c", "-q", "-f", p).Run(); err != nil {
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					t.Fatal(err)
				}
				hcode = ee.ExitCode()
			}
			if hcode == 2 { // haproxy: valid, but nothing to listen on
				hcode = 0
			}
			var out, errb bytes.Buffer
			if vcode := dispatch([]string{"-c", "-q", "-f", p}, &out, &errb); vcode != hcode {
				t.Errorf("varde -c exits %d, haproxy -c %d\n%s", vcode, hcode, errb.String())
			}
		})
	}
}
