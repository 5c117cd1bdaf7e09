package listen

import (
	"net"
	"testing"
	"time"
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
