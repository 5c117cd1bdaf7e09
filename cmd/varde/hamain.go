package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/generation"
)

// haUnsupported are HAProxy options varde refuses with a reason: accepting
// them would make varde behave differently from what the user asked.
var haUnsupported = map[string]string{
	"-S":  "varde has no master CLI; use `stats socket` and `varde ctl`",
	"-cc": "evaluate the condition with `.if` in the configuration instead",
}

// haMain runs varde with HAProxy's command line (see haflags.go): the
// first argument is a flag, not a subcommand.
func haMain(args []string, stdout, stderr io.Writer) int {
	// -x SOCKET, -sf PID..., -st PID...: a binary upgrade (upgrade.go).
	up, args, err := takeUpgradeFlags(args)
	if err != nil {
		fmt.Fprintf(stderr, "varde: %v\n", err)
		return 2
	}
	args = takeMasterWorker(args, stderr)
	for _, a := range args {
		if a == "--" {
			break
		}
		if why, ok := haUnsupported[a]; ok {
			fmt.Fprintf(stderr, "varde: %s is not supported: %s\n", a, why)
			return 2
		}
	}
	fs := flag.NewFlagSet("varde", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { haUsage(fs) }
	var files multiFlag
	fs.Var(&files, "f", "configuration `FILE` (haproxy.cfg or keepalived.conf syntax); repeat to merge in order")
	check := fs.Bool("c", false, "check the configuration and exit: 0 valid, 1 invalid (as haproxy -c)")
	quiet := fs.Bool("q", false, "quiet: with -c, print only errors")
	v := fs.Bool("v", false, "print the version")
	vv := fs.Bool("vv", false, "print the version and build facts")
	pidfile := ""
	localPeer := fs.String("L", "", "this node's peer `NAME` in peers sections (default: localpeer, else the host name)")
	haRunFlags(fs, &pidfile)
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	// As haproxy: everything after "--" is a configuration file or directory.
	for _, a := range fs.Args() {
		if err := fs.Lookup("f").Value.Set(a); err != nil {
			fmt.Fprintf(stderr, "varde: %v\n", err)
			return 1
		}
	}
	switch {
	case *vv:
		return printVersion(stdout, true)
	case *v:
		return printVersion(stdout, false)
	case len(files) == 0:
		fmt.Fprintf(stderr, "varde: no configuration file (use -f FILE or -f DIR)\n")
		fs.Usage()
		return 1
	case *check:
		return haCheck(files, *localPeer, *quiet, stdout, stderr)
	}
	runArgs := make([]string, 0, 2*len(files)+2)
	for _, f := range files {
		runArgs = append(runArgs, "-f", f)
	}
	if pidfile != "" {
		runArgs = append(runArgs, "--pidfile", pidfile)
	}
	if *localPeer != "" {
		runArgs = append(runArgs, "-L", *localPeer)
	}
	runArgs = append(runArgs, up.args()...)
	return commands["run"].run(runArgs, stdout, stderr)
}

// haCheck is `haproxy -c`: problems on stderr, the verdict on stdout in
// HAProxy's words, exit 0 when valid and 1 when not.
func haCheck(files []string, localPeer string, quiet bool, stdout, stderr io.Writer) int {
	// The very step `varde check` and `varde run` take.
	g, d := generation.Load(files, os.Getenv, generation.Options{Stdout: stdout, Stderr: stderr, Version: version, LocalPeer: localPeer, CheckOnly: true})
	defer g.Close()
	d.Write(stderr, quiet)
	if d.HasErrors() {
		fmt.Fprintf(stderr, "varde: fatal errors found in configuration (%s).\n", checkSummary(g.Set, d))
		return 1
	}
	if quiet {
		return 0
	}
	for _, it := range d.Items() {
		if it.Severity == diag.Warning {
			fmt.Fprintln(stdout, "Warnings were found.")
			break
		}
	}
	fmt.Fprintln(stdout, "Configuration file is valid")
	return 0
}

func haUsage(fs *flag.FlagSet) {
	out := fs.Output()
	fmt.Fprintf(out, "Usage: varde [-c] [-q] -f FILE|DIR [-f FILE|DIR ...] [-p PIDFILE] [-L NAME] [-D | -db] [-x SOCKET] [-sf|-st PID...] [-- FILE ...]\n       varde -v | -vv\n       varde <command> [flags]   (see varde --help)\n\nHAProxy's command line: -c checks like haproxy -c, without -c varde runs like `varde run`.\nBinary upgrade: -x SOCKET takes the listening sockets of the old process (stats socket ... expose-fd listeners),\n-sf PID... tells the old processes to finish once this one listens (-st PID...: to stop).\n\nFlags:\n")
	fs.PrintDefaults()
}

// takeMasterWorker removes -W and -Ws (HAProxy's master-worker mode, with
// systemd notification for -Ws, as Debian's haproxy.service runs it) and
// says once what varde does instead: one process that is its own master.
// It reloads on SIGUSR2 and SIGHUP, as a master does, and sends READY=1,
// RELOADING=1 and STOPPING=1 to NOTIFY_SOCKET whenever it is set, so that
// unit (Type=notify, ExecReload kill -USR2) works unchanged.
func takeMasterWorker(args []string, stderr io.Writer) []string {
	out := args[:0:0]
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "-W" || a == "-Ws" {
			fmt.Fprintf(stderr, "varde: %s: varde is its own master: it reloads on SIGUSR2/SIGHUP and notifies systemd (Type=notify) itself\n", a)
			continue
		}
		out = append(out, a)
	}
	return out
}
