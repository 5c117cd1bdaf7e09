// Command varde is a load balancer that reads haproxy.cfg and keepalived.conf.
//
// Each subcommand lives in its own file and registers itself in init(), so
// the subsystems (engine, config, logs, vip, admin) stay independent.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one `varde <name>` subcommand. run returns the process exit
// code: 0 success, 1 failure, 2 usage error.
type command struct {
	name    string
	summary string
	usage   string // after "varde <name> ", e.g. "-f FILE [-f FILE ...]"
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("varde: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run([]string{"--help"}, stdout, stderr)
			}
		}
		usage(stdout)
		return 0
	case "-v", "--version", "-version":
		args[0] = "version"
	case "-vv":
		args = []string{"version", "-vv"}
	}
	if strings.HasPrefix(args[0], "-") && args[0] != "version" {
		// HAProxy's command line: `varde -c -f CFG`, `varde -f CFG -p PID`.
		return haMain(args, stdout, stderr)
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "varde: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	rest := args[1:]
	if c.name == "run" {
		// HAProxy's -f DIR, -p, -D and -db for `varde run` (haflags.go).
		var err error
		if rest, err = haRunArgs(rest, stderr); err != nil {
			fmt.Fprintf(stderr, "varde run: %v\n", err)
			return 2
		}
	}
	return c.run(rest, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "varde: a load balancer for haproxy.cfg and keepalived.conf users\n\nUsage:\n  varde <command> [flags]\n  varde [-c] [-q] -f FILE|DIR [-f ...] [-p PIDFILE] [-D|-db]   (as haproxy; -c checks, otherwise runs)\n  varde -v | -vv\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'varde <command> --help' for a command's flags.\n")
}

// newFlagSet builds a FlagSet whose --help prints the command's usage to
// stdout and whose errors print to stderr, so every command behaves alike.
func newFlagSet(c *command, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("varde "+c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: varde %s %s\n\n%s\n", c.name, c.usage, c.summary)
		if hasFlags(fs) {
			fmt.Fprintf(out, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseFlags parses args; it returns -1 to continue, or the exit code to
// return (0 after --help, 2 on a usage error).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) int {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		if a == "--" {
			break
		}
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	return -1
}

// multiFlag collects repeated flags such as -f FILE -f FILE.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
