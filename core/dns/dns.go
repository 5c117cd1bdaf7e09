// Package dns is the minimal DNS client of run-time server resolution
// (HAProxy 2.6's resolvers sections): A or AAAA queries over UDP (or TCP
// for tcp@ nameservers) to the configured nameservers, with HAProxy's tries, timeouts and answer
// statuses. Messages are built and parsed with x/net/dns/dnsmessage.
package dns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Status is a resolution's outcome, as HAProxy's RSLV_STATUS_*.
type Status uint8

const (
	StatusNone    Status = iota // not resolved yet
	StatusValid                 // an answer (possibly without a usable address)
	StatusNX                    // the name does not exist
	StatusRefused               // the nameservers refused to answer
	StatusTimeout               // no answer within the tries
	StatusOther                 // anything else: SERVFAIL, truncated, malformed
)

func (s Status) String() string {
	return [...]string{"none", "valid", "nx", "refused", "timeout", "other"}[s]
}

// Answer is what one resolution found.
type Answer struct {
	Status Status
	Addrs  []netip.Addr // the answer's A or AAAA records, in order
	TTL    uint32       // the smallest TTL of Addrs
	From   string       // the nameserver ID that answered

	truncated bool // the TC bit was set: counted as truncated, not other
}

// Nameserver is one server queried, with its counters.
type Nameserver struct {
	ID    string
	Addr  netip.AddrPort
	TCP   bool   // tcp@: DNS over TCP, one connection per query
	Stats *Stats // nil: not counted
}

// Stats are a nameserver's counters, HAProxy's `show resolvers` columns.
type Stats struct {
	Sent, SndError, Valid, Update, CNAME, CNAMEError, AnyErr, NX, Timeout,
	Refused, Other, Invalid, TooBig, Truncated, Outdated atomic.Int64
}

func (n *Nameserver) count(f func(*Stats)) {
	if n.Stats != nil {
		f(n.Stats)
	}
}

// Client queries nameservers with HAProxy's try logic: each try sends
// the query to every nameserver and waits Retry for a usable answer;
// Retries tries in all.
type Client struct {
	Servers     []Nameserver
	Retry       time.Duration
	Retries     int
	PayloadSize int // EDNS0 UDP size advertised (accepted_payload_size)

	udp udpTransport
}

// Resolve resolves name, the preferred family's records first and the
// other's when the answer holds none (HAProxy switches the query type
// the same way).
func (c *Client) Resolve(ctx context.Context, name string, preferV4 bool) Answer {
	first, second := dnsmessage.TypeAAAA, dnsmessage.TypeA
	if preferV4 {
		first, second = second, first
	}
	a := c.Query(ctx, name, first)
	if a.Status == StatusValid && len(a.Addrs) == 0 {
		return c.Query(ctx, name, second)
	}
	return a
}

// Query runs one resolution of name for records of type t. Each try
// has a fresh ID, so a late answer to an earlier try counts as outdated.
func (c *Client) Query(ctx context.Context, name string, t dnsmessage.Type) Answer {
	q, err := dnsmessage.NewName(fqdn(name))
	if err != nil {
		return Answer{Status: StatusOther}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	replies := make(chan reply, 16)
	tries := max(c.Retries, 1)
	last := Answer{Status: StatusTimeout}
	for try := 0; try < tries && ctx.Err() == nil; try++ {
		a, ok := c.try(ctx, q, t, replies)
		if ok || a.Status == StatusOther && a.From == "" {
			return a
		}
		if a.Status != StatusNone {
			last = a
			continue
		}
		for i := range c.Servers {
			c.Servers[i].count(func(s *Stats) { s.Timeout.Add(1) })
		}
	}
	return last
}

// try sends the query to every nameserver under a fresh ID and waits
// Retry for the answers. A StatusOther without From is a local failure.
func (c *Client) try(ctx context.Context, q dnsmessage.Name, t dnsmessage.Type, replies chan reply) (Answer, bool) {
	id, err := c.register(replies)
	if err != nil {
		return Answer{Status: StatusOther}, false
	}
	defer c.unregister(id)
	msg, err := BuildQuery(id, q, t, c.PayloadSize)
	if err != nil {
		return Answer{Status: StatusOther}, false
	}
	deadline := time.Now().Add(c.Retry)
	for i := range c.Servers {
		c.send(ctx, &c.Servers[i], msg, deadline, replies)
	}
	return c.await(ctx, replies, deadline, id, q, t)
}

// reply is a message a nameserver sent.
type reply struct {
	ns  *Nameserver
	msg []byte
}

// send sends the query to one nameserver: a UDP datagram, or over a TCP
// connection of its own whose answer comes back as a reply.
func (c *Client) send(ctx context.Context, ns *Nameserver, msg []byte, deadline time.Time, replies chan<- reply) {
	if !ns.TCP {
		conn, err := c.conn(ns)
		if err == nil {
			_, err = conn.Write(msg)
		}
		if err != nil {
			ns.count(func(s *Stats) { s.SndError.Add(1) })
		} else {
			ns.count(func(s *Stats) { s.Sent.Add(1) })
		}
		return
	}
	go func() {
		out, err := exchangeTCP(ctx, ns.Addr, msg, deadline)
		if err != nil {
			ns.count(func(s *Stats) { s.SndError.Add(1) })
			return
		}
		ns.count(func(s *Stats) { s.Sent.Add(1) })
		select {
		case replies <- reply{ns: ns, msg: out}:
		case <-ctx.Done():
		}
	}()
}

// exchangeTCP sends msg with its two-byte length (RFC 1035 4.2.2) and
// reads the answer, all before deadline.
func exchangeTCP(ctx context.Context, addr netip.AddrPort, msg []byte, deadline time.Time) ([]byte, error) {
	d := net.Dialer{Deadline: deadline}
	c, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if _, err := c.Write(append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...)); err != nil {
		return nil, err
	}
	var n [2]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return nil, err
	}
	out := make([]byte, int(n[0])<<8|int(n[1]))
	_, err = io.ReadFull(c, out)
	return out, err
}

