// Command varde-compat sweeps a directory of haproxy.cfg / keepalived.conf
// files through the original's own checker (`haproxy -c -f`, `keepalived -t
// -f`) and `varde check`,
// and prints a Markdown table of the results and of the keywords that block
// varde. It reads only the files it is given: it never fetches anything.
//
// Usage:
//
//	varde-compat [-varde PATH] [-haproxy PATH|none] [-keepalived PATH|none] [-files] DIR...
//
// docs/compat.md explains how the published sweep was gathered and run.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("varde-compat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	varde := fs.String("varde", "varde", "the varde `binary` to run `check` with")
	haproxy := fs.String("haproxy", "/usr/sbin/haproxy", "HAProxy `binary` for `-c -f`, or \"none\" to skip")
	keepalived := fs.String("keepalived", "/usr/sbin/keepalived", "keepalived `binary` for `-t -f`, or \"none\" to skip")
	perFile := fs.Bool("files", false, "also print one row per file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "varde-compat: give at least one directory of configuration files")
		return 2
	}
	files, err := collect(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "varde-compat: %v\n", err)
		return 1
	}
	sw := sweeper{varde: *varde, haproxy: *haproxy, keepalived: *keepalived}
	results := make([]result, 0, len(files))
	for _, f := range files {
		r, err := sw.one(f)
		if err != nil {
			fmt.Fprintf(stderr, "varde-compat: %v\n", err)
			return 1
		}
		results = append(results, r)
	}
	report(stdout, results, *perFile)
	return 0
}
