package proxy

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
)

// countingBackend answers every request with a fixed response and counts
// the requests it saw.
func countingBackend(tb testing.TB, n *atomic.Int64) string {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello world\n")
	return rawServer(tb, func(c net.Conn) {
		buf := make([]byte, 8192)
		k := 0
		for {
			m, err := c.Read(buf[k:])
			if err != nil {
				return
			}
			k += m
			for {
				i := bytes.Index(buf[:k], []byte("\r\n\r\n"))
				if i < 0 {
					break
				}
				n.Add(1)
				if _, err := c.Write(resp); err != nil {
					return
				}
				copy(buf, buf[i+4:k])
				k -= i + 4
			}
		}
	})
}

// TestSetAddressMovesKeepAliveTraffic: after core.Server.SetAddress, no
// request reaches the old address — neither through the pool nor through
// the connection a keep-alive client session kept — and the per-server
// meters count the responses (run with -race: clients and address changes
// run concurrently).
func TestSetAddressMovesKeepAliveTraffic(t *testing.T) {
	var oldHits, otherHits, newHits atomic.Int64
	old, other, moved := countingBackend(t, &oldHits), countingBackend(t, &otherHits), countingBackend(t, &newHits)
	e, addr := startEngine(t, simpleConfig(old, other))
	clients := []*rawClient{newRawClient(t, addr), newRawClient(t, addr), newRawClient(t, addr)}
	for _, rc := range clients {
		for i := 0; i < 10; i++ {
			rc.do(t)
		}
	}
	s1 := e.Backend("be").Servers()[0]
	if s1.Meters.HTTPReq.Load() == 0 || s1.Meters.Resp[2].Load() != s1.Meters.HTTPReq.Load() {
		t.Fatalf("s1 meters: %d responses, %d 2xx", s1.Meters.HTTPReq.Load(), s1.Meters.Resp[2].Load())
	}
	var wg sync.WaitGroup
	for _, rc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				rc.do(t)
			}
		}()
	}
	s1.SetAddress(netip.MustParseAddrPort(moved))
	wg.Wait()
	before := oldHits.Load()
	for _, rc := range clients {
		for i := 0; i < 10; i++ {
			rc.do(t)
		}
	}
	if got := oldHits.Load() - before; got != 0 {
		t.Errorf("%d requests reached the old address after the change settled", got)
	}
	if newHits.Load() == 0 {
		t.Errorf("no request reached the new address")
	}
	if s1.Address().String() != moved {
		t.Errorf("Address() = %v, want %s", s1.Address(), moved)
	}
}