// await reads replies until deadline. ok is false when none was final;
// a then holds the last error status seen (or StatusNone).
func (c *Client) await(ctx context.Context, replies <-chan reply, deadline time.Time, id uint16, q dnsmessage.Name, t dnsmessage.Type) (a Answer, ok bool) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		var r reply
		select {
		case r = <-replies:
		case <-timer.C:
			return a, false
		case <-ctx.Done():
			return a, false
		}
		ns := r.ns
		got, err := ParseResponse(r.msg, id, q, t)
		if err != nil {
			ns.count(func(s *Stats) { s.Outdated.Add(1) }) // an earlier query's, or garbage
			continue
		}
		got.From = ns.ID
		if got.truncated {
			ns.count(func(s *Stats) { s.Truncated.Add(1) })
		} else {
			ns.count(got.Status.count)
		}
		switch got.Status {
		case StatusValid, StatusNX:
			return got, true
		}
		a = got // REFUSED, SERVFAIL...: another nameserver may answer
	}
}

// count adds an answer of this status to a nameserver's counters.
func (s Status) count(st *Stats) {
	switch s {
	case StatusValid:
		st.Valid.Add(1)
		return
	case StatusNX:
		st.NX.Add(1)
	case StatusRefused:
		st.Refused.Add(1)
	default:
		st.Other.Add(1)
	}
	st.AnyErr.Add(1)
}

func fqdn(name string) string {
	if strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

// BuildQuery is a recursive query for q of type t with an EDNS0 record
// advertising payload bytes when above 512.
func BuildQuery(id uint16, q dnsmessage.Name, t dnsmessage.Type, payload int) ([]byte, error) {
	b := dnsmessage.NewBuilder(make([]byte, 0, 64), dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(dnsmessage.Question{Name: q, Type: t, Class: dnsmessage.ClassINET}); err != nil {
		return nil, err
	}
	if payload > 512 {
		if err := b.StartAdditionals(); err != nil {
			return nil, err
		}
		var rh dnsmessage.ResourceHeader
		if err := rh.SetEDNS0(payload, dnsmessage.RCodeSuccess, false); err != nil {
			return nil, err
		}
		if err := b.OPTResource(rh, dnsmessage.OPTResource{}); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

var errNotOurs = errors.New("dns: not the answer to the query")

// ParseResponse reads a response to query id for q of type t. The error
// is for a message that does not answer the query (ignored); a
// malformed answer to it is StatusOther. Only records of type t whose
// owner is q (or the end of a CNAME chain from it) count.
func ParseResponse(msg []byte, id uint16, q dnsmessage.Name, t dnsmessage.Type) (Answer, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return Answer{}, fmt.Errorf("dns: %w", err)
	}
	if !h.Response || h.ID != id {
		return Answer{}, errNotOurs
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) != 1 || qs[0].Type != t || !strings.EqualFold(qs[0].Name.String(), q.String()) {
		return Answer{}, errNotOurs
	}
	switch {
	case h.Truncated:
		return Answer{Status: StatusOther, truncated: true}, nil
	case h.RCode == dnsmessage.RCodeNameError:
		return Answer{Status: StatusNX}, nil
	case h.RCode == dnsmessage.RCodeRefused:
		return Answer{Status: StatusRefused}, nil
	case h.RCode != dnsmessage.RCodeSuccess:
		return Answer{Status: StatusOther}, nil
	}
	return parseAnswers(&p, q, t)
}

// parseAnswers collects the addresses of the answer section.
func parseAnswers(p *dnsmessage.Parser, q dnsmessage.Name, t dnsmessage.Type) (Answer, error) {
	a := Answer{Status: StatusValid}
	owner := strings.ToLower(q.String())
	for {
		h, err := p.AnswerHeader()
		if err == dnsmessage.ErrSectionDone {
			return a, nil
		}
		if err != nil {
			return Answer{Status: StatusOther}, nil
		}
		name := strings.ToLower(h.Name.String())
		switch {
		case h.Type == dnsmessage.TypeCNAME && name == owner:
			r, err := p.CNAMEResource()
			if err != nil {
				return Answer{Status: StatusOther}, nil
			}
			owner = strings.ToLower(r.CNAME.String())
		case h.Type == t && name == owner:
			ip, err := addrOf(p, t)
			if err != nil {
				return Answer{Status: StatusOther}, nil
			}
			a.add(ip, h.TTL)
		default:
			if err := p.SkipAnswer(); err != nil {
				return Answer{Status: StatusOther}, nil
			}
		}
	}
}

func addrOf(p *dnsmessage.Parser, t dnsmessage.Type) (netip.Addr, error) {
	if t == dnsmessage.TypeA {
		r, err := p.AResource()
		return netip.AddrFrom4(r.A), err
	}
	r, err := p.AAAAResource()
	return netip.AddrFrom16(r.AAAA), err
}

// add appends ip once (a duplicate record is one address).
func (a *Answer) add(ip netip.Addr, ttl uint32) {
	for _, o := range a.Addrs {
		if o == ip {
			return
		}
	}
	if len(a.Addrs) == 0 || ttl < a.TTL {
		a.TTL = ttl
	}
	a.Addrs = append(a.Addrs, ip)
}
