package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Kind tells the two configuration languages apart.
type Kind string

// The kinds of file a sweep meets.
const (
	HAProxy    Kind = "haproxy"
	Keepalived Kind = "keepalived"
)

// Verdict is varde's answer for one file.
type Verdict string

// Verdicts, from best to worst. Clean means no error and no warning that a
// keyword is not enforced; Advisory means only lint-style warnings (the kind
// HAProxy prints too, or "accepted but ignored" process-management lines);
// NotEnforced means some keyword is parsed but not yet acted on; Refused
// means `varde check` exits non-zero.
const (
	Clean       Verdict = "clean"
	Advisory    Verdict = "advisory"
	NotEnforced Verdict = "not-enforced"
	Refused     Verdict = "refused"
)

// result is one file's row.
type result struct {
	File        string
	Kind        Kind
	HAProxyOK   bool   // the original's checker (haproxy -c, keepalived -t) accepted it
	HAProxyWhy  string // its first complaint when it refused
	Verdict     Verdict
	Errors      []string // keywords varde refused, one entry per keyword
	NotEnforced []string // keywords reported "parsed, not yet enforced"
}

type sweeper struct{ varde, haproxy, keepalived string }

// timeout bounds each external run: a checker that hangs must not hang the sweep.
const timeout = 30 * time.Second

func (sw sweeper) one(file string) (result, error) {
	r := result{File: file, Kind: kindOf(file), HAProxyOK: true}
	orig, args := sw.haproxy, []string{"-c", "-f", file}
	if r.Kind == Keepalived {
		orig, args = sw.keepalived, []string{"-t", "-f", file}
	}
	if orig != "none" {
		out, code, err := runTool(orig, args...)
		if err != nil {
			return r, fmt.Errorf("%s %s: %w", orig, strings.Join(args, " "), err)
		}
		r.HAProxyOK = code == 0
		if !r.HAProxyOK {
			r.HAProxyWhy = firstAlert(out)
		}
	}
	out, code, err := runTool(sw.varde, "check", "-f", file)
	if err != nil {
		return r, fmt.Errorf("varde check -f %s: %w", file, err)
	}
	r.Errors, r.NotEnforced, r.Verdict = classify(out, code)
	return r, nil
}

// runTool runs a checker and returns its combined output and exit code. Only
// a failure to start it (or a timeout) is an error.
func runTool(bin string, args ...string) (string, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return out.String(), -1, fmt.Errorf("timed out after %s", timeout)
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode(), nil
	case err != nil:
		return "", -1, err
	}
	return out.String(), 0, nil
}

var (
	diagLine    = regexp.MustCompile(`^\S+:\d+: (error|warning): (.*)$`)
	notEnforced = regexp.MustCompile(`parsed, not yet enforced: (.*?) \(`)
	alertLine   = regexp.MustCompile(`\[ALERT\].*?: config : (.*)$`)
)

// classify reads `varde check` output (FILE:LINE: error|warning: KEYWORD: msg).
func classify(out string, code int) (errs, unenforced []string, v Verdict) {
	advisory := false
	for _, line := range strings.Split(out, "\n") {
		m := diagLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if n := notEnforced.FindStringSubmatch(m[2]); n != nil {
			unenforced = append(unenforced, n[1])
			continue
		}
		kw, _, _ := strings.Cut(m[2], ": ")
		if m[1] == "error" {
			errs = append(errs, kw)
		} else {
			advisory = true
		}
	}
	errs, unenforced = uniq(errs), uniq(unenforced)
	switch {
	case code != 0:
		v = Refused
	case len(unenforced) > 0:
		v = NotEnforced
	case advisory:
		v = Advisory
	default:
		v = Clean
	}
	return errs, unenforced, v
}

func firstAlert(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if m := alertLine.FindStringSubmatch(line); m != nil {
			return m[1]
		}
	}
	if s := strings.TrimSpace(out); s != "" { // keepalived -t: its first line
		return strings.SplitN(s, "\n", 2)[0]
	}
	return "exit status non-zero"
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// keepalivedRE recognises keepalived.conf by its top-level blocks.
var keepalivedRE = regexp.MustCompile(`(?m)^\s*(vrrp_instance|vrrp_script|vrrp_sync_group|virtual_server|global_defs)\b`)

func kindOf(file string) Kind {
	b, err := os.ReadFile(file)
	if err == nil && keepalivedRE.Match(b) {
		return Keepalived
	}
	return HAProxy
}

// collect lists the regular files under dirs, sorted, skipping dot files.
func collect(dirs []string) ([]string, error) {
	var files []string
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(e.Name(), ".") && p != d {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if e.Type().IsRegular() {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", d, err)
		}
	}
	sort.Strings(files)
	return files, nil
}
