package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// HAProxy's command line, so a HAProxy user's muscle memory and scripts
// work: `varde -c -f CFG`, `varde -f CFG -p PIDFILE`, `varde -vv`.
//
//	-f FILE|DIR  configuration file, or every *.cfg of a directory (repeatable)
//	-c           check the configuration and exit (0 valid, 1 invalid)
//	-p PIDFILE   write the process id there
//	-D           accepted; varde stays in the foreground and says so
//	-db          foreground (varde always is)
//	-q           quiet: only errors
//	-v, -vv      version; -vv adds build facts
//	-x SOCKET    take the old process's listening sockets (upgrade.go)
//	-sf PID...   once listening, tell the old processes to finish (SIGUSR1)
//	-st PID...   once listening, tell the old processes to stop (SIGTERM)
//
// -D: HAProxy forks into the background. A Go process cannot fork safely,
// and under systemd the right unit is Type=notify without -D (HAProxy's own
// unit uses -Ws, not -D). So varde accepts -D, keeps running in the
// foreground and prints one line saying so, rather than refusing a
// command line copied from an init script or silently behaving differently.

// cfgDirFlag wraps the -f flag's value: a directory stands for its *.cfg
// files, as HAProxy's cfgfiles_expand_directories(): regular files (after
// following symlinks) whose name does not start with '.' and whose first
// ".cfg" ends the name, in byte order, not recursive. Anything else (a
// file, a missing path) passes through so the loader reports it with its
// name.
type cfgDirFlag struct{ inner flag.Value }

func (c cfgDirFlag) String() string {
	if c.inner == nil {
		return ""
	}
	return c.inner.String()
}

func (c cfgDirFlag) Set(v string) error {
	files, err := cfgFilesOf(v)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := c.inner.Set(f); err != nil {
			return err
		}
	}
	return nil
}

// cfgFilesOf expands one -f argument.
func cfgFilesOf(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open configuration directory %s: %v", path, errors.Unwrap(err))
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || len(name) < 4 || strings.Index(name, ".cfg") != len(name)-4 {
			continue
		}
		full := filepath.Join(path, name)
		if fst, err := os.Stat(full); err != nil || !fst.Mode().IsRegular() {
			continue
		}
		out = append(out, full)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("configuration directory %s holds no *.cfg file", path)
	}
	return out, nil
}

// haRunFlags adds HAProxy's run-time flags to a FlagSet: -f accepts
// directories, -p is the pid file, -D and -db are accepted. haMain uses
// it; `varde run` gets the same flags through haRunArgs.
func haRunFlags(fs *flag.FlagSet, pidfile *string) {
	cfgDirs(fs)
	if pidfile != nil {
		fs.StringVar(pidfile, "p", "", "write the process id to `PIDFILE` (as haproxy -p)")
	}
	fs.Var(daemonFlag{w: fs.Output()}, "D", "accepted for HAProxy compatibility: varde stays in the foreground (run it under systemd with Type=notify)")
	fs.Bool("db", false, "foreground mode (as haproxy -db); varde always runs in the foreground")
}

// cfgDirs makes the FlagSet's -f accept directories.
func cfgDirs(fs *flag.FlagSet) {
	if f := fs.Lookup("f"); f != nil {
		f.Value = cfgDirFlag{inner: f.Value}
		f.Usage += "; a directory stands for its *.cfg files, sorted"
	}
}

// daemonFlag is -D: it prints, when given, what varde does instead.
type daemonFlag struct{ w io.Writer }

func (daemonFlag) String() string   { return "false" }
func (daemonFlag) IsBoolFlag() bool { return true }
func (d daemonFlag) Set(string) error {
	fmt.Fprintln(d.w, "varde: -D: varde does not fork into the background; it keeps running in the foreground (under systemd use Type=notify without -D)")
	return nil
}

// runValueFlags are `varde run`'s flags that take a value, so their value
// is never mistaken for a flag.
var runValueFlags = map[string]bool{"log-format": true, "grace": true, "pidfile": true, "L": true}

// haRunArgs rewrites `varde run` arguments so run.go needs no change for
// HAProxy's flags: each -f DIR becomes its -f FILE list, -p PIDFILE becomes
// --pidfile PIDFILE, -D prints what varde does instead and -db (always
// true) goes. Anything else, and everything after the first non-flag or
// "--", is left for run's own flag parsing to judge.
func haRunArgs(args []string, stderr io.Writer) ([]string, error) {
	// -sf's PID list is not a flag value the loop below could skip: take
	// the upgrade flags out first, and put them back in front for run.
	up, args, err := takeUpgradeFlags(args)
	if err != nil {
		return nil, err
	}
	out := append(make([]string, 0, len(args)+4), up.args()...)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") {
			return append(out, args[i:]...), nil
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasVal && (name == "f" || name == "p" || runValueFlags[name]) && i+1 < len(args) {
			i++
			val, hasVal = args[i], true
		}
		switch {
		case name == "f" && hasVal:
			files, err := cfgFilesOf(val)
			if err != nil {
				return nil, err
			}
			for _, f := range files {
				out = append(out, "-f", f)
			}
		case name == "p" && hasVal:
			out = append(out, "--pidfile", val)
		case name == "D" && !hasVal:
			_ = daemonFlag{w: stderr}.Set("") // prints the notice
		case name == "db" && !hasVal:
		case hasVal:
			out = append(out, "-"+name, val)
		default:
			out = append(out, a)
		}
	}
	return out, nil
}
