package dns_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/dns"
	"github.com/varde-lb/varde/core/dns/dnstest"
	"github.com/varde-lb/varde/core/testenv"
)

// TestTruncatedAndTooBigCounted: an answer with the TC bit counts as
// truncated (not other) and one above the accepted payload size as too
// big, as HAProxy's resolv_process_responses.
func TestTruncatedAndTooBigCounted(t *testing.T) {
	srv, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.Set("tc.test", dnstest.Record{TC: true})
	var many []string
	for i := 0; i < 60; i++ {
		many = append(many, fmt.Sprintf("10.1.0.%d", i+1))
	}
	srv.SetAddrs("big.test", many...)
	st := &dns.Stats{}
	c := &dns.Client{Servers: []dns.Nameserver{{ID: "ns1", Addr: srv.Addr(), Stats: st}}, Retry: 50 * time.Millisecond, Retries: 2}
	defer c.Close()
	if a := c.Resolve(context.Background(), "tc.test", true); a.Status != dns.StatusOther {
		t.Errorf("tc.test: %v, want other", a.Status)
	}
	if st.Truncated.Load() != 2 || st.Other.Load() != 0 {
		t.Errorf("truncated %d other %d, want 2 and 0", st.Truncated.Load(), st.Other.Load())
	}
	if a := c.Resolve(context.Background(), "big.test", true); a.Status != dns.StatusTimeout {
		t.Errorf("big.test (60 A records, payload 512): %v, want timeout", a.Status)
	}
	if st.TooBig.Load() != 2 {
		t.Errorf("too big %d, want 2", st.TooBig.Load())
	}
}

// TestOneSocketPerNameserver: queries share the nameserver's socket (one
// fd however many queries), and Close gives back the sockets and reader
// goroutines of 50 clients (a resolvers section per reload).
func TestOneSocketPerNameserver(t *testing.T) {
	srv, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.SetAddrs("a.test", "10.0.0.1")
	fds0, g0 := openFDs(t), runtime.NumGoroutine()
	for gen := 0; gen < 50; gen++ {
		c := &dns.Client{Servers: []dns.Nameserver{{ID: "ns1", Addr: srv.Addr()}, {ID: "ns2", Addr: srv.Addr()}}, Retry: time.Second, Retries: 1}
		for i := 0; i < 5; i++ {
			if a := c.Resolve(context.Background(), "a.test", true); a.Status != dns.StatusValid {
				t.Fatalf("generation %d query %d: %v", gen, i, a.Status)
			}
		}
		if gen == 0 {
			if n := openFDs(t) - fds0; n != 2 {
				t.Fatalf("%d sockets for 2 nameservers after 5 queries", n)
			}
		}
		c.Close()
		if a := c.Resolve(context.Background(), "a.test", true); a.Status != dns.StatusOther {
			t.Fatalf("a closed client answered %v", a.Status)
		}
	}
	err = testenv.Until(2*time.Second, 10*time.Millisecond, func() error {
		if fds, g := openFDs(t), runtime.NumGoroutine(); fds > fds0 || g > g0 {
			return fmt.Errorf("after 50 closed clients: fds %d (was %d), goroutines %d (was %d)", fds, fds0, g, g0)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(ents)
}
