// Package dnstest is a DNS server on loopback for tests: it answers A and
// AAAA queries from records the test sets and changes while it runs.
package dnstest

import (
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/net/dns/dnsmessage"
)

// Record is what the server answers for one name.
type Record struct {
	Addrs []netip.Addr     // A and AAAA records, answered by type
	RCode dnsmessage.RCode // non-zero: answer with this code and no records
	Drop  bool             // do not answer (a timeout)
	TC    bool             // set the truncation bit (TC) of the answer
}

// Server is a UDP DNS server on 127.0.0.1.
type Server struct {
	conn    *net.UDPConn
	tcp     net.Listener
	mu      sync.Mutex
	records map[string]Record
	Queries atomic.Int64
	done    chan struct{}
}

// Start listens on a free loopback port. Unknown names answer NXDOMAIN.
func Start() (*Server, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.Close()
		return nil, err
	}
	s := &Server{conn: c, tcp: tl, records: map[string]Record{}, done: make(chan struct{})}
	go s.serve()
	go s.serveTCP()
	return s, nil
}

// TCPAddr is the server's DNS-over-TCP address.
func (s *Server) TCPAddr() netip.AddrPort { return s.tcp.Addr().(*net.TCPAddr).AddrPort() }

// serveTCP answers length-prefixed queries, one connection at a time
// each in its goroutine, until Close.
func (s *Server) serveTCP() {
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			var n [2]byte
			for {
				if _, err := io.ReadFull(c, n[:]); err != nil {
					return
				}
				msg := make([]byte, int(n[0])<<8|int(n[1]))
				if _, err := io.ReadFull(c, msg); err != nil {
					return
				}
				out := s.answer(msg)
				if out == nil {
					continue
				}
				c.Write(append([]byte{byte(len(out) >> 8), byte(len(out))}, out...))
			}
		}()
	}
}

// Addr is the server's address, for a nameserver line.
func (s *Server) Addr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Set replaces the answer for name.
func (s *Server) Set(name string, r Record) {
	s.mu.Lock()
	s.records[key(name)] = r
	s.mu.Unlock()
}

// SetAddrs answers name with addrs (as strings).
func (s *Server) SetAddrs(name string, addrs ...string) {
	var r Record
	for _, a := range addrs {
		r.Addrs = append(r.Addrs, netip.MustParseAddr(a))
	}
	s.Set(name, r)
}

// Close stops the server.
func (s *Server) Close() {
	s.tcp.Close()
	s.conn.Close()
	<-s.done
}

func key(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

func (s *Server) serve() {
	defer close(s.done)
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if out := s.answer(buf[:n]); out != nil {
			s.conn.WriteToUDPAddrPort(out, from)
		}
	}
}

func (s *Server) answer(msg []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	s.Queries.Add(1)
	s.mu.Lock()
	r, ok := s.records[key(q.Name.String())]
	s.mu.Unlock()
	if r.Drop {
		return nil
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true, Authoritative: true, Truncated: r.TC}
	switch {
	case !ok:
		rh.RCode = dnsmessage.RCodeNameError
	case r.RCode != 0:
		rh.RCode = r.RCode
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	if rh.RCode == 0 {
		for _, a := range r.Addrs {
			hdr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 1}
			switch {
			case a.Is4() && q.Type == dnsmessage.TypeA:
				b.AResource(hdr, dnsmessage.AResource{A: a.As4()})
			case a.Is6() && q.Type == dnsmessage.TypeAAAA:
				b.AAAAResource(hdr, dnsmessage.AAAAResource{AAAA: a.As16()})
			}
		}
	}
	out, _ := b.Finish()
	return out
}
