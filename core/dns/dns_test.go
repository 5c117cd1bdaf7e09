package dns_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/varde-lb/varde/core/dns"
	"github.com/varde-lb/varde/core/dns/dnstest"
)

// TestResolve runs the client against a real DNS server on loopback.
func TestResolve(t *testing.T) {
	srv, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.SetAddrs("both.test", "10.0.0.1", "10.0.0.2", "fd00::1")
	srv.SetAddrs("v4.test", "10.0.0.3")
	srv.Set("refused.test", dnstest.Record{RCode: dnsmessage.RCodeRefused})
	srv.Set("fail.test", dnstest.Record{RCode: dnsmessage.RCodeServerFailure})
	srv.Set("silent.test", dnstest.Record{Drop: true})
	c := &dns.Client{Servers: []dns.Nameserver{{ID: "ns1", Addr: srv.Addr()}}, Retry: 100 * time.Millisecond, Retries: 2, PayloadSize: 1232}
	cases := []struct {
		name     string
		preferV4 bool
		status   dns.Status
		addrs    []string
	}{
		{"both.test", true, dns.StatusValid, []string{"10.0.0.1", "10.0.0.2"}},
		{"both.test", false, dns.StatusValid, []string{"fd00::1"}},
		{"v4.test", false, dns.StatusValid, []string{"10.0.0.3"}}, // AAAA empty: falls back to A
		{"BOTH.test.", true, dns.StatusValid, []string{"10.0.0.1", "10.0.0.2"}},
		{"nx.test", true, dns.StatusNX, nil},
		{"refused.test", true, dns.StatusRefused, nil},
		{"fail.test", true, dns.StatusOther, nil},
		{"silent.test", true, dns.StatusTimeout, nil},
	}
	for _, tc := range cases {
		a := c.Resolve(context.Background(), tc.name, tc.preferV4)
		var got []string
		for _, ip := range a.Addrs {
			got = append(got, ip.String())
		}
		if a.Status != tc.status || !slices.Equal(got, tc.addrs) {
			t.Errorf("%s (v4 %v): got %v %v, want %v %v", tc.name, tc.preferV4, a.Status, got, tc.status, tc.addrs)
		}
		if a.Status == dns.StatusValid && a.From != "ns1" {
			t.Errorf("%s: answered by %q", tc.name, a.From)
		}
	}
}

// TestResolveTCP: a tcp@ nameserver answers over its own connection.
func TestResolveTCP(t *testing.T) {
	srv, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.SetAddrs("v4.test", "10.0.0.3")
	st := &dns.Stats{}
	c := &dns.Client{Servers: []dns.Nameserver{{ID: "tcp", Addr: srv.TCPAddr(), TCP: true, Stats: st}}, Retry: 500 * time.Millisecond, Retries: 2}
	a := c.Resolve(context.Background(), "v4.test", false)
	if a.Status != dns.StatusValid || len(a.Addrs) != 1 || a.Addrs[0].String() != "10.0.0.3" || a.From != "tcp" {
		t.Fatalf("got %+v", a)
	}
	if a := c.Resolve(context.Background(), "nx.test", true); a.Status != dns.StatusNX {
		t.Fatalf("nx.test: %v", a.Status)
	}
	if st.Sent.Load() != 3 || st.Valid.Load() != 2 || st.NX.Load() != 1 {
		t.Fatalf("counters sent %d valid %d nx %d", st.Sent.Load(), st.Valid.Load(), st.NX.Load())
	}
}

// TestForeignAnswersIgnored: an answer from an address that is not a
// configured nameserver does not count (the try times out).
func TestForeignAnswersIgnored(t *testing.T) {
	srv, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.SetAddrs("a.test", "10.0.0.1")
	other := netip.AddrPortFrom(srv.Addr().Addr(), srv.Addr().Port()+1)
	c := &dns.Client{Servers: []dns.Nameserver{{ID: "x", Addr: other}}, Retry: 50 * time.Millisecond, Retries: 1}
	if a := c.Resolve(context.Background(), "a.test", true); a.Status != dns.StatusTimeout {
		t.Fatalf("got %v from a nameserver nobody runs", a.Status)
	}
}

// FuzzParseResponse: no input panics, and whatever is accepted as valid
// holds only addresses of the queried family.
func FuzzParseResponse(f *testing.F) {
	q := dnsmessage.MustNewName("a.test.")
	for _, tt := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 7, Response: true})
		b.StartQuestions()
		b.Question(dnsmessage.Question{Name: q, Type: tt, Class: dnsmessage.ClassINET})
		b.StartAnswers()
		hdr := dnsmessage.ResourceHeader{Name: q, Class: dnsmessage.ClassINET, TTL: 5}
		b.CNAMEResource(hdr, dnsmessage.CNAMEResource{CNAME: q})
		b.AResource(hdr, dnsmessage.AResource{A: [4]byte{1, 2, 3, 4}})
		b.AAAAResource(hdr, dnsmessage.AAAAResource{AAAA: [16]byte{15: 1}})
		msg, _ := b.Finish()
		f.Add(msg, uint8(tt))
	}
	f.Fuzz(func(t *testing.T, msg []byte, typ uint8) {
		tt := dnsmessage.TypeA
		if typ%2 == 0 {
			tt = dnsmessage.TypeAAAA
		}
		a, err := dns.ParseResponse(msg, 7, q, tt)
		if err != nil {
			return
		}
		for _, ip := range a.Addrs {
			if ip.Is4() != (tt == dnsmessage.TypeA) {
				t.Fatalf("%v answer holds %v", tt, ip)
			}
		}
		if a.Status != dns.StatusValid && len(a.Addrs) > 0 {
			t.Fatalf("status %v with addresses", a.Status)
		}
	})
}
