package main

import (
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// notifier speaks systemd's sd_notify protocol (Type=notify units): one
// datagram of NAME=value lines to the unix socket named by NOTIFY_SOCKET
// ("@name" is an abstract socket). Without NOTIFY_SOCKET it is nil and
// sends nothing. A lost datagram is not an error worth failing a reload
// for, so send only logs nothing and returns.
type notifier struct{ addr *net.UnixAddr }

func newNotifier() *notifier {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if path[0] == '@' {
		path = "\x00" + path[1:]
	}
	return &notifier{addr: &net.UnixAddr{Name: path, Net: "unixgram"}}
}

// send writes one notification; lines must not contain newlines.
func (n *notifier) send(lines ...string) {
	if n == nil {
		return
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return
	}
	defer c.Close()
	_, _ = c.Write([]byte(strings.Join(lines, "\n") + "\n"))
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, which systemd wants
// with RELOADING=1 (Type=notify-reload).
func monotonicUsec() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return ts.Sec*1_000_000 + ts.Nsec/1_000
}
