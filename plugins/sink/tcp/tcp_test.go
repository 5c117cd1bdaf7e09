package tcp_test

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
	"github.com/varde-lb/varde/plugins/sink/tcp"
)

// readFrames reads RFC 6587 octet-counted frames until the connection closes.
func readFrames(c net.Conn, out chan<- string) {
	r := bufio.NewReader(c)
	for {
		n, err := r.ReadString(' ')
		if err != nil {
			return
		}
		size, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil {
			out <- "bad frame length " + n
			return
		}
		buf := make([]byte, size)
		if _, err := ioReadFull(r, buf); err != nil {
			return
		}
		out <- string(buf)
	}
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func batch(msgs ...string) ([]byte, []int) {
	var buf []byte
	var ends []int
	for _, m := range msgs {
		buf = append(buf, fmt.Sprintf("%d %s", len(m), m)...)
		ends = append(ends, len(buf))
	}
	return buf, ends
}

func TestReconnectAfterServerRestart(t *testing.T) {
	port := testenv.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	got := make(chan string, 100)
	var mu sync.Mutex
	var conns []net.Conn
	listen := func() net.Listener {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				go readFrames(c, got)
			}
		}()
		return l
	}
	s := tcp.New(addr)
	defer s.Close()
	// Nobody listening: the batch fails fast, and the next attempt waits
	// for the backoff instead of hammering the server.
	if err := s.Write(batch("lost")); err == nil {
		t.Fatal("write without a server succeeded")
	}
	if err := s.Write(batch("lost")); err != tcp.ErrDisconnected {
		t.Fatalf("second write during backoff: %v, want ErrDisconnected", err)
	}
	l := listen()
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err = s.Write(batch("one", "two with spaces")); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("no reconnect: %v", err)
	}
	for _, want := range []string{"one", "two with spaces"} {
		select {
		case m := <-got:
			if m != want {
				t.Fatalf("got %q, want %q", m, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("frame %q not received", want)
		}
	}
	// Server restarts: writes fail until the sink reconnects, then flow again.
	l.Close()
	mu.Lock()
	for _, c := range conns {
		c.Close() // the server really goes away
	}
	mu.Unlock()
	l = listen()
	defer l.Close()
	deadline = time.Now().Add(15 * time.Second)
	for {
		err := s.Write(batch("after restart"))
		if err == nil {
			select {
			case m := <-got:
				if m == "after restart" {
					return
				}
			case <-time.After(200 * time.Millisecond):
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("never delivered after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
