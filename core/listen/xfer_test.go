package listen

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// serveGetsocks answers one _getsocks on a real unix socket with inv's
// sockets, as the admin socket does.
func serveGetsocks(t *testing.T, inv *Inventory) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "admin.sock")
	ul, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ul.Close() })
	go func() {
		c, err := ul.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		if string(buf[:n]) != "_getsocks\n" {
			return
		}
		if err := inv.Send(c.(*net.UnixConn)); err != nil {
			t.Errorf("send: %v", err)
		}
	}()
	return path
}

// The sockets of one process's listeners reach another inventory through
// _getsocks, and a bind of the same address there takes them: a
// connection made before the take is accepted by the receiver.
func TestGetsocksHandsListenersOver(t *testing.T) {
	var old Inventory
	var addrs []string
	for i := 0; i < 3; i++ {
		l, err := old.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	closed, _ := old.Listen("tcp", "127.0.0.1:0")
	closed.Close() // no longer in use: not handed over
	got, err := Fetch(serveGetsocks(t, &old), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(addrs) {
		t.Fatalf("received %d sockets, want %d", len(got), len(addrs))
	}
	var inv Inventory
	for _, r := range got {
		if err := inv.AddReceived(r); err != nil {
			t.Fatal(err)
		}
	}
	c, err := net.DialTimeout("tcp", addrs[1], time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l, err := inv.Listen("tcp", addrs[1])
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The old copy never accepts here: the receiver gets the connection
	// that waited in the shared backlog.
	l.(*Listener).SetDeadline(time.Now().Add(2 * time.Second))
	s, err := l.Accept()
	if err != nil {
		t.Fatalf("accept on the received socket: %v", err)
	}
	s.Close()
	if inv.Len() != 2 {
		t.Fatalf("kept after one take = %d, want 2", inv.Len())
	}
	inv.CloseUnclaimed()
}

// More sockets than one message carries go in several batches, each
// acknowledged, as HAProxy sends them.
func TestGetsocksBatches(t *testing.T) {
	var old Inventory
	const n = maxSendFD + 10
	for i := 0; i < n; i++ {
		l, err := old.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
	}
	got, err := Fetch(serveGetsocks(t, &old), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("received %d sockets, want %d", len(got), n)
	}
	for _, r := range got {
		r.File.Close()
	}
}

// A process that refuses (no `expose-fd listeners`) closes at once: the
// error says what to fix.
func TestFetchRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.sock")
	ul, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	go func() {
		if c, err := ul.Accept(); err == nil {
			c.Read(make([]byte, 64))
			c.Close()
		}
	}()
	_, err = Fetch(path, 5*time.Second)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("expose-fd listeners")) {
		t.Fatalf("err = %v, want a hint about expose-fd listeners", err)
	}
}

// A socket bound with properties a varde bind does not ask for is left to
// bind anew (and so fails there), never silently served.
func TestPropsKeepSocketsApart(t *testing.T) {
	v6only, err := rawListen(t, func(fd int) error { return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1) })
	if err != nil {
		t.Skipf("no IPv6: %v", err)
	}
	var inv Inventory
	if err := inv.Add(v6only); err != nil {
		t.Fatal(err)
	}
	port := inv.free[0].addr.Port()
	if !inv.free[0].props.V6Only {
		t.Fatal("v6only not read from the socket")
	}
	if l, _ := inv.take("tcp", netip.AddrPortFrom(netip.IPv6Unspecified(), port), -1); l != nil {
		l.Close()
		t.Fatal("a v6only socket was given to a dual-stack bind")
	}
	r := Received{Props: Props{Namespace: "blue"}}
	if r.Props.plain(netip.MustParseAddrPort("127.0.0.1:80")) {
		t.Fatal("a socket in another namespace counts as plain")
	}
	inv.CloseUnclaimed()
}

// rawListen opens a listening [::]:0 socket with set applied before bind.
func rawListen(t *testing.T, set func(fd int) error) (f *os.File, err error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = set(int(fd)) }); err != nil {
			return err
		}
		return serr
	}}
	l, err := lc.Listen(t.Context(), "tcp6", "[::]:0")
	if err != nil {
		return nil, err
	}
	defer l.Close()
	return l.(*net.TCPListener).File()
}

func TestParseRecords(t *testing.T) {
	rec := appendRecord(appendRecord(nil, Props{}), Props{Namespace: "ns1", Interface: "eth0"})
	for _, tc := range []struct {
		name string
		b    []byte
		n    int
		want []Props
		err  error
	}{
		{"two", rec, 2, []Props{{}, {Namespace: "ns1", Interface: "eth0"}}, nil},
		{"short", rec[:len(rec)-1], 2, nil, errShort},
		{"empty", nil, 0, []Props{}, nil},
		{"trailing", append(rec, 9), 2, nil, errors.New("trailing")},
		{"haproxy plain", []byte{0, 0, 0, 0, 0, 0}, 1, []Props{{}}, nil},
	} {
		got, err := parseRecords(tc.b, tc.n)
		if (err == nil) != (tc.err == nil) || (errors.Is(tc.err, errShort) && !errors.Is(err, errShort)) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err == nil && len(got) != len(tc.want) {
			t.Errorf("%s: %d records, want %d", tc.name, len(got), len(tc.want))
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: record %d = %+v, want %+v", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}

// FuzzParseRecords: any bytes from a peer parse or fail, never panic, and
// what parses encodes back to the same bytes.
func FuzzParseRecords(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0}, 1)
	f.Add(appendRecord(nil, Props{Namespace: "n", Interface: "lo"}), 1)
	f.Add([]byte{255}, 3)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 0 || n > 1000 {
			return
		}
		got, err := parseRecords(b, n)
		if err != nil {
			return
		}
		var enc []byte
		for _, p := range got {
			enc = appendRecord(enc, p)
		}
		if len(enc) != len(b) {
			t.Fatalf("re-encoded %d bytes from %d", len(enc), len(b))
		}
	})
}

// FuzzReceive: whatever bytes an old process answers (here without
// descriptors), receive returns an error or a consistent result, never
// panics, never waits past the peer's close.
func FuzzReceive(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{255, 255, 255, 127})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, answer []byte) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			t.Skip(err)
		}
		mine, theirs := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
		defer mine.Close()
		c, err := net.FileConn(mine)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		theirs.Write(answer)
		theirs.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		got, props, err := receive(c.(*net.UnixConn))
		if err == nil && len(got) != len(props) {
			t.Fatalf("%d sockets, %d records", len(got), len(props))
		}
		for _, fd := range got {
			unix.Close(fd)
		}
	})
}
