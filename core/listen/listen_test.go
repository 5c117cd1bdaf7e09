package listen

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A socket offered by one owner is taken by the next Listen for the same
// address: a client connecting between the old owner's close and the new
// owner's first Accept waits in the backlog instead of being refused.
func TestOfferedSocketIsReused(t *testing.T) {
	var inv Inventory
	old, err := inv.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := old.Addr().String()
	if err := inv.Offer(old); err != nil {
		t.Fatal(err)
	}
	old.Close()
	c, err := net.DialTimeout("tcp", addr, time.Second) // lands in the kept socket's backlog
	if err != nil {
		t.Fatalf("dial while only the inventory holds the socket: %v", err)
	}
	defer c.Close()
	l, err := inv.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if inv.Len() != 0 {
		t.Fatalf("kept sockets after take = %d, want 0", inv.Len())
	}
	l.(*Listener).SetDeadline(time.Now().Add(2 * time.Second))
	s, err := l.Accept()
	if err != nil {
		t.Fatalf("accept the connection made before the take: %v", err)
	}
	s.Close()
}

func TestUnclaimedSocketsClose(t *testing.T) {
	var inv Inventory
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := inv.Offer(l); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := inv.CloseUnclaimed(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("a removed bind still accepts connections")
	}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		addr, want string
		ok         bool
	}{
		{":8080", "[::]:8080", true},
		{"0.0.0.0:80", "0.0.0.0:80", true},
		{"127.0.0.1:443", "127.0.0.1:443", true},
		{"[::1]:443", "[::1]:443", true},
		{"127.0.0.1:0", "", false},
		{"localhost:80", "", false},
		{"junk", "", false},
	} {
		got, ok := resolve("tcp", tc.addr)
		if ok != tc.ok || (ok && got.String() != tc.want) {
			t.Errorf("resolve(%q) = %v, %v; want %s, %v", tc.addr, got, ok, tc.want, tc.ok)
		}
	}
}

// inherit makes a listening socket look inherited as a descriptor the
// process had at start, as `bind fd@N` needs.
func inherit(t *testing.T) (int, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	fd := int(f.Fd())
	// f is dropped without closing: the descriptor is the "inherited" one.
	inheritedMu.Lock()
	inheritedAtStart[fd] = true
	inheritedMu.Unlock()
	return fd, l.Addr().String()
}

// bind fd@N takes the inherited socket; after the generation offers it
// back (a reload), the next generation's fd@N finds it again although
// descriptor N itself was closed, and a plain bind of another address
// does not take it.
func TestFDBindAcrossGenerations(t *testing.T) {
	var inv Inventory
	fd, addr := inherit(t)
	name := "fd@" + strconv.Itoa(fd)
	l, err := inv.Listen("tcp", name)
	if err != nil {
		t.Fatal(err)
	}
	if l.Addr().String() != addr {
		t.Fatalf("fd@ listener on %s, want %s", l.Addr(), addr)
	}
	if valid(fd) {
		t.Fatal("the inherited descriptor stays open beside the listener's")
	}
	if err := inv.Offer(l); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if other, _ := inv.take("tcp", netip.MustParseAddrPort("127.0.0.1:1"), -1); other != nil {
		t.Fatal("a bind of another address took the fd@ socket")
	}
	l2, err := inv.Listen("tcp", name)
	if err != nil {
		t.Fatalf("second generation: %v", err)
	}
	defer l2.Close()
	if l2.Addr().String() != addr {
		t.Fatalf("second fd@ listener on %s, want %s", l2.Addr(), addr)
	}
	if _, err := inv.Listen("tcp", name); err == nil {
		t.Fatal("the same fd@ bound twice")
	}
}

func TestFDBindRefusesOwnDescriptors(t *testing.T) {
	var inv Inventory
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, _ := l.(*net.TCPListener).File() // opened after start: not inherited
	defer f.Close()
	if _, err := inv.Listen("tcp", "fd@"+strconv.Itoa(int(f.Fd()))); err == nil || !strings.Contains(err.Error(), "not started with descriptor") {
		t.Fatalf("err = %v", err)
	}
}

// A varde wildcard bind (dual-stack [::]) takes a received IPv4-only
// 0.0.0.0 socket of the same port (HAProxy's `bind *:80`) when no [::]
// one is there, and the inventory says so; an exact [::] socket wins.
func TestWildcardTakesIPv4Wildcard(t *testing.T) {
	var inv Inventory
	v4, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	port := v4.Addr().(*net.TCPAddr).Port
	if err := inv.Offer(v4); err != nil {
		t.Fatal(err)
	}
	v4.Close()
	l, err := inv.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := l.Addr().String(); got != "0.0.0.0:"+strconv.Itoa(port) {
		t.Fatalf("wildcard bind listens on %s", got)
	}
	if n := inv.Notes(); len(n) != 1 || !strings.Contains(n[0], "IPv6 clients are not served") {
		t.Fatalf("notes %q", n)
	}
	if n := inv.Notes(); len(n) != 0 {
		t.Fatalf("notes given twice: %q", n)
	}
}

// HAProxy's `bind :80` is IPv4 only: an IPv4 wildcard must not become
// Go's dual-stack [::] socket, or IPv6 clients would reach rules, ACLs and
// `type ip` stick tables written for IPv4 (and escape them).
func TestIPv4WildcardRefusesIPv6(t *testing.T) {
	var inv Inventory
	l, err := inv.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(port)), time.Second); err != nil {
		t.Fatalf("IPv4 client: %v", err)
	} else {
		c.Close()
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("::1", fmt.Sprint(port)), time.Second); err == nil {
		c.Close()
		t.Fatal("an IPv6 client reached a bind on 0.0.0.0")
	}
}

func TestFamily(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"0.0.0.0:80", "tcp4"},
		{"127.0.0.1:80", "tcp4"},
		{"[::]:80", "tcp"},
		{"[::1]:80", "tcp"},
		{":80", "tcp"},
		{"localhost:80", "tcp"},
	} {
		if got := family("tcp", tc.addr); got != tc.want {
			t.Errorf("family(%q) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

// Offering a running listener's socket (a reload's first step) must leave
// it non-blocking: the running engine's event loops keep calling accept(2)
// on it until the new generation commits, and on a blocking socket the
// call would wait for the next client, stalling (or hanging) the reload.
func TestOfferKeepsTheRunningSocketNonBlocking(t *testing.T) {
	var inv Inventory
	l, err := inv.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	nonBlocking := func() bool {
		rc, err := l.(*Listener).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var flags int
		rc.Control(func(fd uintptr) { flags, _ = unix.FcntlInt(fd, unix.F_GETFL, 0) })
		return flags&unix.O_NONBLOCK != 0
	}
	if !nonBlocking() {
		t.Fatal("a fresh listener is blocking")
	}
	if err := inv.Offer(l); err != nil {
		t.Fatal(err)
	}
	if !nonBlocking() {
		t.Fatal("Offer put the running listener's socket in blocking mode")
	}
	files, _ := inv.exported() // what _getsocks sends a successor
	for _, f := range files {
		f.Close()
	}
	if len(files) == 0 || !nonBlocking() {
		t.Fatalf("exporting %d sockets put the running listener's socket in blocking mode", len(files))
	}
}
