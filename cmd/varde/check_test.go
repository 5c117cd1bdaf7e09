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

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const validCfg = `global
    daemon
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend www
    bind 127.0.0.1:8080
    default_backend app
backend app
    server a 127.0.0.1:9001
`

const threeMistakes = `defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend www
    bind 127.0.0.1:8080
    default_backend ap
backend app
    balance roundrobn
    server a 127.0.0.1:9001 weight 999
`

const keepalivedConf = `vrrp_instance VI_1 {
    state MASTER
    interface lo
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.0.2.10
    }
}
`

var diagLine = regexp.MustCompile(`^[^:]+:\d+: (error|warning): [^:]+: .+$`)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	valid := writeFile(t, dir, "valid.cfg", validCfg)
	bad := writeFile(t, dir, "bad.cfg", threeMistakes)
	ka := writeFile(t, dir, "keepalived.conf", keepalivedConf)
	tests := []struct {
		name        string
		args        []string
		code        int
		outHas      []string
		outLacks    []string
		errHas      string
		errorLines  int
		diagnostics bool
	}{
		{"valid with warnings", []string{"check", "-f", valid}, 0, []string{"valid.cfg:2: warning: daemon: "}, nil, "configuration valid: 1 frontend, 1 backend; ", 0, true},
		{"quiet hides warnings", []string{"check", "-q", "-f", valid}, 0, nil, []string{"warning"}, "configuration valid", 0, true},
		{"three mistakes", []string{"check", "-f", bad}, 1, []string{
			"bad.cfg:8: error: default_backend: backend \"ap\" not found (hint: did you mean `app`?)",
			"bad.cfg:10: error: balance: unknown balance algorithm \"roundrobn\" (hint: did you mean `roundrobin`?)",
			"bad.cfg:11: error: server weight: 999 is out of range 0..256 (hint: ",
		}, nil, "configuration invalid: 1 frontend, 1 backend; 3 errors, ", 3, true},
		{"haproxy and keepalived together", []string{"check", "-f", valid, "-f", ka}, 0, nil, nil, "configuration valid: 1 frontend, 1 backend, 1 vrrp_instance; ", 0, true},
		{"missing file", []string{"check", "-f", filepath.Join(dir, "nope.cfg")}, 1, []string{"nope.cfg: error: "}, nil, "configuration invalid", 1, false},
		{"no -f", []string{"check"}, 2, nil, nil, "no configuration file", 0, false},
		{"stray argument", []string{"check", valid}, 2, nil, nil, "unexpected argument", 0, false},
		{"bad flag", []string{"check", "-x"}, 2, nil, nil, "flag provided but not defined", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := dispatch(tt.args, &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errb.String())
			}
			for _, s := range tt.outHas {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tt.outLacks {
				if strings.Contains(out.String(), s) {
					t.Errorf("stdout has %q:\n%s", s, out.String())
				}
			}
			if !strings.Contains(errb.String(), tt.errHas) {
				t.Errorf("stderr lacks %q:\n%s", tt.errHas, errb.String())
			}
			n := 0
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				if l == "" {
					continue
				}
				if tt.diagnostics && !diagLine.MatchString(l) {
					t.Errorf("line not in FILE:LINE: severity: KEYWORD: message form: %q", l)
				}
				if strings.Contains(l, ": error: ") {
					n++
					if !strings.Contains(l, "(hint: ") {
						t.Errorf("error without hint: %q", l)
					}
				}
			}
			if n != tt.errorLines {
				t.Errorf("%d error lines, want %d:\n%s", n, tt.errorLines, out.String())
			}
		})
	}
}

// varde check accepts every seed example (exit 0, warnings allowed),
// those that terminate TLS (bind ssl crt) and originate it (server ssl)
// included. The seeds' certificate paths are pointed at generated
// certificates.
func TestCheckSeedExamples(t *testing.T) {
	files, _ := filepath.Glob("../../examples/seeds/*")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		n++
		f = withSeedCerts(t, f)
		var out, errb bytes.Buffer
		if code := dispatch([]string{"check", "-q", "-f", f}, &out, &errb); code != 0 {
			t.Errorf("varde check -f %s: exit %d\n%s%s", f, code, out.String(), errb.String())
		}
	}
	if n == 0 {
		t.Fatal("no seed examples found")
	}
}

// The built binary behaves like dispatch: exit codes and output streams.
func TestCheckBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the varde binary")
	}
	bin := testenv.VardeBinary(t)
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.cfg", threeMistakes)
	valid := writeFile(t, dir, "valid.cfg", validCfg)
	run := func(args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), out.String(), errb.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, out.String(), errb.String()
	}
	code, out, errs := run("check", "-f", bad)
	if code != 1 || strings.Count(out, ": error: ") != 3 || !strings.Contains(errs, "configuration invalid") {
		t.Errorf("bad config: exit %d\n%s\n%s", code, out, errs)
	}
	code, _, errs = run("check", "-f", valid)
	if code != 0 || !strings.Contains(errs, "configuration valid") {
		t.Errorf("valid config: exit %d\n%s", code, errs)
	}
	if code, _, _ = run("check"); code != 2 {
		t.Errorf("usage error: exit %d, want 2", code)
	}
	if code, out, _ = run("check", "--help"); code != 0 || !strings.Contains(out, "Usage: varde check -f FILE") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}

// Every configuration under examples/ (but the seeds, checked above) is
// valid: a walkthrough that `varde check` refuses would teach nothing.
func TestCheckExamples(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*/*.cfg")
	n := 0
	for _, f := range files {
		if strings.Contains(f, "/seeds/") {
			continue
		}
		n++
		var out, errb bytes.Buffer
		if code := dispatch([]string{"check", "-q", "-f", f}, &out, &errb); code != 0 {
			t.Errorf("varde check -f %s: exit %d\n%s%s", f, code, out.String(), errb.String())
		}
	}
	if n < 2 {
		t.Fatalf("found %d example configurations, want the quick start and the canary at least", n)
	}
}
