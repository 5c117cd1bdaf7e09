package unix_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/varde-lb/varde/logpipe"
	_ "github.com/varde-lb/varde/plugins/sink/unix"
)

func listen(t *testing.T, path string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func read(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

// TestDatagramsAndSyslogRestart: one datagram per message, and after the
// syslog daemon recreates its socket the sink reconnects.
func TestDatagramsAndSyslogRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log.sock")
	l := listen(t, path)
	spec, err := logpipe.ParseLogLine([]string{"unix@" + path, "local0"})
	if err != nil {
		t.Fatal(err)
	}
	sink := mustSink(t, spec)
	defer sink.Close()
	buf := []byte("<134>one<134>two")
	if err := sink.Write(buf, []int{8, 16}); err != nil {
		t.Fatal(err)
	}
	if a, b := read(t, l), read(t, l); a != "<134>one" || b != "<134>two" {
		t.Fatalf("datagrams %q %q", a, b)
	}
	// The daemon restarts: old socket gone, a new one at the same path.
	l.Close()
	os.Remove(path)
	l = listen(t, path)
	defer l.Close()
	var werr error
	for i := 0; i < 3; i++ { // the first write may fail on the stale socket
		if werr = sink.Write([]byte("again"), []int{5}); werr == nil {
			break
		}
	}
	if werr != nil {
		t.Fatal(werr)
	}
	if got := read(t, l); got != "again" {
		t.Fatalf("after restart: %q", got)
	}
}
