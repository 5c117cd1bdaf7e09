package agent

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/health"
)

func TestCheckSendsAndReadsOneLine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- line
		fmt.Fprint(c, "75% drain\nignored second line\n")
	}()
	p := Probe{Send: "hello\n"}
	r := p.Check(context.Background(), health.Target{Addr: netip.MustParseAddrPort(l.Addr().String()), Timeout: 2 * time.Second})
	if !r.OK || r.Info != "75% drain" {
		t.Fatalf("got %+v", r)
	}
	if s := <-got; s != "hello\n" {
		t.Fatalf("agent received %q", s)
	}
}
