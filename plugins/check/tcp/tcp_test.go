package tcp

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/health"
)

func TestCheck(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := netip.MustParseAddrPort(l.Addr().String())
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	r := Probe{}.Check(context.Background(), health.Target{Addr: open, Timeout: time.Second})
	if !r.OK || r.Status != "L4OK" {
		t.Fatalf("open port: %+v", r)
	}
	l.Close()
	r = Probe{}.Check(context.Background(), health.Target{Addr: open, Timeout: time.Second})
	if r.OK || r.Status != "L4CON" || r.Info != "Connection refused" {
		t.Fatalf("closed port: %+v", r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = Probe{}.Check(ctx, health.Target{Addr: open, Timeout: time.Second})
	if r.OK {
		t.Fatalf("cancelled context: %+v", r)
	}
}
