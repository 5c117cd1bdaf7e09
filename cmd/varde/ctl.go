package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// `varde ctl -s SOCKET CMD...` sends one command line to a running varde's
// admin socket (`stats socket`) and prints the answer, like
// `echo CMD | socat stdio SOCKET` with HAProxy.
func init() {
	register(&command{
		name:    "ctl",
		summary: "send a command to a running varde's admin socket (show stat, set server ..., help)",
		usage:   "-s SOCKET|HOST:PORT COMMAND [ARGS...]",
		run:     runCtl,
	})
}

func runCtl(args []string, stdout, stderr io.Writer) int {
	c := commands["ctl"]
	fs := newFlagSet(c, stdout, stderr)
	sock := fs.String("s", "/run/varde/admin.sock", "admin socket path, or HOST:PORT for the loopback TCP listener")
	timeout := fs.Duration("t", 10*time.Second, "give up after this long")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	line := strings.Join(fs.Args(), " ")
	network := "unix"
	if !strings.Contains(*sock, "/") && strings.Contains(*sock, ":") {
		network = "tcp"
	}
	conn, err := net.DialTimeout(network, *sock, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "varde ctl: %v\n", err)
		return 1
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(*timeout))
	if _, err := io.WriteString(conn, line+"\n"); err != nil {
		fmt.Fprintf(stderr, "varde ctl: %v\n", err)
		return 1
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		fmt.Fprintf(stderr, "varde ctl: %v\n", err)
		return 1
	}
	s := strings.TrimRight(string(out), "\n")
	if s != "" {
		fmt.Fprintln(stdout, s)
	}
	for _, bad := range []string{"Success=0", "Unknown command", "Permission denied", "No such server.", "No such backend.", "Require ", "Invalid "} {
		if strings.HasPrefix(s, bad) {
			return 1
		}
	}
	return 0
}
