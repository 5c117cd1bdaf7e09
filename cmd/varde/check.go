package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/generation"
)

func init() {
	register(&command{
		name:    "check",
		summary: "parse and validate haproxy.cfg / keepalived.conf files, printing every problem",
		usage:   "-f FILE|DIR [-f FILE|DIR ...] [-q]",
		run:     runCheck,
	})
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	c := commands["check"]
	fs := newFlagSet(c, stdout, stderr)
	var files multiFlag
	fs.Var(&files, "f", "configuration `FILE` (haproxy.cfg or keepalived.conf syntax, told apart by content); repeat to merge in order")
	quiet := fs.Bool("q", false, "print only errors, not warnings")
	localPeer := fs.String("L", "", "this node's peer `NAME` in peers sections (as haproxy -L; default: localpeer, else the host name)")
	cfgDirs(fs)
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "varde check: unexpected argument %q (files are given with -f)\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "varde check: no configuration file (use -f FILE)\n")
		fs.Usage()
		return 2
	}
	// The very step `varde run` takes before it starts anything.
	g, d := generation.Load(files, os.Getenv, generation.Options{Stdout: stdout, Stderr: stderr, Version: version, LocalPeer: *localPeer, CheckOnly: true})
	defer g.Close()
	d.Write(stdout, *quiet)
	fmt.Fprintln(stderr, checkSummary(g.Set, d))
	if d.HasErrors() {
		return 1
	}
	return 0
}

// checkSummary is the one-line verdict printed to stderr, e.g.
// "configuration valid: 2 frontends, 3 backends, 1 vrrp_instance; 2 warnings".
func checkSummary(set *config.Set, d *diag.List) string {
	errs, warns := 0, 0
	for _, it := range d.Items() {
		switch it.Severity {
		case diag.Error:
			errs++
		case diag.Warning:
			warns++
		}
	}
	var parts []string
	if h := set.HAProxy; h != nil {
		parts = append(parts, plural(len(h.Frontends), "frontend"), plural(len(h.Backends), "backend"))
	}
	if k := set.Keepalived; k != nil {
		parts = append(parts, plural(len(k.Instances), "vrrp_instance"))
	}
	verdict := "configuration valid"
	if errs > 0 {
		verdict = "configuration invalid"
	}
	tail := plural(warns, "warning")
	if errs > 0 {
		tail = plural(errs, "error") + ", " + tail
	}
	return fmt.Sprintf("%s: %s; %s", verdict, strings.Join(parts, ", "), tail)
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
