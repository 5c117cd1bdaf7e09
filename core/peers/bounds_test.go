package peers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/sticktable"
	"github.com/varde-lb/varde/core/testenv"
)

// defineMsg is a StktDefine message for def as ReadMessage returns it.
func defineMsg(t *testing.T, def *TableDef) Message {
	t.Helper()
	b := AppendTableDef(nil, def)
	m, err := ReadMessage(bufio.NewReader(bytes.NewReader(b)), MaxMessage)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDefinitionsAreBounded: a peer defining thousands of tables (with
// long names, or a real table under many ids) leaves at most one entry
// per local table; updates for a table not kept are ignored.
func TestDefinitionsAreBounded(t *testing.T) {
	n, _ := meshNode(t, "a", testenv.FreePorts(t, 2))
	s := &session{n: n, peer: "b", remote: map[uint64]*remoteTable{}}
	long := strings.Repeat("x", 4096)
	st := n.tables[0].def
	for i := range 2000 {
		unknown := st
		unknown.ID, unknown.Name = uint64(i+1), long
		if err := s.stickTable(defineMsg(t, &unknown)); err != nil {
			t.Fatal(err)
		}
		if s.current != nil {
			t.Fatal("an unknown table is current")
		}
		known := st
		known.ID = uint64(100000 + i)
		if err := s.stickTable(defineMsg(t, &known)); err != nil {
			t.Fatal(err)
		}
		if s.current == nil || s.current.local != n.tables[0] {
			t.Fatal("the local table is not current")
		}
	}
	if len(s.remote) > len(n.tables) {
		t.Fatalf("%d remote definitions kept for %d local tables", len(s.remote), len(n.tables))
	}
}

// dialAs opens a session with node n as its remote peer name.
func dialAs(t *testing.T, n *Node, name string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", n.Addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(AppendHello(nil, Hello{Major: Major, Minor: Minor, Remote: n.Local, Local: name, PID: 1, RelPID: 1})); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	if st, err := ReadStatus(r); err != nil || st != StatusOK {
		t.Fatalf("status %d, %v", st, err)
	}
	return c, r
}

// TestResyncRequestsCoalesce: a burst of resync requests (2 bytes each)
// does not make the node send its tables once per request.
func TestResyncRequestsCoalesce(t *testing.T) {
	ports := testenv.FreePorts(t, 2)
	a, ta := meshNode(t, "a", ports)
	for i := range 3000 {
		ta.Set(ta.Get([]byte{10, 3, byte(i >> 8), byte(i)}), sticktable.GPC0, 1)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	c, r := dialAs(t, a, "b")
	var burst []byte
	for range 200 {
		burst = AppendMessage(burst, ClassControl, CtrlResyncReq, nil)
	}
	if _, err := c.Write(burst); err != nil {
		t.Fatal(err)
	}
	finished, total := 0, 0
	for {
		c.SetReadDeadline(time.Now().Add(time.Second))
		m, err := ReadMessage(r, MaxMessage)
		if err != nil {
			break // silence: everything was sent
		}
		total += len(m.Data) + 2
		if m.Class == ClassControl && m.Type == CtrlResyncFinished {
			finished++
		}
	}
	if finished < 1 || finished > 2 {
		t.Fatalf("%d ResyncFinished for 200 requests (%d bytes sent)", finished, total)
	}
}

func sessionCount(n *Node) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.sessions)
}

// TestOneSessionPerPeer: connections claiming the same peer name replace
// each other (the older is closed), leaving one session.
func TestOneSessionPerPeer(t *testing.T) {
	ports := testenv.FreePorts(t, 2)
	a, _ := meshNode(t, "a", ports)
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	var conns []net.Conn
	for range 30 {
		c, _ := dialAs(t, a, "b")
		conns = append(conns, c)
	}
	if err := testenv.Until(3*time.Second, 10*time.Millisecond, func() error {
		if k := sessionCount(a); k != 1 {
			return fmt.Errorf("%d sessions for one peer", k)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// the node closed every connection but the one it keeps
	buf := make([]byte, 64<<10)
	open := 0
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			if _, err := c.Read(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					open++
				}
				break
			}
		}
	}
	if open != 1 {
		t.Fatalf("%d of %d connections for one peer left open", open, len(conns))
	}
}

// TestTwoNodesKeepOneSession: two nodes dialing each other settle on one
// connection between them (the one dialed by "a"), so each change is
// sent once.
func TestTwoNodesKeepOneSession(t *testing.T) {
	ports := testenv.FreePorts(t, 2)
	a, _ := meshNode(t, "a", ports)
	b, _ := meshNode(t, "b", ports)
	ctx := context.Background()
	for _, nd := range []*Node{b, a} {
		if err := nd.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer nd.Stop()
	}
	// past a reconnect round of both connect loops
	time.Sleep(reconnectAfter + time.Second)
	for _, nd := range []*Node{a, b} {
		if k := sessionCount(nd); k != 1 {
			t.Fatalf("node %s: %d sessions with its one peer", nd.Local, k)
		}
	}
	a.mu.Lock()
	sa := a.byPeer["b"]
	a.mu.Unlock()
	b.mu.Lock()
	sb := b.byPeer["a"]
	b.mu.Unlock()
	if sa.c.LocalAddr().String() != sb.c.RemoteAddr().String() || !sa.out || sb.out {
		t.Fatalf("a keeps %v->%v (out %v), b keeps %v->%v (out %v)", sa.c.LocalAddr(), sa.c.RemoteAddr(), sa.out, sb.c.LocalAddr(), sb.c.RemoteAddr(), sb.out)
	}
}
