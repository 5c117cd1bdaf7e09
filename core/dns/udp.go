package dns

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
)

// MaxPending bounds the queries a client has in flight at once: a query
// beyond it fails at once (StatusOther) instead of growing the table.
const MaxPending = 1024

// udpTransport is a client's UDP sockets, one per nameserver, connected
// to it (so the kernel drops datagrams from anyone else, as HAProxy's
// connected sockets do) and kept until Close; one reader goroutine per
// socket hands each datagram to the query whose ID it carries.
type udpTransport struct {
	mu      sync.Mutex
	closed  bool
	conns   map[*Nameserver]*net.UDPConn
	pending map[uint16]chan<- reply
	wg      sync.WaitGroup
}

var errClosed = errors.New("dns: client closed")

// Close closes the client's UDP sockets and waits for their readers;
// queries after it fail (StatusOther). A resolvers section closes its
// client with its generation.
func (c *Client) Close() error {
	t := &c.udp
	t.mu.Lock()
	t.closed = true
	for _, conn := range t.conns {
		conn.Close()
	}
	t.conns = nil
	t.mu.Unlock()
	t.wg.Wait()
	return nil
}

// register gives a query a fresh ID no other query in flight holds;
// its replies go to ch until unregister.
func (c *Client) register(ch chan<- reply) (uint16, error) {
	t := &c.udp
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return 0, errClosed
	}
	if len(t.pending) >= MaxPending {
		return 0, fmt.Errorf("dns: %d queries in flight", len(t.pending))
	}
	if t.pending == nil {
		t.pending = map[uint16]chan<- reply{}
	}
	for {
		id := uint16(rand.Uint32())
		if _, taken := t.pending[id]; !taken {
			t.pending[id] = ch
			return id, nil
		}
	}
}

func (c *Client) unregister(id uint16) {
	c.udp.mu.Lock()
	delete(c.udp.pending, id)
	c.udp.mu.Unlock()
}

// conn is the nameserver's socket, opened (with its reader) on first use.
func (c *Client) conn(ns *Nameserver) (*net.UDPConn, error) {
	t := &c.udp
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errClosed
	}
	if conn := t.conns[ns]; conn != nil {
		return conn, nil
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ns.Addr))
	if err != nil {
		return nil, fmt.Errorf("dns: nameserver %s: %w", ns.ID, err)
	}
	if t.conns == nil {
		t.conns = map[*Nameserver]*net.UDPConn{}
	}
	t.conns[ns] = conn
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		c.readUDP(conn, ns)
	}()
	return conn, nil
}

// readUDP passes the nameserver's datagrams to their queries until the
// socket closes, counting as HAProxy does (resolv_process_responses): a
// datagram above the accepted payload size is too big, one without an
// ID invalid, one for no query in flight outdated.
func (c *Client) readUDP(conn *net.UDPConn, ns *Nameserver) {
	limit := c.payload()
	buf := make([]byte, limit+1)
	for {
		n, err := conn.Read(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue // ICMP unreachable reported on the connected socket
		}
		switch {
		case n > limit:
			ns.count(func(s *Stats) { s.TooBig.Add(1) })
			continue
		case n < 2:
			ns.count(func(s *Stats) { s.Invalid.Add(1) })
			continue
		}
		id := uint16(buf[0])<<8 | uint16(buf[1])
		c.udp.mu.Lock()
		ch := c.udp.pending[id]
		c.udp.mu.Unlock()
		if ch == nil {
			ns.count(func(s *Stats) { s.Outdated.Add(1) })
			continue
		}
		select {
		case ch <- reply{ns: ns, msg: append([]byte(nil), buf[:n]...)}:
		default: // the query has all it can use
		}
	}
}

// payload is the largest UDP answer accepted (accepted_payload_size;
// 512 without EDNS0).
func (c *Client) payload() int {
	return max(c.PayloadSize, 512)
}
