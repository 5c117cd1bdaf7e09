package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func init() {
	register(&command{
		name:    "version",
		summary: "print varde's version and build information",
		usage:   "[-vv]",
		run: func(args []string, stdout, stderr io.Writer) int {
			c := commands["version"]
			fs := newFlagSet(c, stdout, stderr)
			vv := fs.Bool("vv", false, "also print build facts: Go version, HAProxy syntax level, registered algorithms, probes and log targets")
			if code := parseFlags(fs, args, stdout); code >= 0 {
				return code
			}
			return printVersion(stdout, *vv)
		},
	})
}

// printVersion is `varde version` / `varde -v`; verbose adds what
// `haproxy -vv` would tell a user deciding whether a configuration can
// work: the language level and what is built in.
func printVersion(w io.Writer, verbose bool) int {
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " (" + s.Value[:12] + ")"
			}
		}
	}
	fmt.Fprintf(w, "varde %s%s %s %s/%s\n", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if !verbose {
		return 0
	}
	fmt.Fprintf(w, "Built with Go %s for %s/%s, %d CPUs available\n", strings.TrimPrefix(runtime.Version(), "go"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintf(w, "Configuration language: HAProxy 2.6 (haproxy.cfg) and keepalived (keepalived.conf)\n")
	fmt.Fprintf(w, "Feature list : none of HAProxy's build options (.if feature(NAME) is false for every NAME)\n")
	fmt.Fprintf(w, "Balancing algorithms : %s\n", strings.Join(core.BalancerNames(), " "))
	fmt.Fprintf(w, "Health check probes : %s\n", strings.Join(health.ProbeNames(), " "))
	fmt.Fprintf(w, "Log target types : %s\n", strings.Join(core.SinkSchemeNames(), " "))
	return 0
}
